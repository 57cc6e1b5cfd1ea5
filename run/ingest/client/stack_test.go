package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/hookrun/hookrun/run/ingest/client"
)

// TestClientAgainstTheLocalStack drives the real services (ingest and
// dispatcher on the Pub/Sub and Firestore emulators) through the client:
// the operator creates a tenant, the tenant an endpoint, events are sent,
// sent in a batch, listed and read with their attempts, dead letters are
// replayed one by one and in bulk, and a producer key sends on the
// tenant's route.
func TestClientAgainstTheLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	stack := startStack(ctx, t)

	admin, err := client.New(stack.IngestURL, client.WithAdminToken(stack.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	const tenantID = "sdk-test" // the stack's project is the test's own
	created, err := admin.CreateTenant(ctx, client.CreateTenantRequest{
		ID: tenantID, Name: "SDK test",
		// Two attempts, a second apart: dead letters come quickly.
		RetryPolicy: &client.RetryPolicy{InitialDelay: client.Ptr("1s"), MaxAttempts: client.Ptr(2), Jitter: client.Ptr[float32](0.1)},
	})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if created.ID != tenantID || created.Status != client.TenantActive || !strings.HasPrefix(created.APIKey, "hkr_") {
		t.Fatalf("CreateTenant answered %+v", created)
	}
	if _, err := admin.CreateTenant(ctx, client.CreateTenantRequest{ID: tenantID, Name: "again"}); !client.IsCode(err, client.CodeAlreadyExists) {
		t.Errorf("CreateTenant of an existing ID: %v, want ALREADY_EXISTS", err)
	}
	found := false
	for tn, err := range admin.Tenants(ctx) {
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		found = found || tn.ID == tenantID
	}
	if !found {
		t.Errorf("Tenants does not list %s", tenantID)
	}

	c, err := client.New(stack.IngestURL, client.WithAPIKey(created.APIKey), client.WithUserAgent("sdk-test/1"))
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	ep, err := c.CreateEndpoint(ctx, tenantID, client.CreateEndpointRequest{URL: rcv.url, EventTypes: []string{"order.*"}, Description: client.Ptr("sdk test")})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Errorf("CreateEndpoint secret %q, want whsec_…", ep.Secret)
	}
	verified, err := c.VerifyEndpoint(ctx, tenantID, ep.ID)
	if err != nil || verified.Status != client.EndpointActive {
		t.Fatalf("VerifyEndpoint: %+v, %v; want it active", verified, err)
	}
	if eps, err := c.ListEndpoints(ctx, tenantID); err != nil || len(eps) != 1 || eps[0].ID != ep.ID {
		t.Errorf("ListEndpoints: %+v, %v", eps, err)
	}
	upd, err := c.UpdateEndpoint(ctx, tenantID, ep.ID, client.EndpointUpdate{Description: client.Ptr("renamed")})
	if err != nil || upd.Description == nil || *upd.Description != "renamed" {
		t.Errorf("UpdateEndpoint: %+v, %v", upd, err)
	}

	// A delivered event, sent twice with the same ID: accepted once.
	id, err := c.Send(ctx, client.Event{Type: "order.paid", Data: map[string]any{"order": 1}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if again, err := c.Send(ctx, client.Event{ID: id, Type: "order.paid", Data: map[string]any{"order": 1}}); err != nil || again != id {
		t.Errorf("Send again with the same ID: %q, %v; want %q accepted as it was", again, err, id)
	}
	ev := waitForEvent(ctx, t, c, tenantID, id, func(e *client.EventWithDeliveries) bool {
		return len(e.Deliveries) == 1 && e.Deliveries[0].State == client.DeliverySucceeded
	})
	d := ev.Deliveries[0]
	if d.EndpointID != ep.ID || len(d.AttemptLog) != 1 || deref(d.AttemptLog[0].StatusCode) != http.StatusNoContent {
		t.Errorf("delivery %+v, want one attempt answered 204", d)
	}
	if got := rcv.deliveries(id); got != 1 {
		t.Errorf("receiver got event %s %d times, want once", id, got)
	}
	// The event list reads the records ingest writes just after its
	// answers (README: Records written after the answer).
	listed := false
	for deadline := time.Now().Add(10 * time.Second); !listed && time.Now().Before(deadline); {
		for e, err := range c.Events(ctx, tenantID, client.EventQuery{EventType: "order.paid", PageSize: 1}) {
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			listed = listed || e.ID == id
		}
		if !listed {
			pause(ctx, t, "event "+id+" in the list")
		}
	}
	if !listed {
		t.Errorf("Events does not list %s", id)
	}

	// A batch with a bad event: the others are accepted and delivered.
	batch, err := c.SendBatch(ctx, []client.Event{
		{Type: "order.paid", Data: map[string]any{"order": 3}},
		{Type: "Not A Type", Data: map[string]any{}},
		{ID: id, Type: "order.paid", Data: map[string]any{"order": 1}},
		{Type: "order.paid", Data: map[string]any{"order": 4}},
	})
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if batch.Accepted != 2 || batch.Duplicates != 1 || batch.Refused != 1 || !client.IsCode(batch.Results[1].Err, client.CodeInvalidArgument) || batch.Results[2].Outcome != client.Duplicate {
		t.Fatalf("SendBatch: %+v, want 2 accepted, the bad event refused, the known ID a duplicate", batch)
	}
	for _, i := range []int{0, 3} {
		waitForEvent(ctx, t, c, tenantID, batch.Results[i].ID, func(e *client.EventWithDeliveries) bool {
			return len(e.Deliveries) == 1 && e.Deliveries[0].State == client.DeliverySucceeded
		})
	}

	// Two events the receiver refuses become dead letters; one is
	// replayed alone, the other in bulk, once the receiver accepts them.
	rcv.refuse("order.refused")
	var dead []string
	for range 2 {
		id, err := c.Send(ctx, client.Event{Type: "order.refused", Data: map[string]any{}})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		dead = append(dead, id)
	}
	for _, id := range dead {
		waitForEvent(ctx, t, c, tenantID, id, func(e *client.EventWithDeliveries) bool {
			return len(e.Deliveries) == 1 && e.Deliveries[0].State == client.DeliveryDead
		})
	}
	var letters []client.Delivery
	for dl, err := range c.DeadLetters(ctx, tenantID, client.DeadLetterFilter{EventType: client.Ptr("order.refused")}) {
		if err != nil {
			t.Fatalf("DeadLetters: %v", err)
		}
		letters = append(letters, dl)
	}
	if len(letters) != 2 || letters[0].Attempts != 2 {
		t.Fatalf("DeadLetters: %+v, want the 2 refused events after 2 attempts each", letters)
	}
	rcv.refuse("")
	one, err := c.ReplayDeadLetter(ctx, tenantID, dead[0]+":"+ep.ID)
	if err != nil || one.ReplayID == "" {
		t.Fatalf("ReplayDeadLetter: %+v, %v", one, err)
	}
	waitForEvent(ctx, t, c, tenantID, dead[0], func(e *client.EventWithDeliveries) bool {
		return e.Deliveries[0].State == client.DeliverySucceeded
	})
	bulk, err := c.ReplayDeadLetters(ctx, tenantID, client.DeadLetterFilter{EventType: client.Ptr("order.refused")})
	if err != nil || deref(bulk.Count) != 1 {
		t.Fatalf("ReplayDeadLetters: %+v, %v; want the one dead letter left claimed", bulk, err)
	}
	for {
		r, err := c.GetReplay(ctx, tenantID, bulk.ReplayID)
		if err != nil {
			t.Fatalf("GetReplay: %v", err)
		}
		if r.Counts.Delivered == 1 {
			break
		}
		if r.State == client.ReplayFailed {
			t.Fatalf("replay failed: %+v", r)
		}
		pause(ctx, t, "the bulk replay to deliver")
	}

	// A producer key limited to the tenant sends on the tenant's route,
	// and to no other tenant; revoked, it sends nothing.
	pk, err := admin.CreateProducerKey(ctx, "sdk test", []string{tenantID})
	if err != nil || !strings.HasPrefix(pk.Key, "hkrp_") {
		t.Fatalf("CreateProducerKey: %+v, %v", pk, err)
	}
	producer, err := client.New(stack.IngestURL, client.WithProducerKey(pk.Key))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := producer.SendTo(ctx, tenantID, client.Event{Type: "order.paid", Data: map[string]any{"order": 2}})
	if err != nil {
		t.Fatalf("SendTo: %v", err)
	}
	waitForEvent(ctx, t, c, tenantID, pid, func(e *client.EventWithDeliveries) bool {
		return len(e.Deliveries) == 1 && e.Deliveries[0].State == client.DeliverySucceeded
	})
	if pb, err := producer.SendBatchTo(ctx, tenantID, []client.Event{{Type: "order.paid", Data: map[string]any{}}, {Type: "order.paid", Data: map[string]any{}}}); err != nil || pb.Accepted != 2 {
		t.Errorf("SendBatchTo with the producer key: %+v, %v", pb, err)
	}
	if _, err := producer.SendTo(ctx, "another-tenant", client.Event{Type: "order.paid", Data: map[string]any{}}); !client.IsCode(err, client.CodePermissionDenied) {
		t.Errorf("SendTo a tenant the key is not for: %v, want PERMISSION_DENIED", err)
	}
	listedKey := false
	for k, err := range admin.ProducerKeys(ctx) {
		if err != nil {
			t.Fatalf("ProducerKeys: %v", err)
		}
		listedKey = listedKey || k.ID == pk.ID && len(k.Tenants) == 1
	}
	if !listedKey {
		t.Errorf("ProducerKeys does not list %s", pk.ID)
	}
	if err := admin.RevokeProducerKey(ctx, pk.ID); err != nil {
		t.Fatalf("RevokeProducerKey: %v", err)
	}
	if _, err := producer.SendTo(ctx, tenantID, client.Event{Type: "order.paid", Data: map[string]any{}}); !client.IsCode(err, client.CodeUnauthenticated) {
		t.Errorf("SendTo with a revoked key: %v, want UNAUTHENTICATED", err)
	}

	// Errors carry the API's code.
	if _, err := c.GetEvent(ctx, tenantID, "no-such-event"); !client.IsCode(err, client.CodeNotFound) {
		t.Errorf("GetEvent of an unknown event: %v, want NOT_FOUND", err)
	}
	if _, err := c.ListEndpoints(ctx, "another-tenant"); !client.IsCode(err, client.CodePermissionDenied) {
		t.Errorf("ListEndpoints of another tenant: %v, want PERMISSION_DENIED", err)
	}
	var apiErr *client.Error
	if _, err := c.Send(ctx, client.Event{Type: "Not A Type", Data: map[string]any{}}); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.HasPrefix(apiErr.Message, "type") {
		t.Errorf("Send with a bad type: %v, want 400 INVALID_ARGUMENT about the type", err)
	}

	rotated, err := c.RotateEndpointSecret(ctx, tenantID, ep.ID, client.Ptr(time.Minute))
	if err != nil || rotated.Secret == ep.Secret || rotated.PreviousSecretExpireTime == nil {
		t.Errorf("RotateEndpointSecret: %+v, %v", rotated, err)
	}
	session, err := c.CreatePortalSession(ctx, tenantID, 10*time.Minute)
	if err != nil || !strings.HasPrefix(session.URL, stack.IngestURL+"/portal/open?token=") {
		t.Errorf("CreatePortalSession: %+v, %v", session, err)
	}
	if err := c.DeleteEndpoint(ctx, tenantID, ep.ID); err != nil {
		t.Errorf("DeleteEndpoint: %v", err)
	}
	if _, err := c.GetEndpoint(ctx, tenantID, ep.ID); !client.IsCode(err, client.CodeNotFound) {
		t.Errorf("GetEndpoint after DeleteEndpoint: %v, want NOT_FOUND", err)
	}
}

func startStack(ctx context.Context, t *testing.T) *devstack.Stack {
	t.Helper()
	log := &testLog{t: t}
	stack, err := devstack.StartStack(ctx, devstack.StackConfig{
		ProjectID:     testenv.ProjectID(t),
		PubSubHost:    testenv.PubSubHost(t),
		FirestoreHost: testenv.FirestoreHost(t),
		Output:        log,
	})
	if err != nil {
		t.Fatalf("StartStack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("Stop: %v", err)
		}
		log.mu.Lock()
		log.done = true
		log.mu.Unlock()
	})
	return stack
}

// waitForEvent reads an event until done holds for it. Nothing announces
// that a delivery was recorded, so it asks again after a pause.
func waitForEvent(ctx context.Context, t *testing.T, c *client.Client, tenant, id string, done func(*client.EventWithDeliveries) bool) *client.EventWithDeliveries {
	t.Helper()
	for {
		e, err := c.GetEvent(ctx, tenant, id)
		if err != nil && !client.IsCode(err, client.CodeNotFound) {
			t.Fatalf("GetEvent %s: %v", id, err)
		}
		if err == nil && done(e) {
			return e
		}
		pause(ctx, t, "event "+id)
	}
}

func pause(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
	case <-time.After(100 * time.Millisecond):
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// receiver is a tenant's endpoint: it answers the ownership challenge,
// refuses events of one type (500) and counts the others by ID.
type receiver struct {
	url string

	mu      sync.Mutex
	refused string
	got     map[string]int
}

func newReceiver(t *testing.T) *receiver {
	rcv := &receiver{got: map[string]int{}}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	rcv.url = srv.URL + "/hooks"
	return rcv
}

func (rcv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if devstack.AnswerChallenge(w, body) {
		return
	}
	var p struct{ ID, Type string }
	_ = json.Unmarshal(body, &p)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if p.Type == rcv.refused {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rcv.got[p.ID]++
	w.WriteHeader(http.StatusNoContent)
}

func (rcv *receiver) refuse(eventType string) {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	rcv.refused = eventType
}

func (rcv *receiver) deliveries(id string) int {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return rcv.got[id]
}

// testLog sends the stack's output to the test log, until the test ends.
type testLog struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
