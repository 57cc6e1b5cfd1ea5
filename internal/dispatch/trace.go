package dispatch

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/telemetry"
)

// startAttempt starts the span of one delivery attempt, a child of the
// push or retry task that makes it; what follows the attempt (recording
// it, scheduling its retry) happens inside it, so a retry task continues
// this span's trace. The returned sendCtx is for the request to the
// endpoint: it carries the trace context there only if the endpoint asks.
func startAttempt(ctx context.Context, at attempt) (spanCtx, sendCtx context.Context, span trace.Span) {
	spanCtx, span = telemetry.Tracer().Start(ctx, "delivery attempt")
	if span.IsRecording() { // attributes only on a span that records (telemetry.Tracer)
		span.SetAttributes(
			attribute.String("hookrun.tenant_id", at.event.TenantID),
			attribute.String("hookrun.event_id", at.event.ID),
			attribute.String("hookrun.event_type", at.event.Type),
			attribute.String("hookrun.endpoint_id", at.ep.ID),
			attribute.String("hookrun.chain", at.chain),
			attribute.Int("hookrun.attempt", at.n),
		)
	}
	sendCtx = spanCtx
	if at.ep.PropagateTrace {
		sendCtx = sender.WithTracePropagation(spanCtx)
	}
	return spanCtx, sendCtx, span
}

// endAttempt records an attempt's outcome on its span: the status, the
// wait for it, and the delivery's state after it.
func endAttempt(span trace.Span, a hookrun.Attempt, d hookrun.Delivery) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		attribute.Int("http.response.status_code", a.StatusCode),
		attribute.Float64("hookrun.attempt.latency_ms", float64(a.Latency.Microseconds())/1000),
		attribute.String("hookrun.outcome", string(d.State)),
	)
	if !a.Succeeded() {
		span.SetStatus(codes.Error, a.Error)
	}
}

// startPush starts the span of a pushed message, continuing the trace its
// publisher put in its attributes; it is named after the subscription
// (the last part of its resource name).
func startPush(ctx context.Context, subscription, messageID string, attrs map[string]string) (context.Context, trace.Span) {
	if i := strings.LastIndexByte(subscription, '/'); i >= 0 {
		subscription = subscription[i+1:]
	}
	if subscription == "" {
		subscription = "pubsub"
	}
	return telemetry.StartConsume(ctx, subscription, messageID, attrs)
}
