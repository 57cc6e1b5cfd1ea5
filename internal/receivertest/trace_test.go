package receivertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/signature"
)

// A webhook that hookrun's sender signs and sends for an endpoint with
// propagate_trace on lands at the receiver in the attempt's trace: the
// receiver's server span is a child of the sender's request span. Without
// it, the receiver starts a trace of its own.
func TestSenderTraceContinuesAtReceiver(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	secret := signature.NewSecret()
	creds, err := sender.NewCredentials(hookrun.EndpointSecret{SigningSecret: secret}, "")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_1","type":"user.created","timestamp":"2026-11-23T10:00:00Z","data":{}}`)

	for _, propagate := range []bool{true, false} {
		name := map[bool]string{true: "propagate_trace on", false: "propagate_trace off"}[propagate]
		t.Run(name, func(t *testing.T) {
			spans.Reset()
			handled := make(chan trace.SpanContext, 1)
			rc, err := receiver.New(receiver.Config{Secret: secret}, receiver.Deps{
				Handle: func(ctx context.Context, wh receiver.Webhook) error {
					handled <- trace.SpanContextFromContext(ctx)
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(receiver.Handler("proj", rc))

			ctx, attempt := otel.Tracer("test").Start(t.Context(), "delivery attempt")
			if propagate {
				ctx = sender.WithTracePropagation(ctx)
			}
			a := sender.New(true, sender.UserAgent).Send(ctx, srv.URL+"/hooks", 10*time.Second, creds, "msg_1", body)
			attempt.End()
			srv.Close() // waits for the receiver's request, so its span has ended
			if a.StatusCode != http.StatusNoContent {
				t.Fatalf("attempt: status %d (%s), want 204", a.StatusCode, a.Error)
			}

			var client, server tracetest.SpanStub
			for _, s := range spans.GetSpans() {
				switch s.SpanKind {
				case trace.SpanKindClient:
					client = s
				case trace.SpanKindServer:
					server = s
				}
			}
			if !client.SpanContext.IsValid() || !server.SpanContext.IsValid() {
				t.Fatalf("want the sender's client span and the receiver's server span, got %v", spans.GetSpans())
			}
			sendTrace := attempt.SpanContext().TraceID()
			inTrace := server.SpanContext.TraceID() == sendTrace && server.Parent.SpanID() == client.SpanContext.SpanID()
			if inTrace != propagate {
				t.Errorf("receiver's span %q: trace %s parent %s; the attempt's trace %s, request span %s; want joined = %v",
					server.Name, server.SpanContext.TraceID(), server.Parent.SpanID(), sendTrace, client.SpanContext.SpanID(), propagate)
			}
			if h := <-handled; h.SpanID() != server.SpanContext.SpanID() {
				t.Errorf("handleWebhook ran in span %s, want the request's %s", h.SpanID(), server.SpanContext.SpanID())
			}
		})
	}
}
