package firestore

import (
	"context"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/telemetry/telemetrytest"
	"github.com/hookrun/hookrun/internal/testenv"
)

// With a tracer provider set, as internal/telemetry sets it in the
// services, the Firestore client makes spans of its own calls, children
// of the caller's span: hookrun writes none by hand.
func TestFirestoreCallsAreChildSpans(t *testing.T) {
	spans, tp := telemetrytest.Record(t)
	testenv.FirestoreHost(t)
	s, err := New(context.Background(), Config{ProjectID: testenv.ProjectID(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	_, _ = s.GetTenant(ctx, "acme")
	parent.End()

	children, all := telemetrytest.Children(spans, parent.SpanContext())
	for _, name := range children {
		if strings.Contains(strings.ToLower(name), "firestore") {
			return
		}
	}
	t.Errorf("no Firestore span under the caller's; spans: %q", all)
}
