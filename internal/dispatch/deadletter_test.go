package dispatch_test

import (
	"encoding/json"
	"maps"
	"net/http"
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
