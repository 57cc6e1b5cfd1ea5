package dispatch_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// acceptedAt is an event of acme accepted at t.
func acceptedAt(id string, t time.Time) hookrun.Event {
	ev := userCreated(id)
	ev.ReceivedAt = t.UTC()
	return ev
}

// wantDeadLetter checks that ev's delivery to ep is a dead letter without
// an attempt whose reason contains reason.
func wantDeadLetter(t *testing.T, e *env, eventID, endpointID, reason string) {
	t.Helper()
	d, attempts, ok := e.store.delivery("acme", eventID, endpointID)
	if !ok || d.State != hookrun.DeliveryDead || !strings.Contains(d.DeadReason, reason) || len(attempts) != 0 {
		t.Errorf("%s to %s: %+v (found %v) with %d attempts; want a dead letter saying %q, no attempt", eventID, endpointID, d, ok, len(attempts), reason)
	}
}

// Events accepted while an endpoint was active, and dispatched after it
// was auto-disabled, become dead letters that say so; events accepted
// after the disable are not for it.
func TestEventsAcceptedBeforeAutoDisableBecomeDeadLetters(t *testing.T) {
	cfg := localConfig
	cfg.DisableAfterDead = 2
	e := newEnv(t, cfg)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	down := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	up := newReceiver(t, alwaysStatus(http.StatusOK))
	epDown, _ := e.addEndpoint(t, "acme", down.url(), []string{"user.*"})
	epUp, _ := e.addEndpoint(t, "acme", up.url(), []string{"*"})

	accepted := time.Now()
	early := make([]hookrun.Event, 4)
	for i := range early {
		early[i] = acceptedAt("evt_early"+string(rune('1'+i)), accepted)
	}
	wantAck(t, e.push(t, apiMessage("m1", early[0])))
	wantAck(t, e.push(t, apiMessage("m2", early[1]))) // second dead letter in a row: disabled
	if got := e.store.endpoint("acme", epDown.ID); got.Status != hookrun.EndpointDisabled {
		t.Fatalf("endpoint %s after 2 dead letters, want disabled", got.Status)
	}
	wantAck(t, e.push(t, apiMessage("m3", early[2])))
	wantAck(t, e.push(t, apiMessage("m4", early[3])))
	late := acceptedAt("evt_late", time.Now().Add(time.Second))
	wantAck(t, e.push(t, apiMessage("m5", late)))

	if n := len(down.requests()); n != 2 {
		t.Errorf("the disabled endpoint got %d requests, want the 2 made before it was disabled", n)
	}
	for _, ev := range early[2:] {
		wantDeadLetter(t, e, ev.ID, epDown.ID, "2 deliveries in a row")
	}
	if _, _, ok := e.store.delivery("acme", late.ID, epDown.ID); ok {
		t.Errorf("an event accepted after the disable got a delivery to the disabled endpoint")
	}
	for _, ev := range append(early, late) {
		if d, _, _ := e.store.delivery("acme", ev.ID, epUp.ID); d.State != hookrun.DeliverySucceeded {
			t.Errorf("%s to the healthy endpoint: %s, want succeeded", ev.ID, d.State)
		}
	}
	// Every dead letter is announced once, a redelivered message adds
	// nothing.
	wantAck(t, e.push(t, apiMessage("m3", early[2])))
	if n := len(e.deadLetters.published()); n != 4 {
		t.Errorf("%d dead letters announced, want 4 (2 exhausted, 2 for the disabled endpoint)", n)
	}
}

