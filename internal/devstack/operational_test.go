package devstack

import (
	"context"
	"encoding/json"
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

	var notice struct {
		ID   string                         `json:"id"`
		Type string                         `json:"type"`
		Data hookrun.EndpointDisabledNotice `json:"data"`
	}
	err = ops.waitUntil(ctx, "the endpoint.disabled notice", func(m map[string][]scriptedReq) bool { return len(m) > 0 })
	if err != nil {
		t.Fatal(err)
	}
	_, bodies, headers := ops.signatures()
	wh, err := standardwebhooks.NewWebhook(opsSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(bodies[0], headers[0]); err != nil {
		t.Errorf("the notice does not verify with the endpoint's secret: %v", err)
	}
	if err := json.Unmarshal(bodies[0], &notice); err != nil {
		t.Fatalf("notice %s: %v", bodies[0], err)
	}
	if notice.Type != hookrun.TypeEndpointDisabled || notice.Data.EndpointID != goneID || notice.Data.Cause != hookrun.DisabledByGone {
		t.Errorf("notice = %s, want %s of %s caused by gone", bodies[0], hookrun.TypeEndpointDisabled, goneID)
	}
	if len(bodies) != 1 {
		t.Errorf("operations endpoint got %d webhooks, want the one notice", len(bodies))
	}
	// The notice has been delivered, so its fan-out is done: the disabled
	// endpoint got only the event that disabled it.
	if _, got, _ := gone.signatures(); len(got) != 1 {
		t.Errorf("disabled endpoint got %d webhooks, want only ops-1: %q", len(got), got)
	}
}
