package ingest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A caller must not learn whether a key is unknown, malformed or belongs to
// a deleted tenant: every failure is the same 401.
func TestUnauthenticatedLooksTheSame(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	unknownKey, _ := hookrun.NewAPIKey()
	// A tenant whose record is gone while its key remains.
	orphanKey, orphanHash := hookrun.NewAPIKey()
	e.store.addOrphanKey(orphanHash, "gone")

	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/v1/events", `{"type":"user.created","data":{}}`},
		{http.MethodPost, "/v1/tenants", `{"id":"globex","name":"Globex"}`},
		{http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"https://example.com","event_types":["*"]}`},
		{http.MethodGet, "/v1/tenants/acme/endpoints", ""},
		{http.MethodGet, "/v1/tenants/acme/endpoints/ep_1", ""},
		{http.MethodDelete, "/v1/tenants/acme/endpoints/ep_1", ""},
	}
	auths := []struct{ name, header string }{
		{"no header", ""},
		{"basic scheme", "Basic YWRtaW46cGFzcw=="},
		{"bearer without token", "Bearer "},
		{"garbage token", "Bearer not-a-key"},
		{"unknown well-formed key", "Bearer " + unknownKey},
		{"key with a changed character", "Bearer " + key[:len(key)-1] + flip(key[len(key)-1])},
		{"admin token with a suffix", "Bearer " + adminToken + "x"},
		{"admin token prefix", "Bearer " + adminToken[:len(adminToken)-1]},
		{"key without scheme", key},
	}
	var first string
	for _, rt := range routes {
		for _, a := range auths {
			t.Run(rt.method+" "+rt.path+"/"+a.name, func(t *testing.T) {
				w := doWithHeader(e, rt.method, rt.path, a.header, rt.body)
				wantError(t, w, http.StatusUnauthorized, hookrun.CodeUnauthenticated, "credentials")
				if first == "" {
					first = w.Body.String()
				} else if w.Body.String() != first {
					t.Errorf("body = %s, want the same as every other 401: %s", w.Body, first)
				}
			})
		}
	}
	// The orphaned key authenticates as a tenant that no longer exists:
	// for events that is the same 401 again.
	w := doWithHeader(e, http.MethodPost, "/v1/events", "Bearer "+orphanKey, `{"type":"user.created","data":{}}`)
	wantError(t, w, http.StatusUnauthorized, hookrun.CodeUnauthenticated, "credentials")
	if w.Body.String() != first {
		t.Errorf("orphaned key: body = %s, want %s", w.Body, first)
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("published %d messages for unauthenticated requests, want 0", n)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		t.Run(scheme, func(t *testing.T) {
			w := doWithHeader(e, http.MethodGet, "/v1/tenants/acme/endpoints", scheme+" "+key, "")
			if w.Code != http.StatusOK {
				t.Errorf("%s <key>: %d %s, want 200", scheme, w.Code, w.Body)
			}
		})
	}
}

func doWithHeader(e *env, method, path, authorization, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
