package ingest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// inputEnv is a service with tenant acme, its key and one endpoint.
func inputEnv(t *testing.T, configure func(*ingest.Config)) (e *env, key, endpointPath string) {
	t.Helper()
	e = newEnv(t, configure)
	key = e.createTenant(t, "acme")
	ep := e.createEndpoint(t, "acme", key, "https://example.com/hooks")
	return e, key, "/v1/tenants/acme/endpoints/" + ep.ID
}

// Raw bytes that are not UTF-8, in any JSON body the API reads, are
// refused by the field they are in, before anything is stored: Firestore
// refuses them, and encoding/json would replace them unseen.
func TestBodiesWithInvalidUTF8AreRefused(t *testing.T) {
	const bad = "\xff"
	tests := []struct {
		name, method, path, body, field string
	}{
		{"event data", "POST", "/v1/events", `{"type":"a.b","data":{"s":"` + bad + `"}}`, "data.s"},
		{"event data, deep", "POST", "/v1/events", `{"type":"a.b","data":{"a":[{"b":"x` + bad + `"}]}}`, "data.a[0].b"},
		{"tenant name", "POST", "/v1/tenants", `{"id":"globex","name":"Globex` + bad + `"}`, "name"},
		{"tenant rename", "PATCH", "/v1/tenants/acme", `{"name":"Acme` + bad + `"}`, "name"},
		{"api key name", "POST", "/v1/tenants/acme/api-keys", `{"name":"ci` + bad + `"}`, "name"},
		{"endpoint description", "POST", "/v1/tenants/acme/endpoints", `{"url":"https://example.com/2","event_types":["*"],"description":"` + bad + `"}`, "description"},
		{"endpoint header", "POST", "/v1/tenants/acme/endpoints", `{"url":"https://example.com/2","event_types":["*"],"headers":{"X-A":"` + bad + `"}}`, "headers.X-A"},
		{"endpoint description change", "PATCH", "{endpoint}", `{"description":"` + bad + `"}`, "description"},
		{"endpoint password change", "PATCH", "{endpoint}", `{"auth":{"kind":"basic","username":"u","password":"p` + bad + `"}}`, "auth.password"},
		{"catalogue", "PUT", "/v1/tenants/acme/event-types", `{"event_types":["a.b` + bad + `"]}`, "event_types[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, key, endpoint := inputEnv(t, nil)
			token := key
			if tt.path == "/v1/tenants" {
				token = adminToken
			}
			secrets := e.secrets.count()
			w := e.do(t, tt.method, strings.Replace(tt.path, "{endpoint}", endpoint, 1), token, tt.body)
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.field+": invalid UTF-8")
			if n := e.store.eventCount(); n != 0 {
				t.Errorf("stored %d events, want 0", n)
			}
			if n := e.secrets.count(); n != secrets {
				t.Errorf("%d secrets, want %d", n, secrets)
			}
		})
	}
}

// Free text (names, descriptions, reasons) is one line of UTF-8: NUL, CR,
// LF and other control characters are refused by field, whoever sends them.
func TestFreeTextWithControlCharactersIsRefused(t *testing.T) {
	for name, text := range map[string]string{"NUL": `\u0000`, "CR": `\r`, "LF": `\n`, "trailing LF": `x\n`} {
		tests := []struct {
			what, method, path, token, body, field string
		}{
			{"tenant name", "POST", "/v1/tenants", adminToken, `{"id":"globex","name":"Glo` + text + `bex"}`, "name"},
			{"tenant rename", "PATCH", "/v1/tenants/acme", "", `{"name":"Ac` + text + `me"}`, "name"},
			{"disabled reason", "PATCH", "/v1/tenants/acme", adminToken, `{"status":"disabled","disabled_reason":"un` + text + `paid"}`, "disabled_reason"},
			{"api key name", "POST", "/v1/tenants/acme/api-keys", "", `{"name":"c` + text + `i"}`, "name"},
			{"endpoint description", "POST", "/v1/tenants/acme/endpoints", "", `{"url":"https://example.com/2","event_types":["*"],"description":"a` + text + `b"}`, "description"},
			{"endpoint description change", "PATCH", "{endpoint}", "", `{"description":"a` + text + `b"}`, "description"},
		}
		for _, tt := range tests {
			t.Run(tt.what+"/"+name, func(t *testing.T) {
				e, key, endpoint := inputEnv(t, nil)
				w := e.do(t, tt.method, strings.Replace(tt.path, "{endpoint}", endpoint, 1), cmp.Or(tt.token, key), tt.body)
				wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.field+": control character")
				if tt.method == "POST" && w.Code == http.StatusCreated {
					t.Errorf("created: %s", w.Body)
				}
			})
		}
	}
}

func TestContentTypeCharsetMustBeUTF8(t *testing.T) {
	e, key, _ := inputEnv(t, nil)
	for _, ct := range []string{"application/json; charset=utf-16", "application/json; charset=iso-8859-1", "application/json; charset=utf-32"} {
		w := doRaw(e, http.MethodPost, "/v1/events", "Bearer "+key, ct, strings.NewReader(`{"type":"a.b","data":{}}`))
		wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, "Content-Type: charset")
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/json; charset=UTF-8", "application/json"} {
		if w := doRaw(e, http.MethodPost, "/v1/events", "Bearer "+key, ct, strings.NewReader(`{"type":"a.b","data":{}}`)); w.Code != http.StatusAccepted {
			t.Errorf("%s: %d %s, want 202", ct, w.Code, w.Body)
		}
	}
	if n := len(e.pub.published()); n != 3 {
		t.Errorf("published %d events, want the 3 in UTF-8", n)
	}
}

