package ingest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func TestCreateTenant(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"  Acme Inc. "}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
	}
	got := decode[struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
		APIKey string `json:"api_key"`
	}](t, w)
	if got.ID != "acme" || got.Name != "Acme Inc." || got.Status != "active" {
		t.Errorf("tenant = %+v, want id acme, name %q, status active", got, "Acme Inc.")
	}
	if !hookrun.LooksLikeAPIKey(got.APIKey) {
		t.Fatalf("api_key = %q, want a hkr_ key", got.APIKey)
	}

	// The store holds the hash, never the key.
	e.store.mu.Lock()
	owner, ok := e.store.keys[hookrun.HashAPIKey(got.APIKey)]
	_, rawStored := e.store.keys[got.APIKey]
	e.store.mu.Unlock()
	if !ok || owner != "acme" {
		t.Errorf("store has key hash → %q (found %v), want acme", owner, ok)
	}
	if rawStored {
		t.Error("store holds the raw API key, want only its hash")
	}

	// The key works for the tenant's own routes.
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", got.APIKey, ""); w.Code != http.StatusOK {
		t.Errorf("list endpoints with the new key: %d %s, want 200", w.Code, w.Body)
	}
	// Every tenant gets its own key.
	if other := e.createTenant(t, "globex"); other == got.APIKey {
		t.Error("two tenants got the same API key")
	}
}

func TestCreateTenantRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	tests := []struct {
		name   string
		token  string
		body   string
		status int
		code   hookrun.Code
		msg    string
	}{
		{"tenant key", key, `{"id":"globex","name":"Globex"}`, 403, hookrun.CodePermissionDenied, "admin"},
		{"no credentials", "", `{"id":"globex","name":"Globex"}`, 401, hookrun.CodeUnauthenticated, "credentials"},
		{"duplicate id", adminToken, `{"id":"acme","name":"Acme again"}`, 409, hookrun.CodeAlreadyExists, "acme"},
		{"invalid id", adminToken, `{"id":"Globex!","name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"id too short", adminToken, `{"id":"gx","name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"missing id", adminToken, `{"name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"id of wrong type", adminToken, `{"id":7,"name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"missing name", adminToken, `{"id":"globex"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"blank name", adminToken, `{"id":"globex","name":"   "}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"name too long", adminToken, `{"id":"globex","name":"` + strings.Repeat("n", 201) + `"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"unknown field", adminToken, `{"id":"globex","name":"Globex","plan":"pro"}`, 400, hookrun.CodeInvalidArgument, "plan"},
		{"malformed JSON", adminToken, `{"id":"globex",`, 400, hookrun.CodeInvalidArgument, "JSON"},
		{"empty body", adminToken, ``, 400, hookrun.CodeInvalidArgument, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants", tt.token, tt.body)
			wantError(t, w, tt.status, tt.code, tt.msg)
			if strings.Contains(w.Body.String(), "hkr_") {
				t.Errorf("refusal %s carries an API key", w.Body)
			}
			e.store.mu.Lock()
			n, name := len(e.store.tenants), e.store.tenants["acme"].Name
			e.store.mu.Unlock()
			if n != 1 || name != "Tenant acme" {
				t.Errorf("store has %d tenants (acme named %q), want only the original acme", n, name)
			}
		})
	}
}

func TestUnknownRoutesAnswerInAPIShape(t *testing.T) {
	e := newEnv(t, nil)
	wantError(t, e.do(t, http.MethodGet, "/v1/nothing", adminToken, ""), 404, hookrun.CodeNotFound, "no route")
	wantError(t, e.do(t, http.MethodPut, "/v1/events", adminToken, ""), 404, hookrun.CodeNotFound, "no route")
	if w := e.do(t, http.MethodGet, "/healthz", "", ""); w.Code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", w.Code)
	}
}
