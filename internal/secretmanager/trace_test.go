package secretmanager_test

import (
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// With a tracer provider set, as internal/telemetry sets it in the
// services, each Secret Manager call is a span of the client's own (the
// Google gRPC transport's), a child of the caller's span.
func TestSecretManagerCallsAreChildSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	st, _ := newStore(t)
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	_, _ = st.Access(ctx, "projects/p/secrets/none/versions/1")
	parent.End()

	var names []string
	for _, sp := range rec.Ended() {
		names = append(names, sp.Name())
		if sp.Parent().SpanID() == parent.SpanContext().SpanID() && sp.SpanContext().TraceID() == parent.SpanContext().TraceID() && sp.Name() != "request" {
			return
		}
	}
	t.Errorf("no Secret Manager span under the caller's; spans: %q", names)
}
