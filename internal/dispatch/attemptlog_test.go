package dispatch_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// batchedConfig writes the records of successful first attempts after the
// acknowledgement, every interval.
func batchedConfig(interval time.Duration) dispatch.Config {
	c := localConfig
	c.AttemptFlushInterval = interval
	return c
}

// delivery returns the stored delivery of eventID to endpointID, and
// whether there is one.
func (e *env) delivery(t *testing.T, eventID, endpointID string) (hookrun.Delivery, bool) {
	t.Helper()
	got, err := e.store.GetDeliveries(t.Context(), "acme", eventID, []string{endpointID})
	if err != nil {
		t.Fatalf("GetDeliveries: %v", err)
	}
	d, ok := got[endpointID]
	return d, ok
}

// The success of an event's first message is acknowledged before its
// record is written; the record follows within the flush interval, with
// the attempt.
func TestFirstSuccessIsRecordedAfterTheAcknowledgement(t *testing.T) {
	e := newEnv(t, batchedConfig(20*time.Millisecond))
	e.store.batches = make(chan []hookrun.AttemptRecord, 1)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, alwaysStatus(http.StatusNoContent))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})

	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_1"))))
	select {
	case recs := <-e.store.batches:
		if len(recs) != 1 || recs[0].Delivery.EventID != "evt_1" || recs[0].Attempt.StatusCode != http.StatusNoContent {
			t.Fatalf("flushed %+v, want the attempt of evt_1", recs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no record written 5 s after the acknowledgement; want it within the flush interval")
	}
	d, ok := e.delivery(t, "evt_1", ep.ID)
	if !ok || d.State != hookrun.DeliverySucceeded || d.Attempts != 1 {
		t.Errorf("delivery = %+v (found %v), want succeeded after 1 attempt", d, ok)
	}
}

// Until the flush, the record is only in memory: Flush (SIGTERM) writes
// it, and a message of the same event that this instance handles
// meanwhile finds it and sends nothing.
func TestUnwrittenSuccessIsFlushedAndSeenByLaterMessages(t *testing.T) {
	e := newEnv(t, batchedConfig(5*time.Second))
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, alwaysStatus(http.StatusOK))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	ev := userCreated("evt_2")

	wantAck(t, e.push(t, apiMessage("1", ev)))
	if _, ok := e.delivery(t, ev.ID, ep.ID); ok {
		t.Fatal("the success was written before its push was acknowledged; want it queued")
	}
	retry := apiMessage("2", ev) // the producer's retry after an ambiguous publish
	retry.attrs[wire.AttrCheckDeliveries] = "true"
	wantAck(t, e.push(t, retry))
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1: the queued record counts as a delivery", n)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := e.svc.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if d, ok := e.delivery(t, ev.ID, ep.ID); !ok || d.State != hookrun.DeliverySucceeded {
		t.Errorf("after Flush, delivery = %+v (found %v), want succeeded", d, ok)
	}
}

// A failed attempt is recorded, and its retry scheduled, before the push
// is acknowledged, as is any attempt of a message that may not be its
// event's first.
func TestAttemptsThatNeedDurabilityAreRecordedBeforeTheAcknowledgement(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		msg       func(hookrun.Event) message
		wantState hookrun.DeliveryState
	}{
		{"failed first attempt", http.StatusInternalServerError, func(ev hookrun.Event) message { return apiMessage("1", ev) }, hookrun.DeliveryRetrying},
		{"success of a redelivered message", http.StatusOK, func(ev hookrun.Event) message {
			m := apiMessage("1", ev)
			m.deliveryAttempt = 2
			return m
		}, hookrun.DeliverySucceeded},
		{"success of a replay", http.StatusOK, func(ev hookrun.Event) message {
			m := apiMessage("1", ev)
			m.attrs[wire.AttrChain] = "rp_1"
			return m
		}, hookrun.DeliverySucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, batchedConfig(5*time.Second))
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, alwaysStatus(tt.status))
			ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
			ev := userCreated("evt_3")
			wantAck(t, e.push(t, tt.msg(ev)))
			if d, ok := e.delivery(t, ev.ID, ep.ID); !ok || d.State != tt.wantState {
				t.Errorf("when acknowledged, delivery = %+v (found %v), want %s", d, ok, tt.wantState)
			}
			if tt.wantState == hookrun.DeliveryRetrying && len(e.scheduler.scheduled()) != 1 {
				t.Errorf("%d retries scheduled when acknowledged, want 1", len(e.scheduler.scheduled()))
			}
		})
	}
}

func TestAttemptFlushIntervalIsBounded(t *testing.T) {
	for _, d := range []time.Duration{-time.Millisecond, time.Minute} {
		if _, err := dispatch.New(batchedConfig(d), newEnv(t, localConfig).deps(newTestStore())); err == nil {
			t.Errorf("New with flush interval %v: nil error, want one naming HOOKRUN_ATTEMPT_FLUSH_INTERVAL", d)
		}
	}
}
