package devstack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// A batch of 500 events with a few bad ones among them, through the whole
// stack: the bad ones are refused in their results, and exactly the good
// ones reach the endpoint, each once.
func TestBatchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack, _ := startTestStack(t)
	c, key, rcv := verifiedTenant(ctx, t, stack, "batch")

	bad := map[int]map[string]any{
		7:   {"id": "b-7", "type": "User Created", "data": map[string]any{}},
		99:  {"id": "b-99", "type": "user.created"},
		250: {"id": "b-250", "type": "hookrun.endpoint.disabled", "data": map[string]any{}},
		388: {"id": "b-388", "type": "user.created", "data": map[string]any{}, "tenant_id": "other"},
		499: {"id": "b/499", "type": "user.created", "data": map[string]any{}},
	}
	events := make([]map[string]any, 500)
	var good []string
	for i := range events {
		if e, ok := bad[i]; ok {
			events[i] = e
			continue
		}
		id := fmt.Sprintf("b-%d", i)
		events[i] = map[string]any{"id": id, "type": "user.created", "data": map[string]any{"i": i}}
		good = append(good, id)
	}
	var ans struct {
		Results []struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		} `json:"results"`
		Accepted, Duplicates, Refused int
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants/batch/events:batch", key, map[string]any{"events": events}, &ans); err != nil {
		t.Fatalf("POST events:batch: %v", err)
	}
	if ans.Accepted != len(good) || ans.Refused != len(bad) || ans.Duplicates != 0 || len(ans.Results) != len(events) {
		t.Fatalf("accepted %d, refused %d, duplicates %d of %d results; want %d, %d, 0 of %d",
			ans.Accepted, ans.Refused, ans.Duplicates, len(ans.Results), len(good), len(bad), len(events))
	}
	for i, r := range ans.Results {
		want := "accepted"
		if _, ok := bad[i]; ok {
			want = "refused"
		}
		if r.Result != want {
			t.Errorf("results[%d] = %s %s, want %s", i, r.ID, r.Result, want)
		}
	}

	if err := rcv.waitFor(ctx, good...); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, id := range good {
		if n := rcv.byEvent[id]; n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	if len(rcv.byEvent) != len(good) {
		t.Errorf("%d events delivered, want the %d good ones", len(rcv.byEvent), len(good))
	}
	if len(rcv.bad) > 0 {
		t.Errorf("deliveries that failed verification: %v", rcv.bad[:min(len(rcv.bad), 3)])
	}
}

// verifiedTenant creates tenant id with an endpoint for user.* events at a
// verifyingReceiver, and returns a client of the stack, the tenant's key
// and the receiver.
func verifiedTenant(ctx context.Context, t *testing.T, stack *Stack, id string) (*Client, string, *verifyingReceiver) {
	t.Helper()
	c := &Client{BaseURL: stack.IngestURL}
	key, err := c.CreateTenant(ctx, stack.AdminToken, id, id)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	rcv := &verifyingReceiver{byEvent: map[string]int{}, webhookIDs: map[string]string{}, changed: make(chan struct{})}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	_, secret, err := c.CreateEndpoint(ctx, key, id, srv.URL+"/hooks", []string{"user.*"})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if rcv.wh, err = standardwebhooks.NewWebhook(secret); err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return c, key, rcv
}