// The same holds whatever made the endpoint inactive after the event was
// accepted.
func TestEventsOwedByInactiveEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		change func(ep *hookrun.Endpoint, at time.Time)
		reason string
	}{
		{"disabled through the API", func(ep *hookrun.Endpoint, at time.Time) {
			ep.SetStatus(hookrun.EndpointDisabled, at)
			ep.DisabledReason = "disabled through the API by key k_1"
		}, "disabled through the API"},
		{"410 Gone", func(ep *hookrun.Endpoint, at time.Time) {
			ep.SetStatus(hookrun.EndpointDisabled, at)
			ep.DisabledReason = "the endpoint answered 410 Gone"
		}, "410 Gone"},
		{"URL changed, awaiting verification", func(ep *hookrun.Endpoint, at time.Time) {
			ep.SetStatus(hookrun.EndpointPending, at)
		}, "awaits the ownership challenge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, alwaysStatus(http.StatusOK))
			t0 := time.Now()
			ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"}, func(ep *hookrun.Endpoint) {
				ep.CreatedAt = t0.Add(-time.Hour)
				ep.SetStatus(hookrun.EndpointActive, t0.Add(-time.Hour))
				tt.change(ep, t0)
			})
			before, after := acceptedAt("evt_before", t0.Add(-time.Minute)), acceptedAt("evt_after", t0.Add(time.Minute))
			older := acceptedAt("evt_older", t0.Add(-2*time.Hour)) // before it was ever active
			other := acceptedAt("evt_other", t0.Add(-time.Minute))
			other.Type = "invoice.paid" // not subscribed
			for i, ev := range []hookrun.Event{before, after, older, other} {
				wantAck(t, e.push(t, apiMessage(string(rune('1'+i)), ev)))
			}
			wantDeadLetter(t, e, before.ID, ep.ID, tt.reason)
			for _, ev := range []hookrun.Event{after, older, other} {
				if d, _, ok := e.store.delivery("acme", ev.ID, ep.ID); ok {
					t.Errorf("%s got a delivery %+v; want none: the endpoint was not active and subscribed when it was accepted", ev.ID, d)
				}
			}
			if n := len(rc.requests()); n != 0 {
				t.Errorf("an inactive endpoint got %d requests", n)
			}
		})
	}
}

// A replay claims its dead letters first (ingest does, before it
// answers): a second replay finds them held and skips them, a redelivered
// job sends nothing twice, and a job that stopped between starting a chain
// and recording its attempt resends only that one.
func TestReplayOfClaimedDeadLetters(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	works := false
	rc := newReceiver(t, func(int) (int, string) {
		if works {
			return http.StatusOK, ""
		}
		return http.StatusInternalServerError, ""
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ids := []string{"evt_r1", "evt_r2", "evt_r3"}
	for i, id := range ids {
		ev := acceptedAt(id, time.Now())
		e.store.putEvent(t, ev)
		wantAck(t, e.push(t, apiMessage(string(rune('1'+i)), ev)))
	}
	works = true

	first, err := e.store.ClaimDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, "rp_a", 100, nil)
	if err != nil || first.Claimed != 3 {
		t.Fatalf("first claim: %+v, %v; want 3", first, err)
	}
	second, err := e.store.ClaimDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, "rp_b", 100, nil)
	if err != nil || second.Claimed != 0 || second.Skipped != 3 {
		t.Fatalf("concurrent second claim: %+v, %v; want all 3 skipped", second, err)
	}
	// rp_a's job stopped after starting evt_r1, before its attempt.
	if ok, err := e.store.StartReplay(t.Context(), "acme", "evt_r1", ep.ID, "rp_a"); !ok || err != nil {
		t.Fatalf("StartReplay: %v, %v", ok, err)
	}
	job := func(chain string) message {
		return message{id: "job-" + chain, publishTime: time.Now(), attrs: map[string]string{
			wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayClaimed, wire.AttrChain: chain}}
	}
	wantAck(t, e.push(t, job("rp_a")))
	wantAck(t, e.push(t, job("rp_a"))) // redelivered
	wantAck(t, e.push(t, job("rp_b"))) // holds nothing
	if n := len(rc.requests()); n != 3+3 {
		t.Errorf("%d requests; want 3 failed first attempts and 3 replayed once", n)
	}
	for _, id := range ids {
		d, attempts, _ := e.store.delivery("acme", id, ep.ID)
		if d.State != hookrun.DeliverySucceeded || d.Chain != "rp_a" || len(attempts) != 2 {
			t.Errorf("%s: %s in chain %q with %d attempts; want succeeded in rp_a after 2", id, d.State, d.Chain, len(attempts))
		}
	}
}

