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
