package ingest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/logging/logtest"
	"github.com/hookrun/hookrun/internal/signature"
)

// Keys, the admin token and signing secrets must never appear in a log
// line, nor in any response except the one that creates them.
func TestCredentialsNeverLeak(t *testing.T) {
	logs := logtest.Capture(t)
	e := newEnv(t, nil)

	type call struct{ method, path, token, body string }
	var bodies []string
	requests := 0
	send := func(c call) string {
		requests++
		w := e.do(t, c.method, c.path, c.token, c.body)
		return w.Body.String()
	}

	// The responses that show a credential once are kept apart.
	created := send(call{http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme"}`})
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(created), &tenant); err != nil || tenant.APIKey == "" {
		t.Fatalf("create tenant: %s", created)
	}
	key := tenant.APIKey
	epCreated := send(call{http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://example.com/hook","event_types":["*"]}`})
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(epCreated), &ep); err != nil || ep.Secret == "" {
		t.Fatalf("create endpoint: %s", epCreated)
	}
	if strings.Contains(epCreated, key) || strings.Contains(epCreated, adminToken) {
		t.Errorf("endpoint creation response carries a credential: %s", epCreated)
	}

	calls := []call{
		{http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme"}`}, // 409
		{http.MethodPost, "/v1/tenants", key, `{"id":"globex","name":"Globex"}`},    // 403
		{http.MethodGet, "/v1/tenants/acme/endpoints", key, ""},
		{http.MethodGet, "/v1/tenants/acme/endpoints/" + ep.ID, adminToken, ""},
		{http.MethodGet, "/v1/tenants/acme/endpoints/ep_missing", key, ""},
		{http.MethodPost, "/v1/events", key, `{"id":"e1","type":"user.created","data":{"a":1}}`},
		{http.MethodPost, "/v1/events", key, `{"id":"e1","type":"user.created","data":{"a":1}}`}, // duplicate
		{http.MethodPost, "/v1/events", adminToken, `{"type":"user.created","data":{}}`},         // 403
		{http.MethodPost, "/v1/events", key + "x", `{"type":"user.created","data":{}}`},          // 401
		{http.MethodPost, "/v1/events", adminToken + "x", `{"type":"user.created","data":{}}`},   // 401
		{http.MethodPost, "/v1/events", key, `{"type":"Bad","data":{}}`},                         // 400
	}
	for _, c := range calls {
		bodies = append(bodies, send(c))
	}
	// Failures that log at ERROR with their cause.
	e.pub.setErr(errors.New("publish: deadline exceeded"))
	bodies = append(bodies, send(call{http.MethodPost, "/v1/events", key, `{"id":"e2","type":"user.created","data":{}}`}))
	e.pub.setErr(nil)
	e.store.createEndpointErr = errors.New("firestore unavailable")
	bodies = append(bodies, send(call{http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://example.com/2","event_types":["*"]}`}))
	bodies = append(bodies, send(call{http.MethodDelete, "/v1/tenants/acme/endpoints/" + ep.ID, key, ""}))

	secretKey := strings.TrimPrefix(ep.Secret, signature.SecretPrefix)
	for i, b := range bodies {
		for name, s := range map[string]string{"API key": key, "admin token": adminToken, "signing secret": secretKey} {
			if strings.Contains(b, s) {
				t.Errorf("response %d carries the %s: %s", i, name, b)
			}
		}
	}
	out := logs.String()
	for name, s := range map[string]string{"API key": key, "admin token": adminToken, "signing secret": secretKey} {
		if strings.Contains(out, s) {
			t.Errorf("logs carry the %s:\n%s", name, out)
		}
	}
	// One request line per request, so the check above saw every request.
	if got := strings.Count(out, `"message":"request"`); got != requests {
		t.Errorf("logged %d request lines for %d requests:\n%s", got, requests, out)
	}
}
