package sender

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

type propagateKey struct{}

// WithTracePropagation returns ctx asking that a request sent with it
// carry its trace context (traceparent, tracestate) to the endpoint. Off
// by default: a tenant sees hookrun's trace IDs only if it chose to
// (hookrun.Endpoint.PropagateTrace).
func WithTracePropagation(ctx context.Context) context.Context {
	return context.WithValue(ctx, propagateKey{}, true)
}

// optInPropagator injects the global propagator's headers into requests
// whose context asked for them with WithTracePropagation, and none into
// the others. It extracts nothing: responses carry no context to follow.
type optInPropagator struct{}

func (optInPropagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	if on, _ := ctx.Value(propagateKey{}).(bool); on {
		otel.GetTextMapPropagator().Inject(ctx, c)
	}
}

func (optInPropagator) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}

func (optInPropagator) Fields() []string { return otel.GetTextMapPropagator().Fields() }
