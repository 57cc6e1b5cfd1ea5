package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/firestore"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// Most of the attempt log's end-to-end tests post push envelopes to the
// dispatcher themselves, to know when a push is acknowledged; the
// envelopes carry deliveryAttempt as production Pub/Sub sets it (the
// stack's push relay sets it on the emulator's pushes).

// attemptLogRun is a stack with one tenant whose one endpoint always
// answers 200, and the stack's Firestore, read directly.
type attemptLogRun struct {
	stack *Stack
	store *firestore.Store
	rc    *scripted
	epID  string
	key   string // the tenant's API key
}

const attemptLogTenant = "attemptlog"

func startAttemptLogRun(ctx context.Context, t *testing.T, env ...string) attemptLogRun {
	t.Helper()
	stack, project := startTestStack(t, env...)
	key := createTestTenant(ctx, t, stack, attemptLogTenant, "Attempt log")
	rc, url := newScripted(t, func(string, int) (int, http.Header) { return http.StatusOK, nil })
	c := &Client{BaseURL: stack.IngestURL}
	epID, _, err := c.CreateEndpoint(ctx, key, attemptLogTenant, url, []string{"*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	store, err := firestore.New(ctx, firestore.Config{ProjectID: project})
	if err != nil {
		t.Fatalf("firestore.New: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return attemptLogRun{stack: stack, store: store, rc: rc, epID: epID, key: key}
}

// push posts eventID's first message to the dispatcher, as Pub/Sub pushes
// it, and returns once it is acknowledged.
func (r attemptLogRun) push(ctx context.Context, t *testing.T, eventID string) {
	t.Helper()
	now := time.Now().UTC()
	e := wire.Event{ID: eventID, TenantID: attemptLogTenant, Type: "order.created", Data: []byte(`{"n":1}`), Source: hookrun.SourceAPI, ReceivedAt: now}
	body, err := json.Marshal(wire.PushEnvelope{
		Message:         wire.Message{Data: e.Data, Attributes: e.Attributes(), MessageID: "m-" + eventID, PublishTime: now},
		Subscription:    "projects/test/subscriptions/" + DispatchSubscription,
		DeliveryAttempt: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.stack.DispatcherURL+"/pubsub/push", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("push %s: %v", eventID, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("push %s answered %d, want 204", eventID, resp.StatusCode)
	}
	if n := len(r.rc.requests(eventID)); n != 1 {
		t.Fatalf("receiver got %d requests for %s when the push was acknowledged, want 1", n, eventID)
	}
}

// delivery reads the delivery of eventID to the endpoint from Firestore;
// ok is false while there is none.
func (r attemptLogRun) delivery(ctx context.Context, t *testing.T, eventID string) (d hookrun.Delivery, ok bool) {
	t.Helper()
	d, err := r.store.GetDelivery(ctx, attemptLogTenant, eventID, r.epID)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return hookrun.Delivery{}, false
	}
	if err != nil {
		t.Fatalf("GetDelivery(%s): %v", eventID, err)
	}
	return d, true
}

func wantSucceededOnce(t *testing.T, what string, d hookrun.Delivery, ok bool) {
	t.Helper()
	if !ok || d.State != hookrun.DeliverySucceeded || len(d.AttemptLog) != 1 || d.AttemptLog[0].StatusCode != http.StatusOK {
		t.Fatalf("%s: delivery = %+v (found %v); want succeeded with its one attempt", what, d, ok)
	}
}

// The record of a delivered event's attempt is written within the flush
// interval (100 ms by default) of the acknowledgement, give or take what
// a loaded machine takes to write and read it.
func TestDeliveredAttemptIsRecordedWithinTheFlushInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startAttemptLogRun(ctx, t)
	r.push(ctx, t, "evt_flushed")
	acked := time.Now()
	const slack = 2 * time.Second
	for {
		d, ok := r.delivery(ctx, t, "evt_flushed")
		if ok {
			wantSucceededOnce(t, "flushed", d, ok)
			t.Logf("attempt record read %v after the acknowledgement", time.Since(acked).Round(time.Millisecond))
			return
		}
		if time.Since(acked) > 100*time.Millisecond+slack {
			t.Fatalf("no delivery record %v after the acknowledgement; want it within the flush interval", time.Since(acked))
		}
		time.Sleep(10 * time.Millisecond) // polling Firestore: no change feed to wait on
	}
}

// SIGTERM writes the attempt records the dispatcher still holds: with a
// flush interval of 5 s, a delivery's record is not written when its push
// is acknowledged, and stopping the dispatcher right then writes it.
func TestSIGTERMFlushesAttemptRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startAttemptLogRun(ctx, t, "HOOKRUN_ATTEMPT_FLUSH_INTERVAL=5s")
	r.push(ctx, t, "evt_sigterm")
	acked := time.Now()
	if d, ok := r.delivery(ctx, t, "evt_sigterm"); ok {
		t.Fatalf("delivery recorded when its push was acknowledged: %+v; want its record held for the flush", d)
	}
	if _, err := r.stack.Restart(ctx, "dispatcher"); err != nil { // SIGTERM, wait, start again
		t.Fatalf("restart the dispatcher: %v", err)
	}
	if took := time.Since(acked); took >= 5*time.Second {
		t.Logf("the stop ended %v after the acknowledgement, past the flush interval: the timer may have written the record", took)
	}
	d, ok := r.delivery(ctx, t, "evt_sigterm")
	wantSucceededOnce(t, "after SIGTERM", d, ok)
}

// Through the stack's Pub/Sub, as in production, an event's first push
// takes the first-message path: the record of its successful attempt is
// not written before the push is acknowledged but held for the flush
// (here 5 s). A push taken for a possible redelivery would have written it
// right after the endpoint answered.
func TestFirstPushThroughPubSubIsRecordedAfterTheAck(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const flush = 5 * time.Second
	r := startAttemptLogRun(ctx, t, "HOOKRUN_ATTEMPT_FLUSH_INTERVAL="+flush.String())
	c := &Client{BaseURL: r.stack.IngestURL}
	const id = "evt_through_pubsub"
	if _, err := c.SendEvent(ctx, r.key, id, "order.created", map[string]int{"n": 1}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := r.rc.waitUntil(ctx, "the webhook", func(reqs map[string][]scriptedReq) bool { return len(reqs[id]) > 0 }); err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	const held = 2 * time.Second // far more than a write before the ack takes, well within the flush
	for {
		d, ok := r.delivery(ctx, t, id)
		since := time.Since(answered)
		if ok && since < held {
			t.Fatalf("delivery recorded %v after the endpoint answered, with a %v flush interval: %+v; want the first push's record held for the flush", since.Round(time.Millisecond), flush, d)
		}
		if ok {
			wantSucceededOnce(t, "flushed", d, ok)
			t.Logf("attempt record read %v after the endpoint answered", since.Round(time.Millisecond))
			break
		}
		if since > 2*flush {
			t.Fatalf("no delivery record %v after the endpoint answered; want it within the flush interval (%v)", since, flush)
		}
		time.Sleep(50 * time.Millisecond) // polling Firestore: no change feed to wait on
	}
	if n := len(r.rc.requests(id)); n != 1 {
		t.Errorf("the endpoint got %d requests for %s, want 1", n, id)
	}
}

// Ingest writes the records of accepted events after their 202, and
// SIGTERM writes those it still holds: with a flush interval of 5 s, an
// event sent without an id is not in Firestore when it is answered, and
// restarting ingest right then writes it. The event is delivered once
// either way.
func TestSIGTERMFlushesEventRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startAttemptLogRun(ctx, t, "HOOKRUN_EVENT_FLUSH_INTERVAL=5s")
	c := &Client{BaseURL: r.stack.IngestURL}
	id, err := c.SendEvent(ctx, r.key, "", "order.created", map[string]int{"n": 1})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	answered := time.Now()
	if _, err := r.store.GetEvent(ctx, attemptLogTenant, id); hookrun.ErrorCode(err) != hookrun.CodeNotFound {
		t.Fatalf("event record when its 202 came: %v; want NOT_FOUND, the record held for the flush", err)
	}
	if _, err := r.stack.Restart(ctx, "ingest"); err != nil { // SIGTERM, wait, start again
		t.Fatalf("restart ingest: %v", err)
	}
	if took := time.Since(answered); took >= 5*time.Second {
		t.Logf("the stop ended %v after the 202, past the flush interval: the timer may have written the record", took)
	}
	if e, err := r.store.GetEvent(ctx, attemptLogTenant, id); err != nil || e.Type != "order.created" {
		t.Errorf("event record after SIGTERM = %+v, %v; want the event", e, err)
	}
	if err := r.rc.waitUntil(ctx, "the webhook", func(reqs map[string][]scriptedReq) bool { return len(reqs[id]) > 0 }); err != nil {
		t.Fatal(err)
	}
	if n := len(r.rc.requests(id)); n != 1 {
		t.Errorf("the endpoint got %d requests for %s, want 1", n, id)
	}
}
