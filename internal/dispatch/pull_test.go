package dispatch_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging/logtest"
	"github.com/hookrun/hookrun/internal/wire"
)

// pulled hands m to the dispatcher as its streaming-pull receiver does:
// the envelope Pub/Sub would have pushed, decoded as a push is, with the
// deadline of a push request. It returns what the receiver acks on (nil)
// or nacks on.
func (e *env) pulled(t testing.TB, m message) error {
	t.Helper()
	var env wire.PushEnvelope
	if err := json.Unmarshal(pushBody(m), &env); err != nil {
		t.Fatalf("decode envelope: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return e.svc.HandlePulled(ctx, &env)
}

// pulledLines returns the "message pulled" log lines.
func pulledLines(t testing.TB, logs *logtest.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range logs.Lines(t) {
		if l["message"] == "message pulled" {
			out = append(out, l)
		}
	}
	return out
}

func TestPulledMessageIsDeliveredOnceLikeAPush(t *testing.T) {
	logs := logtest.Capture(t)
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	ev := userCreated("evt_pulled")

	m := apiMessage("2001", ev)
	m.deliveryAttempt = 1 // a pull subscription with a dead-letter policy
	if err := e.pulled(t, m); err != nil {
		t.Fatalf("HandlePulled = %v, want nil (ack)", err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	// The first message of an event takes the push's first-message path.
	if got := e.store.reads(); got != 0 {
		t.Errorf("earlier deliveries read %d times for a first message, want 0", got)
	}
	if err := e.svc.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if d, attempts, ok := e.store.delivery("acme", ev.ID, ep.ID); !ok || d.State != hookrun.DeliverySucceeded || len(attempts) != 1 {
		t.Errorf("delivery = %+v with %d attempts (found %v), want succeeded after 1", d, len(attempts), ok)
	}

	lines := pulledLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("got %d \"message pulled\" lines, want 1: %s", len(lines), logs)
	}
	want := map[string]any{"message_id": "2001", "tenant_id": "acme", "event_id": ev.ID, "event_type": ev.Type,
		"acknowledged": true, "subscription": "projects/test/subscriptions/events-dispatcher"}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("log line %s = %v, want %v", k, lines[0][k], v)
		}
	}
	if _, ok := lines[0]["latency_ms"]; !ok {
		t.Error("log line has no latency_ms")
	}
}

// A message that cannot be handled is nacked, so Pub/Sub redelivers it,
// and its redelivery is delivered once.
func TestPulledMessageThatFailsIsNacked(t *testing.T) {
	logs := logtest.Capture(t)
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	ev := userCreated("evt_nacked")

	e.store.setFault(&e.store.getTenantErr, hookrun.Errorf(hookrun.CodeUnavailable, "firestore is down"))
	m := apiMessage("2002", ev)
	m.deliveryAttempt = 1
	err := e.pulled(t, m)
	if err == nil {
		t.Fatal("HandlePulled with the store down = nil (ack), want an error (nack)")
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("receiver got %d requests with the store down, want 0", n)
	}
	lines := pulledLines(t, logs)
	if len(lines) != 1 || lines[0]["acknowledged"] != false || lines[0]["error_status"] != string(hookrun.CodeUnavailable) {
		t.Errorf("\"message pulled\" lines = %v, want one not acknowledged with error_status %s", lines, hookrun.CodeUnavailable)
	}

	e.store.setFault(&e.store.getTenantErr, nil)
	m.deliveryAttempt = 2
	if err, n := e.pulled(t, m), len(rc.requests()); err != nil || n != 1 {
		t.Errorf("redelivery: HandlePulled = %v and the receiver got %d requests, want nil and 1", err, n)
	}
}

// Without a dead-letter policy (the emulator's pull subscription) Pub/Sub
// does not count deliveries: the message may repeat an earlier one, as a
// push without deliveryAttempt, so earlier deliveries are read and a
// second pull of it is not sent again.
func TestPulledMessageWithoutDeliveryAttemptIsDeliveredOnce(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	m := apiMessage("2003", userCreated("evt_unknown_attempt"))
	m.deliveryAttempt = -1
	for i := range 2 {
		if err := e.pulled(t, m); err != nil {
			t.Fatalf("HandlePulled %d = %v, want nil", i+1, err)
		}
	}
	if got := e.store.reads(); got != 2 {
		t.Errorf("earlier deliveries read %d times, want 2 (once per message)", got)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}
