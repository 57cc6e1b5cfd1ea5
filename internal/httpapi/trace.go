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
		sw := &spanWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(semconv.HTTPResponseStatusCode(sw.code))
		if sw.code >= 500 {
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

// spanWriter keeps the status of the answer for its span.
type spanWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *spanWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *spanWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *spanWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
