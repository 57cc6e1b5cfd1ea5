package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/signature"
)

// secretIDOf returns the secret ID in a version resource name
// "projects/p/secrets/{id}/versions/1".
func secretIDOf(t *testing.T, version string) string {
	t.Helper()
	parts := strings.Split(version, "/")
	if len(parts) != 6 || parts[2] != "secrets" {
		t.Fatalf("secret version %q is not projects/*/secrets/*/versions/*", version)
	}
	return parts[3]
}

func TestCreateEndpoint(t *testing.T) {
	for _, who := range []string{"admin", "tenant key"} {
		t.Run(who, func(t *testing.T) {
			e := newEnv(t, nil)
			token := e.createTenant(t, "acme")
			if who == "admin" {
				token = adminToken
			}
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", token,
				`{"url":"https://hooks.example.com/in?x=1","event_types":["user.*","invoice.paid"],"description":"CRM"}`)
			if w.Code != http.StatusCreated {
				t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
			}
			got := decode[endpointCreated](t, w)
			if !strings.HasPrefix(got.ID, "ep_") || got.TenantID != "acme" || got.URL != "https://hooks.example.com/in?x=1" ||
				!slices.Equal(got.EventTypes, []string{"user.*", "invoice.paid"}) || got.Status != "active" {
				t.Errorf("endpoint = %+v", got)
			}
			if !strings.HasPrefix(got.Secret, signature.SecretPrefix) {
				t.Fatalf("secret = %q, want whsec_…", got.Secret)
			}
			if _, err := signature.ParseSecret(got.Secret); err != nil {
				t.Errorf("secret does not parse: %v", err)
			}
			if strings.Contains(w.Body.String(), "secret_version") || strings.Contains(w.Body.String(), "projects/") {
				t.Errorf("response %s exposes the secret's resource name", w.Body)
			}

			// Secret Manager holds the secret; the store holds only its version.
			stored := e.store.endpointsOf("acme")
			if len(stored) != 1 || stored[0].ID != got.ID {
				t.Fatalf("store endpoints = %+v, want the one created", stored)
			}
			payload, ok := e.secrets.get(secretIDOf(t, stored[0].SecretVersion))
			if !ok {
				t.Fatalf("no secret stored for version %q", stored[0].SecretVersion)
			}
			var sec hookrun.EndpointSecret
			if err := json.Unmarshal(payload, &sec); err != nil || sec.SigningSecret != got.Secret {
				t.Errorf("secret payload = %s (%v), want signing_secret equal to the returned secret", payload, err)
			}
		})
	}
}

func TestCreateEndpointRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	otherKey := e.createTenant(t, "globex")
	tests := []struct {
		name   string
		tenant string
		token  string
		body   string
		status int
		code   hookrun.Code
		msg    string
	}{
		{"other tenant's key", "acme", otherKey, `{"url":"https://example.com","event_types":["*"]}`, 403, hookrun.CodePermissionDenied, "acme"},
		{"no key", "acme", "", `{"url":"https://example.com","event_types":["*"]}`, 401, hookrun.CodeUnauthenticated, "credentials"},
		{"unknown tenant", "initech", adminToken, `{"url":"https://example.com","event_types":["*"]}`, 404, hookrun.CodeNotFound, "initech"},
		{"http URL", "acme", key, `{"url":"http://example.com/hook","event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url: must use https"},
		{"ftp URL", "acme", key, `{"url":"ftp://example.com/hook","event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url:"},
		{"relative URL", "acme", key, `{"url":"/hook","event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url:"},
		{"URL with credentials", "acme", key, `{"url":"https://u:p@example.com/","event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url:"},
		{"missing URL", "acme", key, `{"event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url: required"},
		{"URL of wrong type", "acme", key, `{"url":42,"event_types":["*"]}`, 400, hookrun.CodeInvalidArgument, "url:"},
		{"no event types", "acme", key, `{"url":"https://example.com"}`, 400, hookrun.CodeInvalidArgument, "event_types:"},
		{"bad pattern", "acme", key, `{"url":"https://example.com","event_types":["User.*"]}`, 400, hookrun.CodeInvalidArgument, "event_types:"},
		{"event types of wrong type", "acme", key, `{"url":"https://example.com","event_types":"*"}`, 400, hookrun.CodeInvalidArgument, "event_types:"},
		{"unknown field", "acme", key, `{"url":"https://example.com","event_types":["*"],"secret":"whsec_x"}`, 400, hookrun.CodeInvalidArgument, "secret: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants/"+tt.tenant+"/endpoints", tt.token, tt.body)
			wantError(t, w, tt.status, tt.code, tt.msg)
			if n := e.secrets.count(); n != 0 {
				t.Errorf("%d secrets created, want 0", n)
			}
			if n := len(e.store.endpointsOf(tt.tenant)); n != 0 {
				t.Errorf("%d endpoints stored, want 0", n)
			}
		})
	}
}

func TestCreateEndpointHTTPAllowedWhenConfigured(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.AllowHTTPEndpoints = true })
	key := e.createTenant(t, "acme")
	got := e.createEndpoint(t, "acme", key, "http://127.0.0.1:8082/webhooks")
	if got.URL != "http://127.0.0.1:8082/webhooks" {
		t.Errorf("url = %q", got.URL)
	}
	// Other schemes stay refused.
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"file:///etc/passwd","event_types":["*"]}`)
	wantError(t, w, 400, hookrun.CodeInvalidArgument, "url:")
}

func TestCreateEndpointSecretsUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.secrets.createErr = errors.New("rpc error: code = Unavailable")
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://example.com","event_types":["*"]}`)
	wantError(t, w, 503, hookrun.CodeUnavailable, "retry")
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if n := len(e.store.endpointsOf("acme")); n != 0 {
		t.Errorf("%d endpoints stored without a secret, want 0", n)
	}
}

// Secret Manager refusing a request is no outage: retrying cannot change
// it, so the answer is no 503 with Retry-After but a 500.
func TestCreateEndpointSecretsRefusal(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.secrets.createErr = errSecretTooLarge
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://example.com","event_types":["*"]}`)
	wantError(t, w, http.StatusInternalServerError, hookrun.CodeInternal, "Secret Manager refused")
	if ra := w.Header().Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After %q on a refusal, want none", ra)
	}
}

