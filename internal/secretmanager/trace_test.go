package secretmanager_test

import (
	"testing"

	"github.com/hookrun/hookrun/internal/telemetry/telemetrytest"
)

// With a tracer provider set, as internal/telemetry sets it in the
// services, each Secret Manager call is a span of the client's own (the
// Google gRPC transport's), a child of the caller's span.
func TestSecretManagerCallsAreChildSpans(t *testing.T) {
	spans, tp := telemetrytest.Record(t)
	st, _ := newStore(t)
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	_, _ = st.Access(ctx, "projects/p/secrets/none/versions/1")
	parent.End()

	if children, all := telemetrytest.Children(spans, parent.SpanContext()); len(children) == 0 {
		t.Errorf("no Secret Manager span under the caller's; spans: %q", all)
	}
}
