package receiver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRecentIDs(t *testing.T) {
	t0 := testNow
	ids := newRecentIDs(time.Minute, 3)
	steps := []struct {
		name string
		run  func() any
		want any
	}{
		{"new id is claimed", func() any { return ids.begin("a", t0) }, claimed},
		{"while in flight", func() any { return ids.begin("a", t0) }, inFlight},
		{"failure forgets it", func() any { ids.finish("a", false, t0); return ids.begin("a", t0) }, claimed},
		{"success records it", func() any { ids.finish("a", true, t0); return ids.begin("a", t0.Add(59*time.Second)) }, duplicate},
		{"window ends", func() any { return ids.begin("a", t0.Add(61*time.Second)) }, claimed},
		{"recorded again", func() any {
			ids.finish("a", true, t0.Add(61*time.Second))
			return ids.begin("a", t0.Add(90*time.Second))
		}, duplicate},
		{"bounded: the oldest goes first", func() any {
			for _, id := range []string{"b", "c", "d"} {
				ids.begin(id, t0.Add(62*time.Second))
				ids.finish(id, true, t0.Add(62*time.Second))
			}
			return ids.begin("a", t0.Add(63*time.Second))
		}, claimed},
		{"size stays within max", func() any { return ids.len() }, 3},
		{"newer ones stay", func() any { return ids.begin("d", t0.Add(63*time.Second)) }, duplicate},
		{"expired ones are swept", func() any {
			ids.finish("a", false, t0)
			ids.begin("e", t0.Add(10*time.Minute))
			return ids.len()
		}, 1},
	}
	for _, s := range steps {
		if got := s.run(); got != s.want {
			t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
}

func TestDuplicateDelivery(t *testing.T) {
	secret, key := newSecret(t)
	h := &fakeHandoff{}
	rc := newReceiver(t, Config{Secret: secret, DedupeWindow: time.Minute}, Deps{Handoff: h})

	for i := range 3 {
		if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusAccepted {
			t.Fatalf("delivery #%d: %d, want 202", i+1, w.Code)
		}
	}
	if n := len(h.sent()); n != 1 {
		t.Fatalf("three deliveries of one webhook-id handed off %d times, want 1", n)
	}
	if w := serve(rc, signedRequest("msg_2", testNow, testBody, key)); w.Code != http.StatusAccepted || len(h.sent()) != 2 {
		t.Errorf("another webhook-id: %d, handed off %d in all; want 202 and 2", w.Code, len(h.sent()))
	}
	// After the window the same id is a new webhook (a replay, say).
	later := testNow.Add(2 * time.Minute)
	rc.now = func() time.Time { return later }
	if w := serve(rc, signedRequest("msg_1", later, testBody, key)); w.Code != http.StatusAccepted || len(h.sent()) != 3 {
		t.Errorf("after the window: %d, handed off %d in all; want 202 and 3", w.Code, len(h.sent()))
	}
}

func TestFailedHandoffIsNotRecorded(t *testing.T) {
	secret, key := newSecret(t)
	h := &fakeHandoff{err: errors.New("pubsub: unavailable")}
	rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: h})

	w := serve(rc, signedRequest("msg_1", testNow, testBody, key))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("failed hand-off: %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	h.setErr(nil)
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusAccepted {
		t.Fatalf("sender's retry: %d, want 202", w.Code)
	}
	if n := len(h.sent()); n != 1 {
		t.Errorf("the retry handed off %d webhooks, want 1", n)
	}
}

// blockingHandoff holds each Send until release is closed.
type blockingHandoff struct {
	entered chan struct{}
	release chan struct{}
	n       int
	mu      sync.Mutex
}

func (b *blockingHandoff) Send(ctx context.Context, _ Webhook) error {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestConcurrentDuplicate(t *testing.T) {
	secret, key := newSecret(t)
	h := &blockingHandoff{entered: make(chan struct{}, 1), release: make(chan struct{})}
	rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: h})

	first := make(chan int)
	go func() { first <- serve(rc, signedRequest("msg_1", testNow, testBody, key)).Code }()
	<-h.entered
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("duplicate while the first is in flight: %d, want 503", w.Code)
	}
	close(h.release)
	if code := <-first; code != http.StatusAccepted {
		t.Errorf("first: %d, want 202", code)
	}
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusAccepted {
		t.Errorf("duplicate after: %d, want 202", w.Code)
	}
	if h.n != 1 {
		t.Errorf("handed off %d times, want 1", h.n)
	}
}

