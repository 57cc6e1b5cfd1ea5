package pubsub

import (
	"context"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
)

func TestPublishIsReceived(t *testing.T) {
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	// Twice: a restarted local stack ensures it again.
	for range 2 {
		if err := a.EnsurePullSubscription(ctx, "events-pull", "events"); err != nil {
			t.Fatalf("EnsurePullSubscription: %v", err)
		}
	}
	if err := a.EnsureTopic(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := a.EnsurePullSubscription(ctx, "events-pull", "other"); err == nil {
		t.Error("EnsurePullSubscription of another topic = nil, want an error")
	}
	sub := subscriptionName(a.project, "events-pull")
	p := newTestPublisher(t, ctx, a, "events")

	wantData := []byte(`{"hello":"world"}`)
	wantAttrs := map[string]string{"tenant_id": "acme", "event_id": "evt_1", "event_type": "user.created"}
	id, err := p.Publish(ctx, wantData, wantAttrs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if id == "" {
		t.Fatal("Publish returned an empty message ID")
	}

	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var (
		once sync.Once
		got  *sdk.Message
	)
	err = a.client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *sdk.Message) {
		m.Ack()
		once.Do(func() { got = m; cancel() })
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if got == nil {
		t.Fatal("no message received within 30 s")
	}
	if got.ID != id {
		t.Errorf("received ID = %q, want %q", got.ID, id)
	}
	if string(got.Data) != string(wantData) {
		t.Errorf("received data = %q, want %q", got.Data, wantData)
	}
	if !maps.Equal(got.Attributes, wantAttrs) {
		t.Errorf("received attributes = %v, want %v", got.Attributes, wantAttrs)
	}
}

func TestPublishToMissingTopicFailsFast(t *testing.T) {
	ctx, a := newTestAdmin(t)
	p := newTestPublisher(t, ctx, a, "not-yet")

	start := time.Now()
	_, err := p.Publish(ctx, []byte("x"), nil)
	if got, want := status.Code(err), codes.NotFound; got != want {
		t.Fatalf("Publish(missing topic) code = %v (err %v), want %v", got, err, want)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Publish(missing topic) took %v, want an answer without retrying", d)
	}

	// The failure must not poison the publisher.
	if err := a.EnsureTopic(ctx, "not-yet"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if id, err := p.Publish(ctx, []byte("y"), nil); err != nil || id == "" {
		t.Errorf("Publish after topic exists = %q, %v; want an ID", id, err)
	}
}

func TestPublishConcurrent(t *testing.T) {
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	p := newTestPublisher(t, ctx, a, "events")
	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = p.Publish(ctx, []byte{byte(i)}, nil) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Publish %d: %v", i, errs[i])
			continue
		}
		if seen[ids[i]] {
			t.Errorf("Publish %d: duplicate ID %q", i, ids[i])
		}
		seen[ids[i]] = true
	}
}

// Messages started together from one goroutine share the publisher's
// batches, as concurrent publishes do: a batch of ingest's events is
// sent in one or two Publish calls, not one each.
func TestStartedMessagesShareBatches(t *testing.T) {
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	var calls atomic.Int32
	count := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/Publish") {
			calls.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
	// A batching delay long enough that the race detector on a loaded
	// machine starts every message within it.
	p, err := NewPublisher(ctx, Config{ProjectID: a.project, Topic: "events", PublishTimeout: 5 * time.Second, DelayThreshold: 200 * time.Millisecond}, option.WithGRPCDialOption(count))
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	defer p.Close()
	const n = 50
	waits := make([]func() (string, error), n)
	for i := range waits {
		waits[i] = p.Start(ctx, []byte{byte(i)}, nil)
	}
	seen := map[string]bool{}
	for i, wait := range waits {
		id, err := wait()
		if err != nil || seen[id] {
			t.Errorf("message %d: ID %q (seen before: %v), error %v", i, id, seen[id], err)
		}
		seen[id] = true
	}
	if got := calls.Load(); got < 1 || got > 2 {
		t.Errorf("%d messages went in %d Publish calls, want 1 or 2", n, got)
	}
}

func TestPublishAfterCloseFails(t *testing.T) {
	ctx, a := newTestAdmin(t)
	p, err := NewPublisher(ctx, Config{ProjectID: a.project, Topic: "events"})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := p.Publish(ctx, []byte("x"), nil); err == nil {
		t.Error("Publish after Close = nil error, want one")
	}
}

func TestPublishWithoutServerFailsFast(t *testing.T) {
	// Connecting is refused: the SDK would retry UNAVAILABLE with backoff
	// until PublishTimeout; the publish fails at once instead.
	t.Setenv("PUBSUB_EMULATOR_HOST", testenv.RefusedAddr(t))

	ctx := context.Background()
	const timeout = 10 * time.Second
	p, err := NewPublisher(ctx, Config{ProjectID: "no-server", Topic: "events", PublishTimeout: timeout})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	defer p.Close()
	start := time.Now()
	_, err = p.Publish(ctx, []byte("x"), nil)
	if got := hookrun.ErrorCode(err); got != hookrun.CodeUnavailable {
		t.Errorf("Publish without a server = %v (code %s), want %s", err, got, hookrun.CodeUnavailable)
	}
	if d := time.Since(start); d > timeout/5 {
		t.Errorf("Publish without a server failed after %v, want well before the %v publish timeout", d, timeout)
	}
}

func TestPublishToHungServerTimesOut(t *testing.T) {
	// A server that accepts and never answers: PublishTimeout bounds it.
	t.Setenv("PUBSUB_EMULATOR_HOST", testenv.SilentAddr(t))

	ctx := context.Background()
	const timeout = time.Second
	p, err := NewPublisher(ctx, Config{ProjectID: "hung-server", Topic: "events", PublishTimeout: timeout})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	defer p.Close()
	start := time.Now()
	if _, err = p.Publish(ctx, []byte("x"), nil); err == nil {
		t.Fatal("Publish to a hung server = nil error, want one")
	}
	if d := time.Since(start); d > timeout+2*time.Second {
		t.Errorf("Publish to a hung server failed after %v, want about %v", d, timeout)
	}
}
