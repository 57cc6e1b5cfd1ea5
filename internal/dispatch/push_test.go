package dispatch_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging/logtest"
	"github.com/hookrun/hookrun/internal/signature"
)

func userCreated(id string) hookrun.Event {
	return hookrun.Event{
		ID:         id,
		TenantID:   "acme",
		Type:       "user.created",
		Data:       []byte(`{"user":"u_1","email":"ada@example.com"}`),
		Source:     hookrun.SourceAPI,
		ReceivedAt: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), // ingest stamps microseconds
	}
}

func TestPushDeliversSignedToMatchingEndpointsOnly(t *testing.T) {
	logs := logtest.Capture(t)
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	e.addTenant("globex", hookrun.TenantActive)

	users := newReceiver(t, nil)
	everything := newReceiver(t, nil)
	invoices := newReceiver(t, nil)
	disabled := newReceiver(t, nil)
	otherTenant := newReceiver(t, nil)

	usersEP, usersSecret := e.addEndpoint(t, "acme", users.url(), []string{"user.*"})
	everythingEP, everythingSecret := e.addEndpoint(t, "acme", everything.url(), []string{"*"})
	e.addEndpoint(t, "acme", invoices.url(), []string{"invoice.paid", "user"})
	e.addEndpoint(t, "acme", disabled.url(), []string{"*"}, func(ep *hookrun.Endpoint) { ep.Status = hookrun.EndpointDisabled })
	e.addEndpoint(t, "globex", otherTenant.url(), []string{"*"})

	ev := userCreated("evt_1")
	wantAck(t, e.push(t, apiMessage("1001", ev)))

	// The push is answered only after every attempt: whoever did not get
	// the event by now never will.
	for name, rc := range map[string]*receiver{"invoice.paid endpoint": invoices, "disabled endpoint": disabled, "other tenant's endpoint": otherTenant} {
		if n := len(rc.requests()); n != 0 {
			t.Errorf("%s got %d requests, want 0", name, n)
		}
	}

	var sigs []string
	for _, c := range []struct {
		name   string
		rc     *receiver
		ep     hookrun.Endpoint
		secret string
		other  string // another endpoint's secret, which must not verify
	}{
		{"user.* endpoint", users, usersEP, usersSecret, everythingSecret},
		{"* endpoint", everything, everythingEP, everythingSecret, usersSecret},
	} {
		t.Run(c.name, func(t *testing.T) {
			reqs := c.rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			h, body := reqs[0].header, reqs[0].body
			sigs = append(sigs, h.Get(signature.HeaderSignature))
			if got, want := h.Get(signature.HeaderID), hookrun.WebhookID("acme", ev.ID, c.ep.ID); got != want {
				t.Errorf("webhook-id = %q, want %q", got, want)
			}
			if ts, err := strconv.ParseInt(h.Get(signature.HeaderTimestamp), 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
				t.Errorf("webhook-timestamp = %q, want the current Unix time", h.Get(signature.HeaderTimestamp))
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}

			key, err := signature.ParseSecret(c.secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := signature.Verify([][]byte{key}, h, body, time.Now(), signature.DefaultTolerance); err != nil {
				t.Errorf("signature.Verify: %v", err)
			}
			wh, err := standardwebhooks.NewWebhook(c.secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(body, h); err != nil {
				t.Errorf("the Standard Webhooks library rejects the delivery: %v", err)
			}
			otherKey, _ := signature.ParseSecret(c.other)
			if err := signature.Verify([][]byte{otherKey}, h, body, time.Now(), signature.DefaultTolerance); err == nil {
				t.Error("the delivery verifies with another endpoint's secret")
			}

			var payload struct {
				ID        string          `json:"id"`
				Type      string          `json:"type"`
				Timestamp time.Time       `json:"timestamp"`
				Data      json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(body, &payload); err != nil {
				t.Fatalf("body %s is not JSON: %v", body, err)
			}
			if payload.ID != ev.ID || payload.Type != ev.Type || !payload.Timestamp.Equal(ev.ReceivedAt) || string(payload.Data) != string(ev.Data) {
				t.Errorf("body = %s, want id %s, type %s, timestamp %s, data %s", body, ev.ID, ev.Type, ev.ReceivedAt.Format(time.RFC3339Nano), ev.Data)
			}

			d, attempts, ok := e.store.delivery("acme", ev.ID, c.ep.ID)
			if !ok || d.State != hookrun.DeliverySucceeded || d.Attempts != 1 || d.LastStatusCode != 200 || d.EventType != ev.Type {
				t.Errorf("delivery = %+v (found %v), want succeeded after 1 attempt with 200", d, ok)
			}
			if len(attempts) != 1 || attempts[0].Number != 1 || attempts[0].StatusCode != 200 || attempts[0].Error != "" || attempts[0].Latency <= 0 {
				t.Errorf("attempts = %+v, want one numbered 1 with status 200 and a latency", attempts)
			}
		})
	}
	if n := e.store.deliveryCount(); n != 2 {
		t.Errorf("%d deliveries recorded, want 2", n)
	}
	if saved := e.store.savedEvents(); len(saved) != 0 {
		t.Errorf("saved events %v: ingest already stored this event, want none", saved)
	}

	// One line per attempt, and never a signature or a secret in the logs.
	out := logs.String()
	if n := strings.Count(out, `"message":"delivery attempt"`); n != 2 {
		t.Errorf("logged %d delivery attempts, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, `"endpoint_id":"`+usersEP.ID+`"`) {
		t.Errorf("no attempt line names endpoint %s:\n%s", usersEP.ID, out)
	}
	for _, s := range append(sigs, strings.TrimPrefix(usersSecret, signature.SecretPrefix), strings.TrimPrefix(everythingSecret, signature.SecretPrefix)) {
		if s != "" && strings.Contains(out, strings.TrimPrefix(s, "v1,")) {
			t.Errorf("logs carry a signature or secret %q:\n%s", s, out)
		}
	}
}

func TestRedeliverySkipsSucceededEndpoints(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	healthy := newReceiver(t, nil)
	flaky := newReceiver(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusInternalServerError, "database is down"
		}
		return http.StatusOK, "ok"
	})
	healthyEP, _ := e.addEndpoint(t, "acme", healthy.url(), []string{"*"})
	flakyEP, _ := e.addEndpoint(t, "acme", flaky.url(), []string{"*"})
	ev := userCreated("evt_2")
	msg := apiMessage("2001", ev)

	// A receiver's 500 is an outcome: recorded, and the message acked.
	wantAck(t, e.push(t, msg))
	d, attempts, _ := e.store.delivery("acme", ev.ID, flakyEP.ID)
	if d.State != hookrun.DeliveryRetrying || d.LastStatusCode != 500 || !strings.Contains(d.LastError, "500") {
		t.Errorf("flaky delivery = %+v, want failed with 500", d)
	}
	if len(attempts) != 1 || attempts[0].StatusCode != 500 || attempts[0].ResponseBody != "database is down" || !strings.Contains(attempts[0].Error, "500") {
		t.Errorf("flaky attempts = %+v, want one with status 500, error naming it and the response snippet", attempts)
	}

	// The failed attempt's retry is scheduled as a task, within the default
	// policy's first delay (5s ± 20 %).
	tasks := e.scheduler.scheduled()
	if len(tasks) != 1 {
		t.Fatalf("%d retry tasks scheduled, want 1", len(tasks))
	}
	if wait := time.Until(tasks[0].at); wait < 3*time.Second || wait > 6*time.Second {
		t.Errorf("retry scheduled in %v, want within 4s..6s", wait)
	}

	// Pub/Sub redelivers the message: nothing is sent again and no second
	// task appears (the task name is the same).
	wantAck(t, e.push(t, msg))
	if a, b := len(healthy.requests()), len(flaky.requests()); a != 1 || b != 1 {
		t.Errorf("after a redelivery: %d and %d requests, want 1 and 1", a, b)
	}
	if n := len(e.scheduler.scheduled()); n != 1 {
		t.Errorf("%d tasks after a redelivery, want still 1", n)
	}

	// The task runs: only the failed endpoint is sent to again, under the
	// same webhook-id.
	wantAck(t, e.runTask(t, tasks[0]))
	if n := len(healthy.requests()); n != 1 {
		t.Errorf("healthy endpoint got %d requests after the retry, want 1", n)
	}
	reqs := flaky.requests()
	if len(reqs) != 2 {
		t.Fatalf("flaky endpoint got %d requests, want 2", len(reqs))
	}
	if a, b := reqs[0].header.Get(signature.HeaderID), reqs[1].header.Get(signature.HeaderID); a != b || a == "" {
		t.Errorf("webhook-id changed across redeliveries: %q then %q", a, b)
	}
	if reqs[0].header.Get(signature.HeaderID) == healthy.requests()[0].header.Get(signature.HeaderID) {
		t.Error("two endpoints got the same webhook-id for one event")
	}
	d, attempts, _ = e.store.delivery("acme", ev.ID, flakyEP.ID)
	if d.State != hookrun.DeliverySucceeded || d.Attempts != 2 || d.LastStatusCode != 200 || d.LastError != "" {
		t.Errorf("flaky delivery = %+v, want succeeded after 2 attempts", d)
	}
	if len(attempts) != 2 || attempts[0].Number != 1 || attempts[1].Number != 2 || attempts[1].StatusCode != 200 {
		t.Errorf("flaky attempts = %+v, want numbers 1 and 2, the second with 200", attempts)
	}

	// Once everything succeeded, a redelivery or a rerun task sends nothing.
	wantAck(t, e.push(t, msg))
	wantAck(t, e.runTask(t, tasks[0]))
	if a, b := len(healthy.requests()), len(flaky.requests()); a != 1 || b != 2 {
		t.Errorf("after a third push and a rerun task: %d and %d requests, want 1 and 2", a, b)
	}
	if d, _, _ := e.store.delivery("acme", ev.ID, healthyEP.ID); d.Attempts != 1 {
		t.Errorf("healthy delivery attempts = %d, want 1", d.Attempts)
	}
}

// Two messages of one event arriving at once (ingest's publish timed out
// but went through, and the producer's retry was published again) send
// the event to each endpoint once: the second waits for the first's
// outcome instead of finding no delivery yet and sending too.
func TestConcurrentMessagesOfOneEventSendOnce(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	first := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	rc := newReceiver(t, func(int) (int, string) {
		once.Do(func() { close(first) })
		<-release
		return http.StatusOK, ""
	})
	e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_twice")

	answers := make(chan *httptest.ResponseRecorder, 2)
	go func() { answers <- e.push(t, apiMessage("3001", ev)) }()
	<-first // the first message's attempt is in flight
	go func() { answers <- e.push(t, apiMessage("3002", ev)) }()
	// The second message needs only the memory store to reach the point
	// where it would send: this is how long the first attempt stays in
	// flight, the fault, not a wait for something.
	time.Sleep(300 * time.Millisecond)
	close(release)
	for range 2 {
		wantAck(t, <-answers)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("endpoint got the event %d times, want once", n)
	}
}