func TestHandoffTimeout(t *testing.T) {
	secret, key := newSecret(t)
	h := &blockingHandoff{entered: make(chan struct{}, 1), release: make(chan struct{})}
	rc := newReceiver(t, Config{Secret: secret, HandoffTimeout: 20 * time.Millisecond}, Deps{Handoff: h})
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("stuck hand-off: %d, want 503", w.Code)
	}
}

func TestPanicReleasesClaim(t *testing.T) {
	secret, key := newSecret(t)
	rc := newReceiver(t, Config{Secret: secret}, Deps{})
	calls := 0
	rc.handle = func(context.Context, Webhook) error {
		calls++
		if calls == 1 {
			panic("bug")
		}
		return nil
	}
	func() {
		defer func() { _ = recover() }()
		serve(rc, signedRequest("msg_1", testNow, testBody, key))
	}()
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusNoContent || calls != 2 {
		t.Errorf("retry after a panic: %d after %d calls, want 204 after 2", w.Code, calls)
	}
}

// TestRecentIDsMatchesModel drives recentIDs and a plain model of the same
// rules (a slice, most recent first) with one random sequence of claims,
// outcomes and clock steps, and compares every answer.
func TestRecentIDsMatchesModel(t *testing.T) {
	type entry struct {
		id       string
		inFlight bool
		expires  time.Time
	}
	const window, maxIDs = 10 * time.Second, 8
	var model []entry // most recent first
	find := func(id string) int {
		return slices.IndexFunc(model, func(e entry) bool { return e.id == id })
	}
	front := func(i int) { e := model[i]; model = append([]entry{e}, slices.Delete(model, i, i+1)...) }
	prune := func(now time.Time) {
		for len(model) > 0 {
			e := model[len(model)-1]
			if len(model) <= maxIDs && (e.inFlight || now.Before(e.expires)) {
				return
			}
			model = model[:len(model)-1]
		}
	}
	modelBegin := func(id string, now time.Time) claim {
		if i := find(id); i >= 0 {
			switch {
			case model[i].inFlight:
				return inFlight
			case now.Before(model[i].expires):
				return duplicate
			}
			model[i].inFlight = true
			front(i)
			return claimed
		}
		model = append([]entry{{id: id, inFlight: true}}, model...)
		prune(now)
		return claimed
	}
	modelFinish := func(id string, handled bool, now time.Time) {
		i := find(id)
		if !handled {
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
			return
		}
		if i < 0 {
			model = append([]entry{{id: id}}, model...)
			i = 0
		}
		model[i].inFlight, model[i].expires = false, now.Add(window)
		front(i)
		prune(now)
	}

	ids := newRecentIDs(window, maxIDs)
	rng := rand.New(rand.NewPCG(1, 2))
	now := testNow
	for step := range 20_000 {
		id := fmt.Sprintf("msg_%d", rng.IntN(20))
		switch op := rng.IntN(10); {
		case op < 5:
			if got, want := ids.begin(id, now), modelBegin(id, now); got != want {
				t.Fatalf("step %d: begin(%s) = %v, model says %v", step, id, got, want)
			}
		case op < 9:
			handled := op < 8
			ids.finish(id, handled, now)
			modelFinish(id, handled, now)
		default:
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		}
		if got, want := ids.len(), len(model); got != want {
			t.Fatalf("step %d: len = %d, model says %d", step, got, want)
		}
	}
}

func BenchmarkRecentIDs(b *testing.B) {
	ids := newRecentIDs(time.Minute, DefaultDedupeMaxIDs)
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("msg_%d", i)
		i++
		ids.begin(id, testNow)
		ids.finish(id, true, testNow)
	}
}