// A dead letter whose endpoint was disabled after it was claimed becomes
// a dead letter again, saying why, and can be claimed again.
func TestReplayToADisabledEndpointStaysADeadLetter(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := acceptedAt("evt_x", time.Now())
	e.store.putEvent(t, ev)
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if c, _ := e.store.ClaimDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, "rp_1", 100, nil); c.Claimed != 1 {
		t.Fatalf("claim: %+v", c)
	}
	if err := e.store.DisableEndpoint(t.Context(), "acme", ep.ID, "disabled through the API by admin"); err != nil {
		t.Fatal(err)
	}
	wantAck(t, e.push(t, message{id: "job", publishTime: time.Now(), attrs: map[string]string{
		wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayClaimed, wire.AttrChain: "rp_1"}}))
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests; want only the first attempt", n)
	}
	d, _, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliveryDead || d.Chain != "rp_1" || !strings.Contains(d.DeadReason, "disabled through the API") {
		t.Errorf("after the replay: %+v; want dead again in rp_1, saying the endpoint is disabled", d)
	}
	if err := d.ClaimableAt(time.Now()); err != nil {
		t.Errorf("the dead letter cannot be replayed again: %v", err)
	}
}

// A redelivery asked for just after the endpoint was enabled again goes
// out, even while this instance still caches the endpoint as disabled.
func TestRedeliveryAfterReenableIgnoresTheCachedStatus(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, alwaysStatus(http.StatusOK))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.CreatedAt = time.Now().Add(-time.Hour)
		ep.SetStatus(hookrun.EndpointDisabled, time.Now().Add(-time.Hour))
	})
	old := acceptedAt("evt_old", time.Now().Add(-time.Minute))
	wantAck(t, e.push(t, apiMessage("1", old))) // caches the list, endpoint disabled
	enabled := e.store.endpoint("acme", ep.ID)
	enabled.SetStatus(hookrun.EndpointActive, time.Now())
	if err := e.store.UpdateEndpoint(t.Context(), enabled); err != nil {
		t.Fatal(err)
	}

	redeliver := apiMessage("2", old)
	redeliver.attrs[wire.AttrChain], redeliver.attrs[wire.AttrEndpoint] = "rp_1", ep.ID
	wantAck(t, e.push(t, redeliver))
	if d, _, _ := e.store.delivery("acme", old.ID, ep.ID); d.State != hookrun.DeliverySucceeded || len(rc.requests()) != 1 {
		t.Errorf("redelivery after re-enabling: %s with %d requests; want succeeded, sent once", d.State, len(rc.requests()))
	}
}

// A delivery whose retry was not yet scheduled when the dispatcher died is
// finished by the redelivered message, even if its endpoint no longer owes
// the event by the clocks (disabled at about the moment it was accepted).
func TestRedeliveredMessageFinishesADeliveryOfADisabledEndpoint(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, alwaysStatus(http.StatusOK))
	ev := acceptedAt("evt_1", time.Now().Add(-time.Minute))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.CreatedAt = time.Now().Add(-time.Hour)
		ep.SetStatus(hookrun.EndpointActive, ep.CreatedAt)
		ep.SetStatus(hookrun.EndpointDisabled, ev.ReceivedAt.Add(-time.Millisecond))
	})
	e.store.PutDelivery(hookrun.Delivery{TenantID: "acme", EventID: ev.ID, EndpointID: ep.ID,
		EventType: ev.Type, State: hookrun.DeliveryRetrying, ChainAttempts: 1, NextAttemptAt: time.Now().Add(time.Minute)})
	redelivered := apiMessage("1", ev)
	redelivered.deliveryAttempt = 2 // the crashed push was the first
	wantAck(t, e.push(t, redelivered))
	if n := len(e.scheduler.scheduled()); n != 1 {
		t.Errorf("%d retries scheduled; want the one the crash left undone", n)
	}
}