func TestCreateEndpointStoreFailureDeletesSecret(t *testing.T) {
	tests := []struct {
		name string
		// clientGone cancels the request while the store call runs, as a
		// client hanging up would.
		clientGone bool
	}{
		{"store fails", false},
		{"store fails as the client hangs up", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			key := e.createTenant(t, "acme")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.clientGone {
				e.store.createEndpointHook = cancel
			}
			e.store.createEndpointErr = errors.New("firestore: deadline exceeded")

			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/tenants/acme/endpoints",
				strings.NewReader(`{"url":"https://example.com","event_types":["*"]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+key)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)

			wantError(t, w, 500, hookrun.CodeInternal, "internal error")
			if strings.Contains(w.Body.String(), "whsec_") {
				t.Errorf("failed create returned a secret: %s", w.Body)
			}
			if n := e.secrets.count(); n != 0 {
				t.Errorf("%d secrets left behind by an endpoint that was not created, want 0", n)
			}
			if len(e.secrets.deleted) != 1 {
				t.Errorf("secrets deleted = %v, want the one created", e.secrets.deleted)
			}
		})
	}
}

func TestReadAndDeleteEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	otherKey := e.createTenant(t, "globex")

	// An empty list is [] rather than null.
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", key, ""); strings.TrimSpace(w.Body.String()) != `{"endpoints":[]}` {
		t.Errorf("empty list = %d %s, want {\"endpoints\":[]}", w.Code, w.Body)
	}
	first := e.createEndpoint(t, "acme", key, "https://one.example.com/")
	second := e.createEndpoint(t, "acme", adminToken, "https://two.example.com/")

	for _, token := range []string{key, adminToken} {
		w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", token, "")
		if w.Code != http.StatusOK {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		list := decode[struct {
			Endpoints []endpointCreated `json:"endpoints"`
		}](t, w)
		var ids []string
		for _, ep := range list.Endpoints {
			ids = append(ids, ep.ID)
		}
		if !slices.Equal(ids, []string{first.ID, second.ID}) {
			t.Errorf("listed ids = %v, want %v", ids, []string{first.ID, second.ID})
		}
		assertNoSecret(t, w, first.Secret, second.Secret)

		w = e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/"+first.ID, token, "")
		if w.Code != http.StatusOK {
			t.Fatalf("get: %d %s", w.Code, w.Body)
		}
		if got := decode[endpointCreated](t, w); got.ID != first.ID || got.URL != first.URL || got.Status != "active" {
			t.Errorf("get = %+v, want %+v without secret", got, first)
		}
		assertNoSecret(t, w, first.Secret, second.Secret)
	}

	// Another tenant's key sees nothing of acme.
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/v1/tenants/acme/endpoints"},
		{http.MethodGet, "/v1/tenants/acme/endpoints/" + first.ID},
		{http.MethodDelete, "/v1/tenants/acme/endpoints/" + first.ID},
	} {
		w := e.do(t, rt.method, rt.path, otherKey, "")
		wantError(t, w, 403, hookrun.CodePermissionDenied, "acme")
		if strings.Contains(w.Body.String(), first.URL) {
			t.Errorf("%s %s with another tenant's key reveals the endpoint: %s", rt.method, rt.path, w.Body)
		}
	}
	if n := len(e.store.endpointsOf("acme")); n != 2 {
		t.Fatalf("acme has %d endpoints after another tenant's delete, want 2", n)
	}

	// Unknown endpoints are 404.
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/ep_missing", key, ""), 404, hookrun.CodeNotFound, "ep_missing")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme/endpoints/ep_missing", key, ""), 404, hookrun.CodeNotFound, "ep_missing")

	// Delete removes the endpoint and its secret.
	version := e.store.endpointsOf("acme")[0].SecretVersion
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/endpoints/"+first.ID, key, ""); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("delete: %d %q, want 204 and no body", w.Code, w.Body)
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/"+first.ID, key, ""), 404, hookrun.CodeNotFound, first.ID)
	if _, ok := e.secrets.get(secretIDOf(t, version)); ok {
		t.Error("secret of the deleted endpoint still exists")
	}
	if eps := e.store.endpointsOf("acme"); len(eps) != 1 || eps[0].ID != second.ID {
		t.Errorf("endpoints after delete = %v, want only %s", eps, second.ID)
	}
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme/endpoints/"+first.ID, adminToken, ""), 404, hookrun.CodeNotFound, first.ID)
}

func assertNoSecret(t *testing.T, w *httptest.ResponseRecorder, secrets ...string) {
	t.Helper()
	body := w.Body.String()
	if strings.Contains(body, `"secret"`) || strings.Contains(body, "whsec_") || strings.Contains(body, "projects/") {
		t.Errorf("response carries a secret or its reference: %s", body)
	}
	for _, s := range secrets {
		if strings.Contains(body, strings.TrimPrefix(s, signature.SecretPrefix)) {
			t.Errorf("response carries a signing secret: %s", body)
		}
	}
}
