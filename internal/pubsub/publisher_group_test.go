package pubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
)

// publishSpy sees each publish request a Publisher sends, and holds the
// first one until released, as a slow Pub/Sub would.
type publishSpy struct {
	entered chan struct{} // closed when the first request is sent
	release chan struct{} // close to let the first request through

	mu    sync.Mutex
	sizes []int // messages per request, in the order sent
}

func newPublishSpy() *publishSpy {
	return &publishSpy{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *publishSpy) option() option.ClientOption {
	return option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if r, ok := req.(*pb.PublishRequest); ok {
			s.mu.Lock()
			s.sizes = append(s.sizes, len(r.Messages))
			first := len(s.sizes) == 1
			s.mu.Unlock()
			if first {
				close(s.entered)
				<-s.release
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}))
}

func (s *publishSpy) requests() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sizes)
}

// spiedPublisher returns a Publisher with one request outstanding at
// most, on a fresh topic, and its spy.
func spiedPublisher(t *testing.T) (context.Context, *Publisher, *publishSpy) {
	t.Helper()
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	spy := newPublishSpy()
	p, err := NewPublisher(ctx, Config{ProjectID: a.project, Topic: "events", Concurrency: 1, PublishTimeout: 10 * time.Second}, spy.option())
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return ctx, p, spy
}

// queued waits until n messages wait for a request.
func queued(t *testing.T, p *Publisher, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		got := len(p.queue)
		p.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages queued after 10 s, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// publishAll publishes n messages concurrently and returns their IDs and
// errors once all are answered.
func publishAll(ctx context.Context, p *Publisher, n int) (ids []string, errs []error, wait func()) {
	ids, errs = make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = p.Publish(ctx, fmt.Appendf(nil, "m%d", i), nil) })
	}
	return ids, errs, wg.Wait
}

func TestPublishAloneIsSentAtOnce(t *testing.T) {
	ctx, p, spy := spiedPublisher(t)
	close(spy.release)
	for range 3 {
		if _, err := p.Publish(ctx, []byte("x"), nil); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	if got, want := spy.requests(), []int{1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("messages per request = %v, want %v: a message published alone waits for no other", got, want)
	}
}

func TestPublishGroupsMessagesWhileRequestsAreOut(t *testing.T) {
	ctx, p, spy := spiedPublisher(t)
	first := make(chan error, 1)
	go func() { _, err := p.Publish(ctx, []byte("first"), nil); first <- err }()
	<-spy.entered

	// The one request allowed is out: what arrives meanwhile waits and
	// goes together, in as few requests as Pub/Sub's limit of 1,000
	// messages allows.
	const n = 1500
	ids, errs, wait := publishAll(ctx, p, n)
	queued(t, p, n)
	close(spy.release)
	wait()
	if err := <-first; err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil || ids[i] == "" || seen[ids[i]] {
			t.Fatalf("Publish %d = %q, %v; want a new message ID", i, ids[i], errs[i])
		}
		seen[ids[i]] = true
	}
	if got, want := spy.requests(), []int{1, 1000, 500}; !slices.Equal(got, want) {
		t.Errorf("messages per request = %v, want %v", got, want)
	}
}

func TestPublishGivenUpWhileQueuedIsNotSent(t *testing.T) {
	ctx, p, spy := spiedPublisher(t)
	go p.Publish(ctx, []byte("first"), nil)
	<-spy.entered

	gone, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() { _, err := p.Publish(gone, []byte("given up"), nil); gaveUp <- err }()
	queued(t, p, 1)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish whose context ended while queued = %v, want context.Canceled", err)
	}
	later := make(chan error, 1)
	go func() { _, err := p.Publish(ctx, []byte("later"), nil); later <- err }()
	queued(t, p, 2)
	close(spy.release)
	if err := <-later; err != nil {
		t.Fatalf("Publish after one given up: %v", err)
	}
	if got, want := spy.requests(), []int{1, 1}; !slices.Equal(got, want) {
		t.Errorf("messages per request = %v, want %v: the message given up on is not sent", got, want)
	}
}

func TestCloseSendsWhatIsQueued(t *testing.T) {
	ctx, p, spy := spiedPublisher(t)
	go p.Publish(ctx, []byte("first"), nil)
	<-spy.entered
	ids, errs, wait := publishAll(ctx, p, 10)
	queued(t, p, 10)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	close(spy.release)
	wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := range ids {
		if errs[i] != nil || ids[i] == "" {
			t.Errorf("Publish %d queued before Close = %q, %v; want it sent", i, ids[i], errs[i])
		}
	}
	if _, err := p.Publish(ctx, []byte("late"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

func TestTakeKeepsRequestsWithinLimits(t *testing.T) {
	msg := func(size int) *outgoing {
		data := []byte(strings.Repeat("x", size))
		return &outgoing{ctx: context.Background(), msg: &pb.PubsubMessage{Data: data}, size: messageSize(data, nil), done: make(chan struct{})}
	}
	p := &Publisher{}
	big := maxRequestBytes / 2
	p.queue = []*outgoing{msg(big - 100), msg(big - 100), msg(big), msg(maxRequestBytes + 1), msg(10)}
	var got []int
	for batch := p.take(); len(batch) > 0; batch = p.take() {
		got = append(got, len(batch))
	}
	// Two halves fit; the third would pass the limit; a message over
	// the limit goes alone, for Pub/Sub to refuse it alone.
	if want := []int{2, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("messages per request = %v, want %v", got, want)
	}

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	given := msg(1)
	given.ctx = gone
	p.queue = []*outgoing{msg(1), given, msg(1)}
	if batch := p.take(); len(batch) != 2 || slices.Contains(batch, given) {
		t.Errorf("take() = %d messages (given up on included: %v), want the 2 still awaited", len(batch), slices.Contains(batch, given))
	}
	select {
	case <-given.done:
		if !errors.Is(given.err, context.Canceled) {
			t.Errorf("the message given up on was answered %v, want context.Canceled", given.err)
		}
	default:
		t.Error("the message given up on was not answered")
	}
}
