package dispatch_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// shortPolicy makes retries quick to reason about: 3 attempts, no jitter.
var shortPolicy = hookrun.RetryPolicy{InitialDelay: hookrun.Duration(10 * time.Second), Multiplier: 2,
	MaxDelay: hookrun.Duration(time.Hour), MaxAttempts: 3, Jitter: 0.0001}

func (e *env) addTenantWithPolicy(id string, p hookrun.RetryPolicy) {
	e.store.putTenant(hookrun.Tenant{ID: id, Name: id, Status: hookrun.TenantActive, RetryPolicy: p})
}

func alwaysStatus(code int) func(int) (int, string) {
	return func(int) (int, string) { return code, "nope" }
}

// runAll runs the scheduled tasks one by one, as Cloud Tasks would at
// their times, until none is left that has not run.
func (e *env) runAll(t *testing.T) []scheduledTask {
	t.Helper()
	var ran []scheduledTask
	for i := 0; i < 50; i++ {
		tasks := e.scheduler.scheduled()
		if len(ran) == len(tasks) {
			return ran
		}
		next := tasks[len(ran)]
		wantAck(t, e.runTask(t, next))
		ran = append(ran, next)
	}
	t.Fatal("tasks keep being scheduled")
	return nil
}

func TestRetriesUntilSuccessThenStop(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, func(n int) (int, string) {
		if n <= 2 {
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusOK, "ok"
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_r1")
	start := time.Now()
	wantAck(t, e.push(t, apiMessage("1", ev)))
	ran := e.runAll(t)

	if len(ran) != 2 {
		t.Fatalf("%d retry tasks ran, want 2", len(ran))
	}
	// Delays follow the policy: 10s then 20s (jitter ~0).
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second} {
		if got := ran[i].at.Sub(start); got < want-time.Second || got > want+5*time.Second {
			t.Errorf("retry %d scheduled %v after the first attempt, want about %v", i+1, got, want)
		}
	}
	d, attempts, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliverySucceeded || len(attempts) != 3 || len(rc.requests()) != 3 {
		t.Errorf("delivery %s after %d attempts (%d requests), want succeeded after 3", d.State, len(attempts), len(rc.requests()))
	}
	ids := map[string]bool{}
	for _, r := range rc.requests() {
		ids[r.header.Get(signature.HeaderID)] = true
	}
	if len(ids) != 1 {
		t.Errorf("webhook-id differs across attempts: %v", ids)
	}
	if n := len(e.deadLetters.published()); n != 0 {
		t.Errorf("%d dead letters for a delivery that succeeded", n)
	}
}

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

func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, alwaysStatus(http.StatusTooManyRequests))
	rc.header = http.Header{"Retry-After": {"120"}}
	e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	start := time.Now()
	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_429"))))
	tasks := e.scheduler.scheduled()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	if got := tasks[0].at.Sub(start); got < 119*time.Second || got > 125*time.Second {
		t.Errorf("retry after %v, want the receiver's Retry-After of 120s", got)
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

func TestFollowUpFailuresAreRetriedByRedelivery(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_announce")
	msg := apiMessage("1", ev)

	e.deadLetters.err = errors.New("pubsub down")
	wantNack(t, e.push(t, msg))
	e.deadLetters.err = nil
	wantAck(t, e.push(t, msg))
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); !d.Announced || len(e.deadLetters.published()) != 1 {
		t.Errorf("dead letter announced=%v, %d messages; want announced once", d.Announced, len(e.deadLetters.published()))
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1: redelivery only finishes the follow-up", n)
	}

	// Scheduling failure: nack, and the redelivery schedules.
	e2 := newEnv(t, localConfig)
	e2.addTenantWithPolicy("acme", shortPolicy)
	e2.addEndpoint(t, "acme", rc.url(), []string{"*"})
	e2.scheduler.err = errors.New("cloud tasks down")
	wantNack(t, e2.push(t, msg))
	e2.scheduler.err = nil
	wantAck(t, e2.push(t, msg))
	if n := len(e2.scheduler.scheduled()); n != 1 {
		t.Errorf("%d tasks after the redelivery, want 1", n)
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

func TestLargeEventIsReadBackForRetries(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	n := 0
	rc := newReceiver(t, func(int) (int, string) {
		n++
		if n == 1 {
			return 500, ""
		}
		return 200, ""
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_big")
	ev.Data = []byte(`{"blob":"` + strings.Repeat("x", 100<<10) + `"}`)
	e.store.putEvent(t, ev) // ingest stored it
	wantAck(t, e.push(t, apiMessage("1", ev)))
	tasks := e.scheduler.scheduled()
	if len(tasks) != 1 || len(tasks[0].body) > 4<<10 {
		t.Fatalf("task body is %d bytes, want a reference, not the 100 KiB event", len(tasks[0].body))
	}
	wantAck(t, e.runTask(t, tasks[0]))
	reqs := rc.requests()
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliverySucceeded || len(reqs) != 2 || string(reqs[1].body) != string(reqs[0].body) {
		t.Errorf("retry of a large event: state %s, %d requests; want succeeded with the same body", d.State, len(reqs))
	}
}

func TestReplayStartsAFreshChainWithTheSameWebhookID(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	works := false
	rc := newReceiver(t, func(int) (int, string) {
		if works {
			return 200, "ok"
		}
		return 500, "down"
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_replay")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliveryDead {
		t.Fatalf("delivery %s, want dead", d.State)
	}

	works = true
	replay := apiMessage("2", ev)
	replay.attrs[wire.AttrChain] = "rp_1"
	replay.attrs[wire.AttrEndpoint] = ep.ID
	wantAck(t, e.push(t, replay))
	wantAck(t, e.push(t, replay)) // redelivered replay: nothing more
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[0].header.Get(signature.HeaderID) != reqs[1].header.Get(signature.HeaderID) {
		t.Fatalf("%d requests, want 2 with one webhook-id", len(reqs))
	}
	d, attempts, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliverySucceeded || d.Chain != "rp_1" || len(attempts) != 2 || attempts[1].Number != 1 || attempts[1].Chain != "rp_1" {
		t.Errorf("after replay: %+v with attempts %+v, want succeeded in chain rp_1, attempt 1", d, attempts)
	}
	// The original message redelivered now changes nothing.
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if n := len(rc.requests()); n != 2 {
		t.Errorf("original redelivered after a replay sent again (%d requests)", n)
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

func TestReplayJobReplaysMatchingDeadLettersOnce(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	works := false
	respond := func(int) (int, string) {
		if works {
			return 200, ""
		}
		return 500, ""
	}
	a, b := newReceiver(t, respond), newReceiver(t, respond)
	epA, _ := e.addEndpoint(t, "acme", a.url(), []string{"*"})
	e.addEndpoint(t, "acme", b.url(), []string{"*"})
	for i, id := range []string{"evt_j1", "evt_j2"} {
		ev := userCreated(id)
		e.store.putEvent(t, ev)
		wantAck(t, e.push(t, apiMessage(string(rune('1'+i)), ev)))
	}
	works = true
	f, _ := json.Marshal(hookrun.DeadLetterFilter{EndpointID: epA.ID})
	job := message{id: "job-1", data: f, publishTime: time.Now(), attrs: map[string]string{
		wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayDeadLetters, wire.AttrChain: "rp_job"}}
	wantAck(t, e.push(t, job))
	wantAck(t, e.push(t, job)) // redelivered job: nothing twice
	if n, m := len(a.requests()), len(b.requests()); n != 4 || m != 2 {
		t.Errorf("requests: endpoint A %d, B %d; want 4 (2 dead + 2 replayed once) and 2 (not in the filter)", n, m)
	}
	for _, id := range []string{"evt_j1", "evt_j2"} {
		if d, _, _ := e.store.delivery("acme", id, epA.ID); d.State != hookrun.DeliverySucceeded || d.Chain != "rp_job" {
			t.Errorf("%s on A: %s in chain %q, want succeeded in rp_job", id, d.State, d.Chain)
		}
	}
}
