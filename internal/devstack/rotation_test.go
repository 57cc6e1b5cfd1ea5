package devstack

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestSecretRotationEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	// Its own project and services on the shared emulators; waits on
	// deliveries, which overlap well with the other end-to-end tests.
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stack, _ := startTestStack(t)
	c := &Client{BaseURL: stack.IngestURL}
	key, err := c.CreateTenant(ctx, stack.AdminToken, "rot", "Rotation")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	var sigs []string
	var bodies [][]byte
	var headers []http.Header
	rc, url := newScripted(t, func(string, int) (int, http.Header) { return http.StatusOK, nil })
	_ = rc
	recv := func(ctx context.Context, n int) {
		t.Helper()
		if err := rc.waitUntil(ctx, "deliveries", func(m map[string][]scriptedReq) bool {
			total := 0
			for _, r := range m {
				total += len(r)
			}
			return total >= n
		}); err != nil {
			t.Fatal(err)
		}
	}
	epID, oldSecret, err := c.CreateEndpoint(ctx, key, "rot", url, []string{"*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	var rotated struct {
		Secret string `json:"secret"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants/rot/endpoints/"+epID+"/secret:rotate", key, map[string]any{"grace_period": "3s"}, &rotated); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rc.keepHeaders = true
	if _, err := c.SendEvent(ctx, key, "during-grace", "a.b", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	recv(ctx, 1)
	sigs, bodies, headers = rc.signatures()
	if n := len(strings.Fields(sigs[0])); n != 2 {
		t.Errorf("during the grace period: %d signatures, want 2", n)
	}
	for _, s := range []string{oldSecret, rotated.Secret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(bodies[0], headers[0]); err != nil {
			t.Errorf("a receiver holding one of the secrets cannot verify: %v", err)
		}
	}

	// The scheduled task retires the old secret when the grace ends.
	for {
		var ep struct {
			PreviousUntil string `json:"previous_secret_expire_time"`
		}
		if err := c.Do(ctx, http.MethodGet, "/v1/tenants/rot/endpoints/"+epID, key, nil, &ep); err != nil {
			t.Fatal(err)
		}
		if ep.PreviousUntil == "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the old secret was not retired after its grace period")
		}
		time.Sleep(200 * time.Millisecond) // polling the API: no change feed to wait on
	}
	if _, err := c.SendEvent(ctx, key, "after-grace", "a.b", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	recv(ctx, 2)
	sigs, _, _ = rc.signatures()
	if n := len(strings.Fields(sigs[1])); n != 1 {
		t.Errorf("after the grace period: %d signatures, want 1", n)
	}
}
