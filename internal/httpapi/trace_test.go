package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/telemetry/telemetrytest"
)

// TestServerSpans: each request but a health check is a server span that
// continues the caller's traceparent and says what was asked and
// answered; a 5xx makes it an error, a 4xx does not (the caller's
// mistake, not the server's).
func TestServerSpans(t *testing.T) {
	spans, _ := telemetrytest.Record(t)
	h := httpapi.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !trace.SpanContextFromContext(r.Context()).IsValid() {
			t.Errorf("%s: no span in the handler's context", r.URL.Path)
		}
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/refuse":
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.Write([]byte("ok"))
		}
	}), httpapi.Timeouts{Request: time.Second}).Handler

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		path   string
		status int
		code   codes.Code
	}{
		{"/v1/events", 200, codes.Unset},
		{"/refuse", 400, codes.Unset},
		{"/fail", 503, codes.Error},
	} {
		spans.Reset()
		req := httptest.NewRequest(http.MethodPost, "http://ingest.example:8080"+tc.path, nil)
		req.Header.Set("traceparent", parent)
		req.Header.Set("User-Agent", "producer/1")
		req.RemoteAddr = "127.0.0.1:5555"
		h.ServeHTTP(httptest.NewRecorder(), req)
		got := spans.GetSpans()
		if len(got) != 1 {
			t.Fatalf("%s: %d spans, want 1", tc.path, len(got))
		}
		sp := got[0]
		if sp.Name != "POST "+tc.path || sp.SpanKind != trace.SpanKindServer || sp.Status.Code != tc.code {
			t.Errorf("%s: span %q, kind %s, status %s; want %q, server, %s", tc.path, sp.Name, sp.SpanKind, sp.Status.Code, "POST "+tc.path, tc.code)
		}
		if sp.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sp.Parent.SpanID().String() != "00f067aa0ba902b7" {
			t.Errorf("%s: parent %s/%s, want the traceparent's", tc.path, sp.Parent.TraceID(), sp.Parent.SpanID())
		}
		attrs := map[string]string{}
		for _, kv := range sp.Attributes {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		for k, v := range map[string]string{
			"http.request.method": "POST", "url.path": tc.path, "url.scheme": "http", "server.address": "ingest.example",
			"server.port": "8080", "client.address": "127.0.0.1", "user_agent.original": "producer/1",
			"http.response.status_code": httpStatus(tc.status),
		} {
			if attrs[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.path, k, attrs[k], v)
			}
		}
	}

	spans.Reset()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if n := len(spans.GetSpans()); n != 0 {
		t.Errorf("a health check made %d spans, want none", n)
	}
}

func httpStatus(code int) string { return strconv.Itoa(code) }
