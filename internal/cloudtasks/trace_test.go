package cloudtasks_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/cloudtasks"
)

// TestScheduleCarriesTraceContext: a task's request carries the trace
// context of the Schedule call as its traceparent, for the dispatcher's
// /tasks/deliver (httpapi's server spans) to continue the trace; without one it carries
// none.
func TestScheduleCarriesTraceContext(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	tg := newTarget(t)
	s, _ := newScheduler(t, tg.url, nil)
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	for i, tc := range []struct {
		name  string
		trace bool
		want  string
	}{
		{"in a span", true, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"no span", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.trace {
				ctx = trace.ContextWithSpanContext(ctx, sc)
			}
			id := cloudtasks.TaskID("tenant-1", "evt_1", "ep_1", string(rune('a'+i)))
			if err := s.Schedule(ctx, id, time.Time{}, []byte(`{}`)); err != nil {
				t.Fatalf("Schedule: %v", err)
			}
			if got := tg.next(t).header.Get("traceparent"); got != tc.want {
				t.Errorf("traceparent = %q, want %q", got, tc.want)
			}
		})
	}
}
