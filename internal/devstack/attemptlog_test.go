package devstack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// attemptLogTenant is the tenant of the attempt log's end-to-end tests.
const attemptLogTenant = "attemptlog"

// startAttemptLogRun starts a stack with env, a tenant and an endpoint
// that always answers 200, and returns the stack, its client, the
// tenant's key, the receiver and the endpoint's ID.
func startAttemptLogRun(ctx context.Context, t *testing.T, env ...string) (*Stack, *Client, string, *scripted, string) {
	t.Helper()
	stack, _ := startTestStack(t, env...)
	c := &Client{BaseURL: stack.IngestURL}
	key := createTestTenant(ctx, t, stack, attemptLogTenant, "Attempt log")
	rc, url := newScripted(t, func(string, int) (int, http.Header) { return http.StatusOK, nil })
	epID, _, err := c.CreateEndpoint(ctx, key, attemptLogTenant, url, []string{"*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return stack, c, key, rc, epID
}

// delivered sends an event and returns when the receiver answered 2xx.
func delivered(ctx context.Context, t *testing.T, c *Client, key string, rc *scripted, eventID string) time.Time {
	t.Helper()
	if _, err := c.SendEvent(ctx, key, eventID, "order.created", map[string]any{"n": 1}); err != nil {
		t.Fatalf("send %s: %v", eventID, err)
	}
	if err := rc.waitUntil(ctx, "the delivery of "+eventID, func(m map[string][]scriptedReq) bool { return len(m[eventID]) > 0 }); err != nil {
		t.Fatal(err)
	}
	return rc.requests(eventID)[0].at
}

// storedDelivery reads the delivery of eventID to epID as the API shows it.
func storedDelivery(ctx context.Context, t *testing.T, c *Client, key, eventID, epID string) (deliveryView, bool) {
	t.Helper()
	var v struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/tenants/"+attemptLogTenant+"/events/"+eventID, key, nil, &v); err != nil {
		t.Fatalf("get event %s: %v", eventID, err)
	}
	for _, d := range v.Deliveries {
		if d.EndpointID == epID {
			return d, true
		}
	}
	return deliveryView{}, false
}

// The record of a delivered event's attempt shows up within the flush
// interval (100 ms by default) of the endpoint's answer, give or take the
// time a loaded machine takes to write and read it.
func TestDeliveredAttemptShowsUpWithinTheFlushInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, c, key, rc, epID := startAttemptLogRun(ctx, t)
	answered := delivered(ctx, t, c, key, rc, "evt_flushed")
	// Firestore has no change feed to wait on: poll.
	const slack = 2 * time.Second
	for {
		d, ok := storedDelivery(ctx, t, c, key, "evt_flushed", epID)
		if ok && d.State == hookrun.DeliverySucceeded && len(d.AttemptLog) == 1 {
			t.Logf("attempt record readable %v after the endpoint answered", time.Since(answered).Round(time.Millisecond))
			return
		}
		if time.Since(answered) > 100*time.Millisecond+slack {
			t.Fatalf("%v after the endpoint answered, delivery = %v (found %v); want succeeded with its attempt", time.Since(answered), d, ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SIGTERM writes the attempt records the dispatcher still holds: with a
// flush interval of 5 s, a delivery's record is not yet written when the
// endpoint has answered, and stopping the dispatcher right then writes it.
func TestSIGTERMFlushesAttemptRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, c, key, rc, epID := startAttemptLogRun(ctx, t, "HOOKRUN_ATTEMPT_FLUSH_INTERVAL=5s")
	answered := delivered(ctx, t, c, key, rc, "evt_sigterm")
	if d, ok := storedDelivery(ctx, t, c, key, "evt_sigterm", epID); ok {
		t.Fatalf("delivery recorded before the flush: %v; want its record held (the push's first delivery, deliveryAttempt 1)", d)
	}
	if _, err := stack.Restart(ctx, "dispatcher"); err != nil { // SIGTERM, then start again
		t.Fatalf("restart the dispatcher: %v", err)
	}
	stopped := time.Since(answered)
	d, ok := storedDelivery(ctx, t, c, key, "evt_sigterm", epID)
	if !ok || d.State != hookrun.DeliverySucceeded || len(d.AttemptLog) != 1 {
		t.Fatalf("after SIGTERM, delivery = %v (found %v); want succeeded with its attempt", d, ok)
	}
	if stopped >= 5*time.Second {
		t.Logf("the stop took %v from the answer, past the flush interval: the timer may have written the record", stopped)
	}
}
