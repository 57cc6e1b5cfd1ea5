package telemetry

import (
	"context"
	"maps"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/wire"
)

// tracerName names the spans hookrun makes itself.
const tracerName = "github.com/hookrun/hookrun"

// Tracer returns hookrun's tracer from the global provider, looked up at
// each call so that a provider set after start (tests) is the one used.
//
// hookrun's spans get their attributes after they start, and only when
// they record. The samplers hookrun configures (OTEL_TRACES_SAMPLER: by
// parent, by trace ID ratio) decide without attributes, and a span that
// is not sampled (in production, most) should cost no attributes
// computed and thrown away.
func Tracer() trace.Tracer { return otel.Tracer(tracerName) }

// messageCarrier is a Pub/Sub message's attributes as a carrier of trace
// context, under wire.TraceAttrPrefix.
type messageCarrier map[string]string

func (c messageCarrier) Get(key string) string { return c[wire.TraceAttrPrefix+key] }
func (c messageCarrier) Set(key, value string) { c[wire.TraceAttrPrefix+key] = value }
func (c messageCarrier) Keys() []string {
	var keys []string
	for k := range c {
		if name, ok := strings.CutPrefix(k, wire.TraceAttrPrefix); ok {
			keys = append(keys, name)
		}
	}
	return keys
}

// ExtractMessage returns ctx with the remote span whose context a
// message's attributes carry, if any.
func ExtractMessage(ctx context.Context, attrs map[string]string) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, messageCarrier(attrs))
}

// InjectHeaders adds the trace context of ctx's span to h, as the
// traceparent and tracestate headers: for a request hookrun makes outside
// an instrumented HTTP client, such as a Cloud Task's.
func InjectHeaders(ctx context.Context, h map[string]string) {
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(h))
}

// Publisher publishes a message (internal/pubsub in production): Publish
// returns once Pub/Sub acknowledged it; Start hands it over and returns at
// once, and its wait returns what Publish would, so that one goroutine
// can publish many messages together.
type Publisher interface {
	Publish(ctx context.Context, data []byte, attrs map[string]string) (messageID string, err error)
	Start(ctx context.Context, data []byte, attrs map[string]string) (wait func() (messageID string, err error))
}

// TracedPublisher wraps p so that each publish is a producer span named
// after topic, whose context travels in the message's attributes: the
// consumer (the dispatcher's push, StartConsume) continues it.
func TracedPublisher(p Publisher, topic string) Publisher {
	return &tracedPublisher{p: p, topic: topic}
}

type tracedPublisher struct {
	p     Publisher
	topic string
}

func (t *tracedPublisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	return t.Start(ctx, data, attrs)()
}

// Start's span ends when the message is acknowledged, or fails, in wait.
func (t *tracedPublisher) Start(ctx context.Context, data []byte, attrs map[string]string) func() (string, error) {
	ctx, span := Tracer().Start(ctx, t.topic+" publish", trace.WithSpanKind(trace.SpanKindProducer))
	if span.IsRecording() { // see Tracer
		span.SetAttributes(
			attribute.String("messaging.system", "gcp_pubsub"),
			attribute.String("messaging.destination.name", t.topic),
			attribute.String("messaging.operation.type", "send"),
			attribute.Int("messaging.message.body.size", len(data)),
		)
	}
	// A copy: the caller's map may be shared (a retried publish).
	carried := maps.Clone(attrs)
	if carried == nil {
		carried = map[string]string{}
	}
	otel.GetTextMapPropagator().Inject(ctx, messageCarrier(carried))
	wait := t.p.Start(ctx, data, carried)
	return func() (string, error) {
		defer span.End()
		id, err := wait()
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "publish failed")
			return "", err
		}
		if span.IsRecording() {
			span.SetAttributes(attribute.String("messaging.message.id", id))
		}
		return id, nil
	}
}

// StartConsume starts the consumer span of a pushed message: a child of
// the span that published it (its context in the attributes), so that one
// trace follows an event from its producer to its deliveries, linked to
// the span already in ctx (the push request's own). A message without
// trace context is a child of the request's span.
func StartConsume(ctx context.Context, subscription, messageID string, attrs map[string]string) (context.Context, trace.Span) {
	kind := trace.WithSpanKind(trace.SpanKindConsumer)
	var span trace.Span
	if remote := trace.SpanContextFromContext(ExtractMessage(context.Background(), attrs)); !remote.IsValid() {
		ctx, span = Tracer().Start(ctx, subscription+" process", kind)
	} else if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		// The request's values and deadline, the message's span as parent.
		ctx, span = Tracer().Start(trace.ContextWithRemoteSpanContext(ctx, remote), subscription+" process", kind,
			trace.WithLinks(trace.Link{SpanContext: sc}))
	} else {
		ctx, span = Tracer().Start(trace.ContextWithRemoteSpanContext(ctx, remote), subscription+" process", kind)
	}
	if span.IsRecording() { // see Tracer
		span.SetAttributes(
			attribute.String("messaging.system", "gcp_pubsub"),
			attribute.String("messaging.destination.subscription.name", subscription),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.message.id", messageID),
		)
	}
	return ctx, span
}