// A body over the limit is 413 RESOURCE_EXHAUSTED, the status gRPC gives a
// message over its size limit, without Retry-After: the same body will
// never pass.
func TestBodyOverTheLimitAnswer(t *testing.T) {
	e, key, _ := inputEnv(t, func(c *ingest.Config) { c.MaxBodyBytes = 4096 })
	w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"a.b","data":{"s":"`+strings.Repeat("x", 4096)+`"}}`)
	wantError(t, w, http.StatusRequestEntityTooLarge, hookrun.CodeResourceExhausted, "larger than 4096 bytes")
	if ra := w.Header().Get("Retry-After"); ra != "" {
		t.Errorf("413 with Retry-After %q, want none", ra)
	}
}

// Event data is kept in one Firestore document: whatever the body limit,
// data that would not fit is refused up front by name, not a 500 later.
func TestEventDataOverWhatFirestoreHolds(t *testing.T) {
	e, key, _ := inputEnv(t, func(c *ingest.Config) { c.MaxBodyBytes = 4 << 20 })
	data := `{"s":"` + strings.Repeat("x", hookrun.MaxEventDataBytes) + `"}`
	w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"a.b","data":`+data+`}`)
	wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, fmt.Sprintf("data: at most %d bytes", hookrun.MaxEventDataBytes))
	if n := e.store.eventCount(); n != 0 {
		t.Errorf("stored %d events, want 0", n)
	}
}

// Credentials and headers within their documented limits always fit in
// Secret Manager; over them, the answer is 400 naming the limit, never the
// 503 a refused payload used to be, which a client retries forever.
func TestEndpointCredentialLimits(t *testing.T) {
	headers := func(n, size int) string {
		h := map[string]string{}
		for i := range n {
			h[fmt.Sprintf("X-Custom-%02d", i)] = strings.Repeat("v", size)
		}
		b, _ := json.Marshal(h)
		return string(b)
	}
	long := func(n int) string { return strings.Repeat("u", n) }
	tests := []struct {
		name   string
		extra  string // fields added to the create body
		status int
		msg    string
	}{
		{"20 headers of 4000 characters", `"headers":` + headers(20, 4000), 400, fmt.Sprintf("at most %d bytes", hookrun.MaxHeaderValueLen)},
		{"20 headers at the limit", `"headers":` + headers(hookrun.MaxHeaders, hookrun.MaxHeaderValueLen), 201, ""},
		{"21 headers", `"headers":` + headers(hookrun.MaxHeaders+1, 1), 400, fmt.Sprintf("headers: at most %d", hookrun.MaxHeaders)},
		{"basic username of 200 KB", `"auth":{"kind":"basic","username":"` + long(200<<10) + `","password":"p"}`, 400, fmt.Sprintf("auth.username: required, at most %d bytes", hookrun.MaxAuthUsernameLen)},
		{"basic at the limits", `"auth":{"kind":"basic","username":"` + long(hookrun.MaxAuthUsernameLen) + `","password":"` + long(hookrun.MaxAuthPasswordLen) + `"}`, 201, ""},
		{"bearer token over the limit", `"auth":{"kind":"bearer","token":"` + long(hookrun.MaxAuthTokenLen+1) + `"}`, 400, fmt.Sprintf("auth.token: required, at most %d bytes", hookrun.MaxAuthTokenLen)},
		{"bearer at the limit with 20 headers at theirs", `"auth":{"kind":"bearer","token":"` + long(hookrun.MaxAuthTokenLen) + `"},"headers":` + headers(hookrun.MaxHeaders, hookrun.MaxHeaderValueLen), 201, ""},
		{"headers differing in case", `"headers":{"X-Tenant":"a","x-tenant":"b"}`, 400, "headers.x-tenant: the same header as headers.X-Tenant"},
		{"header the api key sets", `"auth":{"kind":"api_key","header":"X-Api-Key","key":"k"},"headers":{"x-api-key":"b"}`, 400, "headers.x-api-key: the same header as auth.header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			key := e.createTenant(t, "acme")
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://example.com/h","event_types":["*"],`+tt.extra+`}`)
			if tt.status == http.StatusCreated {
				if w.Code != http.StatusCreated {
					t.Fatalf("status %d %s, want 201", w.Code, w.Body)
				}
				return
			}
			wantError(t, w, tt.status, hookrun.CodeInvalidArgument, tt.msg)
			if n := e.secrets.count(); n != 0 {
				t.Errorf("%d secrets created, want 0", n)
			}
			// A change to an existing endpoint is held to the same limits.
			ep := e.createEndpoint(t, "acme", key, "https://example.com/ok")
			w = e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+ep.ID, key, `{`+tt.extra+`}`)
			wantError(t, w, tt.status, hookrun.CodeInvalidArgument, tt.msg)
		})
	}
}

func TestEndpointURLPort(t *testing.T) {
	e, key, endpoint := inputEnv(t, nil)
	for _, port := range []string{"99999", "65536", "0"} {
		url := "https://example.com:" + port + "/h"
		w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"`+url+`","event_types":["*"]}`)
		wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, "url: port "+port)
		w = e.do(t, http.MethodPatch, endpoint, key, `{"url":"`+url+`"}`)
		wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, "url: port "+port)
	}
	e.createEndpoint(t, "acme", key, "https://example.com:65535/h")
}
