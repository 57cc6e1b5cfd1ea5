package dispatch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestExhaustedDeliveryBecomesAnnouncedDeadLetter(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_dead")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	e.runAll(t)

	d, attempts, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliveryDead || len(attempts) != 3 || !strings.Contains(d.DeadReason, "3 attempts") || !d.Announced {
		t.Fatalf("delivery = %+v with %d attempts, want dead after 3, announced, with the reason", d, len(attempts))
	}
	for i, a := range attempts {
		if a.Number != i+1 || a.StatusCode != 500 || a.ResponseBody != "nope" || a.StartedAt.IsZero() {
			t.Errorf("attempt %d = %+v, want number %d with status, body and time", i, a, i+1)
		}
	}
	msgs := e.deadLetters.published()
	if len(msgs) != 1 {
		t.Fatalf("%d dead-letter messages, want 1", len(msgs))
	}
	var dl wire.DeadLetter
	if err := json.Unmarshal(msgs[0].data, &dl); err != nil {
		t.Fatalf("dead-letter message is not JSON: %v", err)
	}
	// The store may keep times less precisely than the message does.
	if dl.DeadAt.Sub(d.DeadAt).Abs() >= time.Microsecond {
		t.Errorf("dead-letter dead_time = %v, want the delivery's, %v", dl.DeadAt, d.DeadAt)
	}
	want := wire.DeadLetter{TenantID: "acme", EndpointID: ep.ID, EventID: ev.ID, EventType: ev.Type, WebhookID: d.WebhookID,
		Reason: d.DeadReason, Attempts: 3, DeadAt: dl.DeadAt}
	if dl != want {
		t.Errorf("dead-letter message = %+v, want %+v", dl, want)
	}
	if !maps.Equal(msgs[0].attrs, want.Attributes()) {
		t.Errorf("dead-letter attributes = %v, want %v", msgs[0].attrs, want.Attributes())
	}
}

func TestGoneDisablesEndpointAndKillsItsWaitingDeliveries(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	gone := false
	rc := newReceiver(t, func(int) (int, string) {
		if gone {
			return http.StatusGone, "gone"
		}
		return http.StatusInternalServerError, "down"
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	waiting := userCreated("evt_waiting")
	wantAck(t, e.push(t, apiMessage("1", waiting))) // fails, waits for a retry

	gone = true
	ev := userCreated("evt_gone")
	wantAck(t, e.push(t, apiMessage("2", ev)))

	got, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID)
	if got.Status != hookrun.EndpointDisabled || !strings.Contains(got.DisabledReason, "410") {
		t.Errorf("endpoint = %s (%q), want disabled naming 410", got.Status, got.DisabledReason)
	}
	for _, id := range []string{ev.ID, waiting.ID} {
		d, _, _ := e.store.delivery("acme", id, ep.ID)
		if d.State != hookrun.DeliveryDead || !strings.Contains(d.DeadReason, "410") || !d.Announced {
			t.Errorf("delivery of %s = %+v, want dead with the 410 reason, announced", id, d)
		}
	}
	// The waiting delivery's task still runs: it finds nothing to do.
	before := len(rc.requests())
	e.runAll(t)
	if n := len(rc.requests()); n != before {
		t.Errorf("a disabled endpoint got %d more requests", n-before)
	}
	// Disabled endpoints get no new events.
	wantAck(t, e.push(t, apiMessage("3", userCreated("evt_after"))))
	if n := len(rc.requests()); n != before {
		t.Errorf("a disabled endpoint got a new event")
	}
}

func TestClientErrorsDeadLetterWhenConfigured(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, alwaysStatus(http.StatusBadRequest))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) { ep.OnClientError = hookrun.ClientErrorDeadLetter })
	other := newReceiver(t, alwaysStatus(http.StatusBadRequest))
	retried, _ := e.addEndpoint(t, "acme", other.url(), []string{"*"})
	ev := userCreated("evt_400")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliveryDead {
		t.Errorf("dead_letter endpoint: delivery %s, want dead at once", d.State)
	}
	if d, _, _ := e.store.delivery("acme", ev.ID, retried.ID); d.State != hookrun.DeliveryRetrying {
		t.Errorf("default endpoint: delivery %s, want retrying", d.State)
	}
}

