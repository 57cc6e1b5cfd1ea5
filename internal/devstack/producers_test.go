package devstack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/oidc/oidctest"
)

// One producer, two tenants: a producer key and a service account's ID
// token each send events of both, which reach each tenant's endpoint,
// signed with that tenant's secret. The ID tokens are signed by a local
// issuer whose key ingest fetches from 127.0.0.1 (HOOKRUN_GOOGLE_CERTS_URL)
// instead of Google.
func TestProducerCredentialsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	// Its own project and services on the shared emulators; waits on
	// deliveries, which overlap well with the other end-to-end tests.
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	iss, err := oidctest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	const (
		sender   = "webhooks@saas-prod.iam.gserviceaccount.com"
		audience = "https://hookrun-ingest.example"
	)
	stack, _ := startTestStack(t,
		"HOOKRUN_PRODUCER_SERVICE_ACCOUNTS="+sender,
		"HOOKRUN_PRODUCER_AUDIENCE="+audience,
		"HOOKRUN_GOOGLE_CERTS_URL="+iss.CertsURL(),
	)
	c := &Client{BaseURL: stack.IngestURL}

	tenants := []string{"pk-acme", "pk-globex"}
	receivers := map[string]*verifyingReceiver{}
	for _, tenant := range tenants {
		key, err := c.CreateTenant(ctx, stack.AdminToken, tenant, tenant)
		if err != nil {
			t.Fatalf("create tenant %s: %v", tenant, err)
		}
		rcv := &verifyingReceiver{byEvent: map[string]int{}, webhookIDs: map[string]string{}, changed: make(chan struct{})}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		_, secret, err := c.CreateEndpoint(ctx, key, tenant, srv.URL+"/hooks", []string{"*"})
		if err != nil {
			t.Fatalf("create endpoint of %s: %v", tenant, err)
		}
		if rcv.wh, err = standardwebhooks.NewWebhook(secret); err != nil {
			t.Fatal(err)
		}
		receivers[tenant] = rcv
	}

	var created struct {
		ID  string `json:"id"`
		Key string `json:"producer_key"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/producer-keys", stack.AdminToken, map[string]any{"name": "saas backend", "tenants": tenants}, &created); err != nil {
		t.Fatalf("create producer key: %v", err)
	}
	token := iss.Token(sender, audience)
	for _, tenant := range tenants {
		for cred, secret := range map[string]string{"key": created.Key, "token": token} {
			if _, err := c.SendTenantEvent(ctx, secret, tenant, tenant+"-by-"+cred, "invoice.paid", map[string]any{"tenant": tenant}); err != nil {
				t.Fatalf("send to %s with the producer %s: %v", tenant, cred, err)
			}
		}
	}
	for _, tenant := range tenants {
		if err := receivers[tenant].waitFor(ctx, tenant+"-by-key", tenant+"-by-token"); err != nil {
			t.Fatalf("%s: %v", tenant, err)
		}
	}
	for _, tenant := range tenants {
		rcv := receivers[tenant]
		rcv.mu.Lock()
		if len(rcv.byEvent) != 2 || len(rcv.bad) != 0 {
			t.Errorf("%s's endpoint received %v (bad signatures %v), want only its own 2 events", tenant, rcv.byEvent, rcv.bad)
		}
		rcv.mu.Unlock()
	}

	// Revoked, the key sends nothing more; a token for another audience
	// never did.
	if err := c.Do(ctx, http.MethodDelete, "/v1/producer-keys/"+created.ID, stack.AdminToken, nil, nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	for name, cred := range map[string]string{"revoked key": created.Key, "token for another audience": iss.Token(sender, "https://elsewhere.example")} {
		_, err := c.SendTenantEvent(ctx, cred, "pk-acme", "refused", "invoice.paid", map[string]any{})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}
}
