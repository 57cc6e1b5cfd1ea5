package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/logging/logtest"
)

func requestLines(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["message"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

func TestMiddlewareTurnsPanicIntoJSON500(t *testing.T) {
	logs := logtest.Capture(t)
	h := httpapi.Middleware("proj", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map write in handler")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/events", nil))

	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
	want := `{"error":{"code":500,"status":"INTERNAL","message":"internal error"}}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if strings.Contains(w.Body.String(), "nil map") {
		t.Errorf("body %s reveals the panic value", w.Body.String())
	}

	lines := logs.Lines(t)
	reqs := requestLines(lines)
	if len(reqs) != 1 {
		t.Fatalf("got %d request log lines, want 1; logs: %v", len(reqs), lines)
	}
	r := reqs[0]
	if r["method"] != "POST" || r["path"] != "/v1/events" || r["status"] != float64(500) {
		t.Errorf("request line = %v, want method POST, path /v1/events, status 500", r)
	}
	var sawPanic bool
	for _, l := range lines {
		if l["message"] == "panic serving request" && l["severity"] == "ERROR" {
			sawPanic = true
		}
	}
	if !sawPanic {
		t.Errorf("no ERROR line about the panic in logs: %v", lines)
	}
}

func TestMiddlewarePanicAfterWriteKeepsStatus(t *testing.T) {
	logs := logtest.Capture(t)
	h := httpapi.Middleware("", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("late")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusAccepted {
		t.Errorf("status = %d, want the 202 already sent", w.Code)
	}
	if w.Body.Len() != 0 {
		t.Errorf("body = %q, want nothing appended after the handler's header", w.Body.String())
	}
	if reqs := requestLines(logs.Lines(t)); len(reqs) != 1 || reqs[0]["status"] != float64(202) {
		t.Errorf("request lines = %v, want one with status 202", reqs)
	}
}

func TestMiddlewareLogsOneLinePerRequest(t *testing.T) {
	logs := logtest.Capture(t)
	h := httpapi.Middleware("proj", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", "acme"))
		slog.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusCreated)
	}))
	req := httptest.NewRequest(http.MethodPost, "/v1/tenants", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	lines := logs.Lines(t)
	reqs := requestLines(lines)
	if len(reqs) != 1 {
		t.Fatalf("got %d request lines, want 1: %v", len(reqs), lines)
	}
	const trace = "projects/proj/traces/4bf92f3577b34da6a3ce929d0e0e4736"
	r := reqs[0]
	for k, want := range map[string]any{
		"method": "POST", "path": "/v1/tenants", "status": float64(201), "tenant_id": "acme",
		"severity": "INFO", "logging.googleapis.com/trace": trace,
	} {
		if r[k] != want {
			t.Errorf("request line %s = %v, want %v", k, r[k], want)
		}
	}
	if _, ok := r["latency_ms"].(float64); !ok {
		t.Errorf("request line latency_ms = %v, want a number", r["latency_ms"])
	}
	// Lines logged by the handler land under the same trace.
	for _, l := range lines {
		if l["message"] == "inside" && l["logging.googleapis.com/trace"] != trace {
			t.Errorf("handler line trace = %v, want %s", l["logging.googleapis.com/trace"], trace)
		}
	}
}

func TestHealthz(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.Healthz(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Errorf("Healthz = %d %s, want 200 {\"status\":\"ok\"}", w.Code, w.Body.String())
	}
}

// A request whose client hung up before its answer is logged as 499 with
// client_closed, and its failure is no ERROR: the client's doing. One
// answered before the hang-up, or cut by its own deadline, is logged as
// what it was.
func TestMiddlewareLogsClientHangUps(t *testing.T) {
	failing := func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, r, fmt.Errorf("load tenant: %w", r.Context().Err()))
	}
	for _, c := range []struct {
		name string
		// handler gets hangUp, which does what the server does when the
		// client's connection closes: it cancels the request's context.
		handler    func(w http.ResponseWriter, r *http.Request, hangUp func())
		expired    bool // the request's deadline passed
		wantStatus float64
		wantClosed bool
		wantError  bool // an ERROR line
	}{
		{"hung up, then failed", func(w http.ResponseWriter, r *http.Request, hangUp func()) {
			hangUp()
			failing(w, r)
		}, false, 499, true, false},
		{"hung up, nothing answered", func(w http.ResponseWriter, r *http.Request, hangUp func()) {
			hangUp()
		}, false, 499, true, false},
		{"answered, then hung up", func(w http.ResponseWriter, r *http.Request, hangUp func()) {
			w.WriteHeader(http.StatusAccepted)
			hangUp()
		}, false, 202, false, false},
		{"out of time", func(w http.ResponseWriter, r *http.Request, _ func()) {
			failing(w, r)
		}, true, 503, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs := logtest.Capture(t)
			ctx, hangUp := context.WithCancel(context.Background())
			defer hangUp()
			if c.expired {
				ctx, hangUp = context.WithDeadline(ctx, time.Now().Add(-time.Second))
				defer hangUp()
			}
			h := httpapi.Middleware("proj", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.handler(w, r, hangUp)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/events", nil))

			lines := logs.Lines(t)
			reqs := requestLines(lines)
			if len(reqs) != 1 {
				t.Fatalf("got %d request lines, want 1: %v", len(reqs), lines)
			}
			if got := reqs[0]["status"]; got != c.wantStatus {
				t.Errorf("request line status = %v, want %v", got, c.wantStatus)
			}
			if got := reqs[0]["client_closed"] == true; got != c.wantClosed {
				t.Errorf("request line client_closed = %v, want %v", reqs[0]["client_closed"], c.wantClosed)
			}
			errorLines := 0
			for _, l := range lines {
				if l["severity"] == "ERROR" {
					errorLines++
				}
			}
			if got := errorLines > 0; got != c.wantError {
				t.Errorf("ERROR lines: %d, want some: %v; logs: %v", errorLines, c.wantError, lines)
			}
		})
	}
}
