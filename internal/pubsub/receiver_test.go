package pubsub

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

// newTestReceiver returns a Receiver of a new pull subscription on a new
// events topic, with the Publisher that feeds it.
func newTestReceiver(t *testing.T, cfg ReceiverConfig) (context.Context, *Receiver, *Publisher) {
	t.Helper()
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if err := a.EnsurePullSubscription(ctx, "events-pull", "events"); err != nil {
		t.Fatalf("EnsurePullSubscription: %v", err)
	}
	cfg.ProjectID, cfg.Subscription = a.project, "events-pull"
	if cfg.HandlerTimeout == 0 {
		cfg.HandlerTimeout = 20 * time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	r, err := NewReceiver(ctx, cfg)
	if err != nil {
		t.Fatalf("NewReceiver: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return ctx, r, newTestPublisher(t, ctx, a, "events")
}

// receive runs r.Receive with handle until the returned stop is called;
// stop returns Receive's error.
func receive(t *testing.T, ctx context.Context, r *Receiver, handle Handler) (stop func() error) {
	t.Helper()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Receive(rctx, handle) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("Receive did not return within 30 s of its context ending")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestReceiverHandsOverEnvelopesAndRedeliversErrors(t *testing.T) {
	ctx, r, p := newTestReceiver(t, ReceiverConfig{})
	wantAttrs := map[string]string{"tenant_id": "acme", "event_type": "user.created"}
	id, err := p.Publish(ctx, []byte(`{"n":1}`), wantAttrs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}

	type call struct {
		env      wire.PushEnvelope
		deadline time.Duration
	}
	calls := make(chan call, 16)
	var n int
	var mu sync.Mutex
	stop := receive(t, ctx, r, func(hctx context.Context, env *wire.PushEnvelope) error {
		d, _ := hctx.Deadline()
		calls <- call{*env, time.Until(d)}
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 1 {
			return errors.New("first call fails")
		}
		return nil
	})

	for i, what := range []string{"first call (fails: nacked)", "redelivery (acknowledged)"} {
		var c call
		select {
		case c = <-calls:
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s within 30 s", what)
		}
		env := c.env
		if env.Message.MessageID != id || string(env.Message.Data) != `{"n":1}` || !maps.Equal(env.Message.Attributes, wantAttrs) {
			t.Errorf("call %d: envelope message = %+v, want ID %s, data {\"n\":1}, attributes %v", i+1, env.Message, id, wantAttrs)
		}
		if env.Message.PublishTime.IsZero() {
			t.Errorf("call %d: publish time is zero", i+1)
		}
		if got, want := env.Subscription, subscriptionName(r.cfg.ProjectID, "events-pull"); got != want {
			t.Errorf("call %d: subscription = %q, want %q", i+1, got, want)
		}
		// No dead-letter policy: the attempt is unknown, as in a push
		// without the field.
		if env.DeliveryAttempt != 0 {
			t.Errorf("call %d: delivery attempt = %d, want 0 (unknown)", i+1, env.DeliveryAttempt)
		}
		if c.deadline <= 0 || c.deadline > r.cfg.HandlerTimeout {
			t.Errorf("call %d: handler deadline in %v, want within HandlerTimeout %v", i+1, c.deadline, r.cfg.HandlerTimeout)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Receive: %v", err)
	}
}

func TestReceiverBoundsConcurrency(t *testing.T) {
	const limit = 2
	ctx, r, p := newTestReceiver(t, ReceiverConfig{MaxOutstanding: limit})
	const n = 6
	for i := range n {
		if _, err := p.Publish(ctx, []byte{byte(i)}, nil); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	var (
		mu                 sync.Mutex
		inFlight, peak     int
		handled            = map[string]bool{}
		full               = make(chan struct{})
		fullOnce, doneOnce sync.Once
		allDone            = make(chan struct{})
	)
	stop := receive(t, ctx, r, func(hctx context.Context, env *wire.PushEnvelope) error {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == limit {
			fullOnce.Do(func() { close(full) })
		}
		mu.Unlock()
		// Hold the first messages until the bound is reached.
		select {
		case <-full:
		case <-hctx.Done():
			return hctx.Err()
		}
		mu.Lock()
		defer mu.Unlock()
		inFlight--
		handled[env.Message.MessageID] = true
		if len(handled) == n {
			doneOnce.Do(func() { close(allDone) })
		}
		return nil
	})
	select {
	case <-allDone:
	case <-time.After(30 * time.Second):
		t.Fatal("not every message handled within 30 s")
	}
	if err := stop(); err != nil {
		t.Errorf("Receive: %v", err)
	}
	if peak > limit {
		t.Errorf("%d messages handled at once, want at most MaxOutstanding %d", peak, limit)
	}
}

func TestReceiverLetsRunningHandlersFinishAtShutdown(t *testing.T) {
	ctx, r, p := newTestReceiver(t, ReceiverConfig{})
	if _, err := p.Publish(ctx, []byte("x"), nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	result := make(chan error, 1)
	stop := receive(t, ctx, r, func(hctx context.Context, env *wire.PushEnvelope) error {
		close(started)
		<-release
		result <- hctx.Err()
		return nil
	})
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("no message within 30 s")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	close(release)
	if err := <-result; err != nil {
		t.Errorf("handler context after Receive's ended = %v, want it alive until the handler returns", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Receive: %v", err)
	}
}

func TestReceiverMissingSubscription(t *testing.T) {
	ctx, a := newTestAdmin(t)
	r, err := NewReceiver(ctx, ReceiverConfig{ProjectID: a.project, Subscription: "no-such-sub", HandlerTimeout: time.Second, DrainTimeout: time.Second})
	if err != nil {
		t.Fatalf("NewReceiver: %v", err)
	}
	defer r.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Receive(rctx, func(context.Context, *wire.PushEnvelope) error { return nil }); err == nil {
		t.Error("Receive(missing subscription) = nil, want an error")
	}
}

func TestReceiverConfigValidate(t *testing.T) {
	ok := ReceiverConfig{ProjectID: "p", Subscription: "events-pull", HandlerTimeout: time.Minute, DrainTimeout: time.Second}
	testValidate(t, ok, (*ReceiverConfig).Validate, []validateCase[ReceiverConfig]{
		{"minimal", func(*ReceiverConfig) {}, ""},
		{"max outstanding", func(c *ReceiverConfig) { c.MaxOutstanding = MaxMaxOutstanding }, ""},
		{"no project", func(c *ReceiverConfig) { c.ProjectID = "" }, "ProjectID"},
		{"bad subscription", func(c *ReceiverConfig) { c.Subscription = "projects/p/subscriptions/s" }, "not a resource name"},
		{"too many outstanding", func(c *ReceiverConfig) { c.MaxOutstanding = MaxMaxOutstanding + 1 }, "MaxOutstanding"},
		{"negative outstanding", func(c *ReceiverConfig) { c.MaxOutstanding = -1 }, "MaxOutstanding"},
		{"no handler timeout", func(c *ReceiverConfig) { c.HandlerTimeout = 0 }, "HandlerTimeout"},
		{"no drain timeout", func(c *ReceiverConfig) { c.DrainTimeout = 0 }, "DrainTimeout"},
	})
}

// A push subscription turned into a pull one keeps its dead-letter
// policy, under which Pub/Sub counts each message's deliveries as it
// does for pushes.
func TestReceiverCountsDeliveryAttemptsUnderADeadLetterPolicy(t *testing.T) {
	ctx, a := newTestAdmin(t)
	for _, topic := range []string{"events", "dead-letters"} {
		if err := a.EnsureTopic(ctx, topic); err != nil {
			t.Fatalf("EnsureTopic(%s): %v", topic, err)
		}
	}
	sub := PushSubscription{ID: "events-dispatcher", Topic: "events", Endpoint: "http://127.0.0.1:9/pubsub/push", DeadLetterTopic: "dead-letters"}
	if err := a.EnsurePushSubscription(ctx, sub); err != nil {
		t.Fatalf("EnsurePushSubscription: %v", err)
	}
	sub.Endpoint = ""
	if err := a.EnsurePushSubscription(ctx, sub); err != nil {
		t.Fatalf("EnsurePushSubscription without an endpoint: %v", err)
	}
	r, err := NewReceiver(ctx, ReceiverConfig{ProjectID: a.project, Subscription: sub.ID, HandlerTimeout: 20 * time.Second, DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewReceiver: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := newTestPublisher(t, ctx, a, "events").Publish(ctx, []byte("x"), nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	attempts := make(chan int, 16)
	stop := receive(t, ctx, r, func(_ context.Context, env *wire.PushEnvelope) error {
		attempts <- env.DeliveryAttempt
		if env.DeliveryAttempt < 2 {
			return errors.New("nack the first delivery")
		}
		return nil
	})
	for want := 1; want <= 2; want++ {
		select {
		case got := <-attempts:
			if got != want {
				t.Errorf("delivery %d: deliveryAttempt = %d, want %d", want, got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no delivery %d within 30 s", want)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Receive: %v", err)
	}
}
