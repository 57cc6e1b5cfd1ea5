package sender

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/telemetry"
)

type propagateKey struct{}

// WithTracePropagation returns ctx asking that a request sent with it
// carry its trace context (traceparent, tracestate) to the endpoint. Off
// by default: a tenant sees hookrun's trace IDs only if it chose to
// (hookrun.Endpoint.PropagateTrace).
func WithTracePropagation(ctx context.Context) context.Context {
	return context.WithValue(ctx, propagateKey{}, true)
}

// startRequest starts req's client span, named "POST host" with
// OpenTelemetry's HTTP client attributes, and injects the span's trace
// context into req's headers if ctx asked for it (WithTracePropagation).
//
// The sender makes its span itself rather than through otelhttp's
// Transport, which on every request cloned it, computed the attributes of
// the HTTP client metrics even with a no-op meter, and wrapped its body,
// which made net/http write the headers and the body in two system calls
// (it writes them in one only for a body it knows is in memory), which
// the endpoint then read in two. BenchmarkPushFirstMessage/after, the
// loopback receiver included: 198-231 against 292-319 CPU-µs per push.
func startRequest(ctx context.Context, req *http.Request) (context.Context, trace.Span) {
	ctx, span := telemetry.Tracer().Start(ctx, req.Method+" "+req.URL.Host, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() { // attributes only on a span that records (telemetry.Tracer)
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(req.Method), semconv.URLFull(redactedURL(req.URL)),
			semconv.ServerAddress(req.URL.Hostname()))
		if p, err := strconv.Atoi(req.URL.Port()); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
		span.SetAttributes(attrs...)
	}
	if on, _ := ctx.Value(propagateKey{}).(bool); on {
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	return ctx, span
}

// endRequest ends a request's span with its answer's status, or with the
// category of the error that left it without one.
func endRequest(span trace.Span, status int, errCategory string) {
	switch {
	case !span.IsRecording():
	case status > 0:
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 400 {
			span.SetStatus(codes.Error, "")
		}
	case errCategory != "":
		span.SetAttributes(semconv.ErrorTypeKey.String(errCategory))
		span.SetStatus(codes.Error, errCategory)
	}
	span.End()
}

// redactedURL is u for a span's url.full with what may be a credential
// left out: the user info and every query parameter's value (an endpoint
// URL's query often carries a token), as OpenTelemetry's conventions ask
// ("REDACTED").
func redactedURL(u *url.URL) string {
	if u.User == nil && u.RawQuery == "" {
		return u.String()
	}
	r := *u
	if r.User != nil {
		r.User = url.UserPassword("REDACTED", "REDACTED")
	}
	if r.RawQuery != "" {
		q := r.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}
