package firestore

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookrun/hookrun/internal/testenv"
)

// With a tracer provider set, as internal/telemetry sets it in the
// services, the Firestore client makes spans of its own calls, children
// of the caller's span: hookrun writes none by hand.
func TestFirestoreCallsAreChildSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	testenv.FirestoreHost(t)
	s, err := New(context.Background(), Config{ProjectID: testenv.ProjectID(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	_, _ = s.GetTenant(ctx, "acme")
	parent.End()

	var names []string
	for _, sp := range rec.Ended() {
		names = append(names, sp.Name())
		if sp.Parent().SpanID() == parent.SpanContext().SpanID() && strings.Contains(strings.ToLower(sp.Name()), "firestore") {
			return
		}
	}
	t.Errorf("no Firestore span under the caller's; spans: %q", names)
}
