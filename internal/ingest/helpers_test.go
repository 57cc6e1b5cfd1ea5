package ingest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

const adminToken = "admin-token-0123456789abcdef"

// env is an ingest service on fakes.
type env struct {
	h          http.Handler
	store      *testStore
	pub        *fakePublisher
	secrets    *fakeSecrets
	challenger *fakeChallenger
	retirer    *fakeScheduler
}

func newEnv(t testing.TB, configure func(*ingest.Config), opts ...ingest.Option) *env {
	t.Helper()
	cfg := ingest.Config{AdminToken: adminToken}
	if configure != nil {
		configure(&cfg)
	}
	e := &env{store: newTestStore(), pub: &fakePublisher{}, secrets: newFakeSecrets(), challenger: &fakeChallenger{}, retirer: &fakeScheduler{}}
	svc, err := ingest.New(cfg, e.store, e.pub, e.secrets, append([]ingest.Option{ingest.WithChallenger(e.challenger), ingest.WithRetirer(e.retirer)}, opts...)...)
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}
	e.h = svc.Handler()
	return e
}

// do sends one request; token "" sends no Authorization header, body ""
// no body.
func (e *env) do(t testing.TB, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// createTenant creates tenant id through the API and returns its key.
func (e *env) createTenant(t testing.TB, id string) string {
	t.Helper()
	w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"`+id+`","name":"Tenant `+id+`"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create tenant %s: %d %s", id, w.Code, w.Body)
	}
	return decode[struct {
		APIKey string `json:"api_key"`
	}](t, w).APIKey
}

type endpointCreated struct {
	ID         string   `json:"id"`
	TenantID   string   `json:"tenant_id"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	Status     string   `json:"status"`
	Secret     string   `json:"secret"`
}

// createEndpoint creates an endpoint through the API.
func (e *env) createEndpoint(t testing.TB, tenantID, token, url string) endpointCreated {
	t.Helper()
	w := e.do(t, http.MethodPost, "/v1/tenants/"+tenantID+"/endpoints", token,
		`{"url":"`+url+`","event_types":["user.*"],"description":"test"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", w.Code, w.Body)
	}
	return decode[endpointCreated](t, w)
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode response %q: %v", w.Body.String(), err)
	}
	return v
}

type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks that w is an API error with the given HTTP status,
// status name and a message containing msg.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, name hookrun.Code, msg string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d; body %s", w.Code, status, w.Body)
		return
	}
	var e apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Errorf("error body %q is not JSON: %v", w.Body, err)
		return
	}
	if e.Error.Code != status || e.Error.Status != string(name) {
		t.Errorf("error = %d %s, want %d %s", e.Error.Code, e.Error.Status, status, name)
	}
	if !strings.Contains(e.Error.Message, msg) {
		t.Errorf("error message = %q, want it to contain %q", e.Error.Message, msg)
	}
}

// doRaw sends a request with the given Authorization and Content-Type.
func doRaw(e *env, method, path, authorization, contentType string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", authorization)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// TestMain keeps the request log lines of hundreds of requests out of test
// output; tests that check logs capture them with captureLogs.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
