// Package telemetrytest records the spans a test makes.
package telemetrytest

import (
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Record makes the global tracer provider keep every span ended in
// memory, with the W3C tracecontext propagator the services use, as
// internal/telemetry sets them up; both are put back when t ends. Tests
// that call it must not run in parallel with each other.
func Record(t testing.TB) (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	})
	return spans, tp
}

// Children returns the names of the recorded spans whose parent is
// parent, and of all the recorded spans (for a failure message).
func Children(spans *tracetest.InMemoryExporter, parent trace.SpanContext) (children, all []string) {
	for _, sp := range spans.GetSpans() {
		all = append(all, sp.Name)
		if sp.Parent.SpanID() == parent.SpanID() && sp.SpanContext.TraceID() == parent.TraceID() {
			children = append(children, sp.Name)
		}
	}
	return children, all
}
