package sender

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/telemetry/telemetrytest"
)

// TestTraceparentOnlyWhenAsked: the request to an endpoint is a client
// span of the attempt's trace either way, but carries traceparent only
// when its context asked for it.
func TestTraceparentOnlyWhenAsked(t *testing.T) {
	spans, tp := telemetrytest.Record(t)

	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer srv.Close()
	creds, err := NewCredentials(hookrun.EndpointSecret{SigningSecret: signature.NewSecret()}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := New(true, "test")
	for _, tc := range []struct {
		name      string
		propagate bool
	}{{"off by default", false}, {"asked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			spans.Reset()
			ctx, span := tp.Tracer("test").Start(t.Context(), "attempt")
			if tc.propagate {
				ctx = WithTracePropagation(ctx)
			}
			s.Send(ctx, srv.URL, 5*time.Second, creds, "msg_test", []byte(`{}`))
			span.End()
			header := <-got
			traceID := span.SpanContext().TraceID().String()
			if tc.propagate != strings.Contains(header, traceID) || (!tc.propagate && header != "") {
				t.Errorf("traceparent = %q, want it (trace %s) only when asked", header, traceID)
			}
			var client bool
			for _, sp := range spans.GetSpans() {
				if sp.Parent.SpanID() == span.SpanContext().SpanID() && sp.SpanKind.String() == "client" {
					client = true
				}
			}
			if !client {
				t.Errorf("no client span under the attempt's span among %d spans", len(spans.GetSpans()))
			}
		})
	}
}

// TestRequestSpan: the client span says where the request went and what
// came back, as OpenTelemetry's HTTP conventions name it, without the
// credentials an endpoint URL may carry in its user info or query.
func TestRequestSpan(t *testing.T) {
	spans, _ := telemetrytest.Record(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	creds, err := NewCredentials(hookrun.EndpointSecret{SigningSecret: signature.NewSecret()}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := New(true, "test")
	host := strings.TrimPrefix(srv.URL, "http://")
	u := "http://user:hunter2@" + host + "/hooks?token=s3cret&v=2"

	span := func(t *testing.T) map[string]string {
		t.Helper()
		got := spans.GetSpans()
		if len(got) != 1 {
			t.Fatalf("%d spans, want 1", len(got))
		}
		sp := got[0]
		if sp.Name != "POST "+host || sp.SpanKind.String() != "client" || sp.Status.Code.String() != "Error" {
			t.Errorf("span %q, kind %s, status %s; want %q, client, Error", sp.Name, sp.SpanKind, sp.Status.Code, "POST "+host)
		}
		attrs := map[string]string{}
		for _, kv := range sp.Attributes {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		for k, v := range attrs {
			if strings.Contains(v, "hunter2") || strings.Contains(v, "s3cret") {
				t.Errorf("attribute %s = %q holds a credential of the URL", k, v)
			}
		}
		return attrs
	}

	t.Run("answered", func(t *testing.T) {
		spans.Reset()
		s.Send(t.Context(), u, 5*time.Second, creds, "msg_test", []byte(`{}`))
		attrs := span(t)
		want := map[string]string{
			"http.request.method":       "POST",
			"http.response.status_code": "503",
			"server.address":            "127.0.0.1",
			"server.port":               srv.URL[strings.LastIndexByte(srv.URL, ':')+1:],
			"url.full":                  "http://REDACTED:REDACTED@" + host + "/hooks?token=REDACTED&v=REDACTED",
		}
		for k, v := range want {
			if attrs[k] != v {
				t.Errorf("%s = %q, want %q", k, attrs[k], v)
			}
		}
	})
	t.Run("no answer", func(t *testing.T) {
		spans.Reset()
		srv.Close()
		a := s.Send(t.Context(), u, 5*time.Second, creds, "msg_test", []byte(`{}`))
		attrs := span(t)
		if attrs["error.type"] != a.Error || a.Error == "" {
			t.Errorf("error.type = %q, want the attempt's error %q", attrs["error.type"], a.Error)
		}
		if _, ok := attrs["http.response.status_code"]; ok {
			t.Errorf("a status code on a request that got no answer: %v", attrs)
		}
	})
}