func TestRetryOfDeletedEndpointIsDead(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_del")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if err := e.store.DeleteEndpoint(t.Context(), "acme", ep.ID); err != nil {
		t.Fatal(err)
	}
	e.runAll(t)
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliveryDead || !strings.Contains(d.DeadReason, "deleted") {
		t.Errorf("delivery = %+v, want dead because the endpoint was deleted", d)
	}
}

func TestPushDeadLetterIsRecorded(t *testing.T) {
	e := newEnv(t, localConfig)
	m := message{id: "dlq-1", data: []byte(`{"x":1}`), attrs: map[string]string{"tenant_id": "acme",
		"CloudPubSubDeadLetterSourceSubscription": "events-dispatcher"}, publishTime: time.Now()}
	r := httptestRequest("/pubsub/dead-letter", pushBody(m))
	w := serve(e, r)
	wantAck(t, w)
	rej := e.store.rejections()
	if len(rej) != 1 || rej[0].MessageID != "dlq-1" || !strings.Contains(rej[0].Reason, "undeliverable") || rej[0].TenantID != "acme" {
		t.Errorf("rejections = %+v, want the dead-lettered message recorded as undeliverable", rej)
	}
}

// A dead letter whose count against its endpoint fails (storage down) is
// not dropped: the step fails, for its retry (the message's redelivery,
// the task's retry, the replay job's redelivery) to count it. However
// often the follow-up runs, each dead letter counts once, the endpoint is
// disabled when exactly DisableAfterDead died in a row, no attempt is made
// twice, and each dead letter is announced once.
func TestDeadLetterCountFailureIsRetriedAndCountsOnce(t *testing.T) {
	down := errors.New("firestore is down")
	// failingEndpointEnv is a dispatcher that disables an endpoint after
	// disableAfter dead letters in a row, and one endpoint that fails
	// every attempt of maxAttempts.
	failingEndpointEnv := func(t *testing.T, disableAfter, maxAttempts int) (*env, *receiver, hookrun.Endpoint) {
		cfg := localConfig
		cfg.DisableAfterDead = disableAfter
		e := newEnv(t, cfg)
		e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: maxAttempts})
		rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
		ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
		return e, rc, ep
	}
	// healed runs the failed step again, the fault gone, and once more
	// (a late retry): each succeeds, the first counts the dead letter, the
	// second nothing, and n dead letters are announced in all.
	healed := func(t *testing.T, e *env, ep hookrun.Endpoint, retry func() *httptest.ResponseRecorder, n int, status hookrun.EndpointStatus) {
		t.Helper()
		for range 2 {
			if w := retry(); w.Code != http.StatusNoContent {
				t.Fatalf("the step run again answered %d %s, want 204", w.Code, w.Body)
			}
			e.wantDeadInARow(t, ep.ID, n, status, n)
		}
	}
	// wantRequests checks that no attempt was made twice.
	wantRequests := func(t *testing.T, rc *receiver, want int) {
		t.Helper()
		if n := len(rc.requests()); n != want {
			t.Errorf("the endpoint got %d requests, want %d", n, want)
		}
	}
	t.Run("message redelivered", func(t *testing.T) {
		e, rc, ep := failingEndpointEnv(t, 2, 1)
		wantAck(t, e.push(t, apiMessage("1", nowEvent("evt_1"))))

		e.store.setFault(&e.store.countDeadErr, down)
		m := apiMessage("2", nowEvent("evt_2"))
		wantNack(t, e.push(t, m))
		e.wantDeadInARow(t, ep.ID, 1, hookrun.EndpointActive, 1)

		// Counted this time, but the disabling fails: the next run must
		// not count evt_2 again.
		e.store.setFault(&e.store.countDeadErr, nil)
		e.store.setFault(&e.store.disableErr, down)
		wantNack(t, e.push(t, m))
		e.wantDeadInARow(t, ep.ID, 2, hookrun.EndpointActive, 1)

		e.store.setFault(&e.store.disableErr, nil)
		healed(t, e, ep, func() *httptest.ResponseRecorder { return e.push(t, m) }, 2, hookrun.EndpointDisabled)
		wantRequests(t, rc, 2) // one per event
	})
	t.Run("redelivered after the endpoint was turned back on", func(t *testing.T) {
		e, rc, ep := failingEndpointEnv(t, 2, 1)
		wantAck(t, e.push(t, apiMessage("1", nowEvent("evt_1"))))
		// evt_2 counts and disables the endpoint, but its announcement
		// fails; the tenant turns the endpoint back on before the retry.
		e.deadLetters.setErr(down)
		m := apiMessage("2", nowEvent("evt_2"))
		wantNack(t, e.push(t, m))
		e.wantDeadInARow(t, ep.ID, 2, hookrun.EndpointDisabled, 1)
		enabled := e.store.endpoint("acme", ep.ID)
		enabled.SetStatus(hookrun.EndpointActive, time.Now())
		if err := e.store.UpdateEndpoint(t.Context(), enabled); err != nil {
			t.Fatal(err)
		}

		e.deadLetters.setErr(nil)
		healed(t, e, ep, func() *httptest.ResponseRecorder { return e.push(t, m) }, 2, hookrun.EndpointActive)
		wantRequests(t, rc, 2)
	})
	t.Run("task retried", func(t *testing.T) {
		e, rc, ep := failingEndpointEnv(t, 2, 2)
		wantAck(t, e.push(t, apiMessage("1", nowEvent("evt_1"))))
		e.runAll(t)
		e.wantDeadInARow(t, ep.ID, 1, hookrun.EndpointActive, 1)

		wantAck(t, e.push(t, apiMessage("2", nowEvent("evt_2"))))
		tasks := e.scheduler.scheduled()
		last := tasks[len(tasks)-1]
		e.store.setFault(&e.store.countDeadErr, down)
		if w := e.runTask(t, last); w.Code < 500 {
			t.Fatalf("task whose dead letter could not be counted answered %d, want 5xx for Cloud Tasks to retry it", w.Code)
		}
		e.wantDeadInARow(t, ep.ID, 1, hookrun.EndpointActive, 1)

		e.store.setFault(&e.store.countDeadErr, nil)
		healed(t, e, ep, func() *httptest.ResponseRecorder { return e.runTask(t, last) }, 2, hookrun.EndpointDisabled)
		wantRequests(t, rc, 4) // two attempts per event
	})
	t.Run("replay job redelivered", func(t *testing.T) {
		e, rc, ep := failingEndpointEnv(t, 3, 1)
		ev := nowEvent("evt_1")
		e.store.putEvent(t, ev)
		wantAck(t, e.push(t, apiMessage("1", ev)))
		e.wantDeadInARow(t, ep.ID, 1, hookrun.EndpointActive, 1)

		// The replayed dead letter dies again: a dead letter of its own.
		f, _ := json.Marshal(hookrun.DeadLetterFilter{EndpointID: ep.ID})
		job := message{id: "job-1", data: f, publishTime: time.Now(), attrs: map[string]string{
			wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayDeadLetters, wire.AttrChain: "rp_1"}}
		e.store.setFault(&e.store.countDeadErr, down)
		wantNack(t, e.push(t, job))
		e.wantDeadInARow(t, ep.ID, 1, hookrun.EndpointActive, 1)

		e.store.setFault(&e.store.countDeadErr, nil)
		healed(t, e, ep, func() *httptest.ResponseRecorder { return e.push(t, job) }, 2, hookrun.EndpointActive)
		wantRequests(t, rc, 2) // the attempt and its replay's
	})
}

// wantDeadInARow checks the endpoint's dead letters in a row, its status
// (disabled for exactly that many when disabled) and how many dead
// letters were announced.
func (e *env) wantDeadInARow(t *testing.T, endpointID string, n int, status hookrun.EndpointStatus, announced int) {
	t.Helper()
	ep := e.store.endpoint("acme", endpointID)
	if ep.ConsecutiveDead != n || ep.Status != status {
		t.Errorf("endpoint: %d dead letters in a row, %s; want %d, %s", ep.ConsecutiveDead, ep.Status, n, status)
	}
	if status == hookrun.EndpointDisabled && !strings.Contains(ep.DisabledReason, fmt.Sprintf("%d deliveries in a row", n)) {
		t.Errorf("endpoint disabled for %q, want for %d in a row", ep.DisabledReason, n)
	}
	if got := len(e.deadLetters.published()); got != announced {
		t.Errorf("%d dead letters announced, want %d", got, announced)
	}
}
