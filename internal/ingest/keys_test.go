package ingest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type keyJSON struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant_id"`
	Name       string `json:"name"`
	Prefix     string `json:"prefix"`
	Last4      string `json:"last4"`
	CreateTime string `json:"create_time"`
	Revoked    bool   `json:"revoked"`
	RevokeTime string `json:"revoke_time"`
	APIKey     string `json:"api_key"`
}

func createKey(t *testing.T, e *env, tenantID, token, body string) keyJSON {
	t.Helper()
	w := e.do(t, http.MethodPost, "/v1/tenants/"+tenantID+"/api-keys", token, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("create key: %d %s", w.Code, w.Body)
	}
	return decode[keyJSON](t, w)
}

func listKeys(t *testing.T, e *env, tenantID, token string) []keyJSON {
	t.Helper()
	w := e.do(t, http.MethodGet, "/v1/tenants/"+tenantID+"/api-keys", token, "")
	if w.Code != http.StatusOK {
		t.Fatalf("list keys: %d %s", w.Code, w.Body)
	}
	return decode[struct {
		APIKeys []keyJSON `json:"api_keys"`
	}](t, w).APIKeys
}

func TestAPIKeyLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	first := e.createTenant(t, "acme")

	// The tenant makes a second key with its first.
	k := createKey(t, e, "acme", first, `{"name":" CI deploys "}`)
	if !hookrun.LooksLikeAPIKey(k.APIKey) || !hookrun.ValidAPIKeyID(k.ID) || k.TenantID != "acme" || k.Name != "CI deploys" ||
		k.Prefix != k.APIKey[4:12] || k.Last4 != k.APIKey[len(k.APIKey)-4:] || k.CreateTime == "" || k.Revoked {
		t.Fatalf("created key = %+v, want a hkr_ key shown once with its id, name, prefix and last 4", k)
	}
	if k.APIKey == first {
		t.Fatal("the new key is the first key")
	}
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", k.APIKey, ""); w.Code != http.StatusOK {
		t.Fatalf("the new key: %d %s, want 200", w.Code, w.Body)
	}

	// The list shows both, never a key or its hash.
	w := e.do(t, http.MethodGet, "/v1/tenants/acme/api-keys", adminToken, "")
	for _, secret := range []string{first, k.APIKey, hookrun.HashAPIKey(first), hookrun.HashAPIKey(k.APIKey), "hkr_", "hash"} {
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("key list %s contains %q", w.Body, secret)
		}
	}
	keys := listKeys(t, e, "acme", first)
	if len(keys) != 2 || keys[1].ID != k.ID || keys[1].Name != "CI deploys" || keys[0].Revoked || keys[1].Revoked {
		t.Fatalf("keys = %+v, want the first key then %s, both active", keys, k.ID)
	}

	// Revoked, the key authenticates nothing, at once: the lookup that
	// the request above cached is dropped.
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/api-keys/"+k.ID, first, ""); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s, want 204", w.Code, w.Body)
	}
	unknown, _ := hookrun.NewAPIKey()
	want := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", unknown, "")
	got := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", k.APIKey, "")
	wantError(t, got, 401, hookrun.CodeUnauthenticated, "credentials")
	if got.Body.String() != want.Body.String() {
		t.Errorf("revoked key: %s, want the same answer as an unknown key: %s", got.Body, want.Body)
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/events", k.APIKey, `{"type":"user.created","data":{}}`), 401, hookrun.CodeUnauthenticated, "credentials")

	keys = listKeys(t, e, "acme", first)
	if len(keys) != 2 || !keys[1].Revoked || keys[1].RevokeTime == "" || keys[0].Revoked {
		t.Errorf("after revoking, keys = %+v, want the second revoked with a revoke_time", keys)
	}
	// Revoking again succeeds and changes nothing.
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/api-keys/"+k.ID, adminToken, ""); w.Code != http.StatusNoContent {
		t.Errorf("revoke again: %d %s, want 204", w.Code, w.Body)
	}
	if again := listKeys(t, e, "acme", first); again[1].RevokeTime != keys[1].RevokeTime {
		t.Errorf("revoke_time changed from %s to %s on revoking again", keys[1].RevokeTime, again[1].RevokeTime)
	}
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", first, ""); w.Code != http.StatusOK {
		t.Errorf("the first key after revoking the second: %d %s, want 200", w.Code, w.Body)
	}
}

