package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Several dispatcher instances record attempts at once: the metrics still
// add up exactly, because every counter is a server-side increment.
func testMetricsWithConcurrentWriters(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now().Add(-time.Hour)
	for i := 0; i < 3; i++ {
		e := hookrun.Event{ID: fmt.Sprintf("evt_%d", i), TenantID: "acme", Type: "user.created", Data: []byte(`{}`), Source: "api", ReceivedAt: t0}
		if err := s.SaveEvent(ctx, e, "m"); err != nil {
			t.Fatal(err)
		}
	}
	const writers, perWriter = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	// Event evt_0 → ep_a: 40 attempts, all failing with 20 ms, on one
	// delivery from 8 writers at once; evt_1 → ep_a succeeds (5 ms);
	// evt_2 → ep_b is dead.
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				d := hookrun.Delivery{TenantID: "acme", EventID: "evt_0", EndpointID: "ep_a", EventType: "user.created",
					EventAt: t0, State: hookrun.DeliveryRetrying, UpdatedAt: Now()}
				a := hookrun.Attempt{Number: w*perWriter + i + 1, StartedAt: Now(), StatusCode: 500, Latency: 20 * time.Millisecond}
				errs <- s.RecordAttempt(ctx, d, a)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("RecordAttempt: %v", err)
		}
	}
	record := func(event, ep string, state hookrun.DeliveryState, status int, latency time.Duration) {
		d := hookrun.Delivery{TenantID: "acme", EventID: event, EndpointID: ep, EventType: "user.created", EventAt: t0, State: state, UpdatedAt: Now()}
		if err := s.RecordAttempt(ctx, d, hookrun.Attempt{Number: 1, StartedAt: Now(), StatusCode: status, Latency: latency}); err != nil {
			t.Fatal(err)
		}
	}
	record("evt_1", "ep_a", hookrun.DeliverySucceeded, 200, 5*time.Millisecond)
	record("evt_2", "ep_b", hookrun.DeliveryDead, 500, 20*time.Millisecond)

	m, err := s.Metrics(ctx, "acme", "", t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if m.EventsReceived != 3 || m.Deliveries != 3 || m.Succeeded != 1 || m.Retrying != 1 || m.Dead != 1 ||
		m.Attempts != writers*perWriter+2 || m.FailedAttempts != writers*perWriter+1 {
		t.Errorf("tenant metrics = %+v", m)
	}
	if m.SuccessRate == nil || *m.SuccessRate != 0.5 {
		t.Errorf("success rate = %v, want 0.5 (1 succeeded, 1 dead)", m.SuccessRate)
	}
	wantAvg := (float64(writers*perWriter+1)*20 + 5) / float64(writers*perWriter+2)
	if m.AvgResponseMS == nil || *m.AvgResponseMS < wantAvg-0.01 || *m.AvgResponseMS > wantAvg+0.01 {
		t.Errorf("avg = %v, want %.2f", m.AvgResponseMS, wantAvg)
	}
	if m.P95ResponseMS == nil || *m.P95ResponseMS != 25 {
		t.Errorf("p95 = %v, want 25 (the bucket of the 20 ms attempts)", m.P95ResponseMS)
	}

	m, err = s.Metrics(ctx, "acme", "ep_a", t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Metrics(ep_a): %v", err)
	}
	if m.Deliveries != 2 || m.Succeeded != 1 || m.Dead != 0 || m.Attempts != writers*perWriter+1 {
		t.Errorf("ep_a metrics = %+v", m)
	}
	m, err = s.Metrics(ctx, "acme", "", t0.Add(time.Hour), t0.Add(2*time.Hour))
	if err != nil || m.Deliveries != 0 || m.EventsReceived != 0 {
		t.Errorf("metrics of an empty window = %+v, %v", m, err)
	}
}
