package httpapi

import (
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/telemetry"
)

// traced makes every request to next but a health check a server span of
// the global tracer provider, named "METHOD /path" with OpenTelemetry's
// HTTP server attributes, continuing the caller's trace context (the
// global propagator's headers: a producer's traceparent, a Cloud Task's).
// A 5xx answer marks the span an error.
//
// It stands in for otelhttp's handler, which on every request also
// computed the attributes of HTTP server metrics with a no-op meter (Cloud
// Run measures requests itself, and internal/metrics says what each did),
// wrapped the body and, through httpsnoop, the writer: about 5 % of
// ingest's and the dispatcher's CPU (scripts/bench -profile).
func traced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := telemetry.Tracer().Start(ctx, r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		if !span.IsRecording() { // attributes only on a span that records (telemetry.Tracer)
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		span.SetAttributes(requestAttrs(r)...)
		sw := &statusWriter{ResponseWriter: w, ctx: ctx}
		next.ServeHTTP(sw, r.WithContext(ctx))
		code := sw.status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(code))
		if code >= 500 {
			span.SetStatus(codes.Error, "")
		}
	})
}

// requestAttrs are a server span's attributes of r.
func requestAttrs(r *http.Request) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path), semconv.URLScheme(scheme))
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	if host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	if client, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, semconv.ClientAddress(client))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	return attrs
}