// A tenant may revoke the key it calls with (rotation: make a new one,
// then revoke the old).
func TestRevokeOwnKey(t *testing.T) {
	e := newEnv(t, nil)
	old := e.createTenant(t, "acme")
	fresh := createKey(t, e, "acme", old, "")
	if fresh.Name != "" {
		t.Errorf("key created without a body has name %q, want none", fresh.Name)
	}
	oldID := listKeys(t, e, "acme", old)[0].ID
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/api-keys/"+oldID, old, ""); w.Code != http.StatusNoContent {
		t.Fatalf("revoke own key: %d %s", w.Code, w.Body)
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/api-keys", old, ""), 401, hookrun.CodeUnauthenticated, "credentials")
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/api-keys", fresh.APIKey, ""); w.Code != http.StatusOK {
		t.Errorf("the new key: %d %s", w.Code, w.Body)
	}
}

func TestAPIKeysRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	other := e.createTenant(t, "globex")
	otherKeyID := listKeys(t, e, "globex", other)[0].ID
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            hookrun.Code
		msg                             string
	}{
		{"name too long", "POST", "acme/api-keys", key, `{"name":"` + strings.Repeat("n", 101) + `"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"name of wrong type", "POST", "acme/api-keys", key, `{"name":["a"]}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"unknown field", "POST", "acme/api-keys", key, `{"name":"a","scopes":["events"]}`, 400, hookrun.CodeInvalidArgument, "scopes"},
		{"malformed JSON", "POST", "acme/api-keys", key, `{"name":`, 400, hookrun.CodeInvalidArgument, "JSON"},
		{"other tenant creates", "POST", "acme/api-keys", other, `{}`, 403, hookrun.CodePermissionDenied, "acme"},
		{"other tenant lists", "GET", "acme/api-keys", other, "", 403, hookrun.CodePermissionDenied, "acme"},
		{"other tenant revokes", "DELETE", "acme/api-keys/" + otherKeyID, other, "", 403, hookrun.CodePermissionDenied, "acme"},
		{"no credentials", "GET", "acme/api-keys", "", "", 401, hookrun.CodeUnauthenticated, "credentials"},
		{"unknown tenant", "POST", "initech/api-keys", adminToken, `{}`, 404, hookrun.CodeNotFound, "initech"},
		{"revoke unknown id", "DELETE", "acme/api-keys/" + hookrun.NewID("key_"), key, "", 404, hookrun.CodeNotFound, "api key"},
		{"revoke malformed id", "DELETE", "acme/api-keys/hkr_notanid", key, "", 404, hookrun.CodeNotFound, "api key"},
		{"revoke another tenant's key through one's own path", "DELETE", "acme/api-keys/" + otherKeyID, key, "", 404, hookrun.CodeNotFound, "api key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, tt.method, "/v1/tenants/"+tt.path, tt.token, tt.body)
			wantError(t, w, tt.status, tt.code, tt.msg)
			if strings.Contains(w.Body.String(), "hkr_") && tt.name != "revoke malformed id" {
				t.Errorf("refusal %s carries a key", w.Body)
			}
			if n := len(listKeys(t, e, "acme", adminToken)); n != 1 {
				t.Errorf("acme has %d keys, want its first only", n)
			}
			if ks := listKeys(t, e, "globex", adminToken); len(ks) != 1 || ks[0].Revoked {
				t.Errorf("globex keys = %+v, want its first, active", ks)
			}
		})
	}
}

func TestAPIKeysAreBounded(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	for range hookrun.MaxActiveAPIKeys - 1 {
		createKey(t, e, "acme", key, "")
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/api-keys", key, ""), 400, hookrun.CodeFailedPrecondition, "revoke one")
	// Revoked keys do not count.
	keys := listKeys(t, e, "acme", key)
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/api-keys/"+keys[len(keys)-1].ID, key, ""); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	createKey(t, e, "acme", key, "")
}
