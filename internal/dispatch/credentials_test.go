package dispatch_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

func TestDeliveriesCarryCredentialsAndBothSignaturesDuringGrace(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	oldSecret, newSecret := signature.NewSecret(), signature.NewSecret()
	put := func(version, signing string) {
		p, _ := json.Marshal(hookrun.EndpointSecret{SigningSecret: signing,
			Auth:    hookrun.EndpointAuth{Kind: hookrun.AuthAPIKey, Header: "X-Api-Key", Key: "k-123"},
			Headers: map[string]string{"X-Team": "billing"}})
		e.secrets.mu.Lock()
		e.secrets.versions[version] = p
		e.secrets.mu.Unlock()
	}
	put("v-old", oldSecret)
	put("v-new", newSecret)
	e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.SecretVersion, ep.PreviousSecretVersion, ep.PreviousSecretUntil = "v-new", "v-old", time.Now().Add(time.Hour)
	})
	ev := userCreated("evt_rot")
	wantAck(t, e.push(t, apiMessage("1", ev)))

	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	h := reqs[0].header
	if h.Get("X-Api-Key") != "k-123" || h.Get("X-Team") != "billing" {
		t.Errorf("credentials not sent: X-Api-Key=%q X-Team=%q", h.Get("X-Api-Key"), h.Get("X-Team"))
	}
	if sigs := strings.Fields(h.Get(signature.HeaderSignature)); len(sigs) != 2 {
		t.Fatalf("webhook-signature = %q, want two during the grace period", h.Get(signature.HeaderSignature))
	}
	// Receivers holding either secret verify with the public library.
	for _, s := range []string{oldSecret, newSecret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(reqs[0].body, h); err != nil {
			t.Errorf("verify with one of the secrets: %v", err)
		}
	}
}
