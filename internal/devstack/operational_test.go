package devstack

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// A tenant's endpoint subscribed to hookrun's operational events gets the
// notice, signed with its own secret, when the tenant's other endpoint is
// disabled by the dispatcher (here by a 410 Gone); the disabled endpoint
// does not get the notice of its own disabling.
func TestOperationalWebhookOnAutoDisable(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stack, _ := startTestStack(t)
	c := &Client{BaseURL: stack.IngestURL}
	key := createTestTenant(ctx, t, stack, "ops", "Ops Inc.")

	ops, opsURL := newScripted(t, func(string, int) (int, http.Header) { return http.StatusNoContent, nil })
	ops.keepHeaders = true
	_, opsSecret, err := c.CreateEndpoint(ctx, key, "ops", opsURL, []string{"hookrun.*"})
	if err != nil {
		t.Fatalf("create operations endpoint: %v", err)
	}
	gone, goneURL := newScripted(t, func(string, int) (int, http.Header) { return http.StatusGone, nil })
	gone.keepHeaders = true
	// "*" and "hookrun.*": were it not disabled, it would get the notice.
	goneID, _, err := c.CreateEndpoint(ctx, key, "ops", goneURL, []string{"*", "hookrun.*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	if _, err := c.SendEvent(ctx, key, "ops-1", "user.created", map[string]any{"n": 1}); err != nil {
		t.Fatalf("send: %v", err)
	}

	// The 410 disables the endpoint and makes ops-1's delivery a dead
	// letter: the operations endpoint gets both notices.
	err = ops.waitUntil(ctx, "the endpoint.disabled and delivery.dead_lettered notices", func(m map[string][]scriptedReq) bool { return len(m) >= 2 })
	if err != nil {
		t.Fatal(err)
	}
	_, bodies, headers := ops.signatures()
	wh, err := standardwebhooks.NewWebhook(opsSecret)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for i, body := range bodies {
		if err := wh.Verify(body, headers[i]); err != nil {
			t.Errorf("notice %s does not verify with the endpoint's secret: %v", body, err)
		}
		var notice struct {
			Type string `json:"type"`
			Data struct {
				EndpointID string               `json:"endpoint_id"`
				Cause      hookrun.DisableCause `json:"cause"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &notice); err != nil {
			t.Fatalf("notice %s: %v", body, err)
		}
		types[notice.Type]++
		if notice.Data.EndpointID != goneID {
			t.Errorf("notice %s is about endpoint %s, want %s", body, notice.Data.EndpointID, goneID)
		}
		if notice.Type == hookrun.TypeEndpointDisabled && notice.Data.Cause != hookrun.DisabledByGone {
			t.Errorf("notice %s: cause %q, want gone", body, notice.Data.Cause)
		}
	}
	if want := map[string]int{hookrun.TypeEndpointDisabled: 1, hookrun.TypeDeliveryDeadLettered: 1}; !maps.Equal(types, want) {
		t.Errorf("operations endpoint got notices %v, want %v", types, want)
	}
	// The notice has been delivered, so its fan-out is done: the disabled
	// endpoint got only the event that disabled it.
	if _, got, _ := gone.signatures(); len(got) != 1 {
		t.Errorf("disabled endpoint got %d webhooks, want only ops-1: %q", len(got), got)
	}
}
