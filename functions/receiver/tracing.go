package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2/google"
)

// Traces: the receiver continues the trace of the request that brought a
// webhook (hookrun sends traceparent to an endpoint whose propagate_trace
// is on), carries it through the hand-off, and continues it again in
// POST /process, so the slow work is in the sender's trace too. Log lines
// carry the current span (logging.go).
//
// SetupTracing reads the standard variables. OTEL_TRACES_EXPORTER says
// where spans go:
//
//   - "gcp": Cloud Trace, through its OTLP endpoint (the Telemetry API,
//     telemetry.googleapis.com) with the instance's Google credentials,
//     in GOOGLE_CLOUD_PROJECT. The default on Cloud Run (K_SERVICE set)
//     with a project. It needs the Telemetry API enabled and
//     roles/cloudtrace.agent for the receiver's service account. OTLP
//     rather than Google's Cloud Trace exporter, which is deprecated in
//     its favour: one exporter for Cloud Trace and any collector.
//   - "otlp": an OpenTelemetry collector over OTLP/HTTP, at
//     OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT).
//   - "console": one JSON span a line on stderr (stdout is the log).
//   - "none": nothing is recorded; the default elsewhere. Trace context
//     still travels (through the hand-off, into logs).
//
// OTEL_TRACES_SAMPLER (default parentbased_always_on: the sender's sampled
// flag is honoured), OTEL_SERVICE_NAME (default K_SERVICE, else
// "receiver") and OTEL_RESOURCE_ATTRIBUTES are read by the SDK.

// Values of OTEL_TRACES_EXPORTER.
const (
	ExporterGCP     = "gcp"
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// telemetryTracesURL is Cloud Trace's OTLP/HTTP endpoint.
const telemetryTracesURL = "https://telemetry.googleapis.com/v1/traces"

// exportTimeout bounds one export, as the OTLP exporter's default does:
// the exporter's own timeout setting does not apply to a client it is
// given.
const exportTimeout = 10 * time.Second

// tracerName names the spans the receiver makes itself.
const tracerName = "github.com/hookrun/hookrun/functions/receiver"

// propagator is how trace context travels: W3C traceparent and tracestate,
// in headers and in message attributes. Not baggage: what a sender puts
// there is not the receiver's to pass on.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

// tracer is looked up on each use, so that a provider set after start
// (tests) is the one used.
func tracer() trace.Tracer { return otel.Tracer(tracerName) }

// TracesExporter is the exporter SetupTracing uses for the environment:
// OTEL_TRACES_EXPORTER, else gcp on Cloud Run with a project, else none,
// so that a test or a local run never reaches for Google credentials.
func TracesExporter() string {
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" {
		return e
	}
	if os.Getenv("K_SERVICE") != "" && os.Getenv("GOOGLE_CLOUD_PROJECT") != "" {
		return ExporterGCP
	}
	return ExporterNone
}

// SetupTracing installs the W3C tracecontext propagator and, unless the
// exporter (TracesExporter) is none, a tracer provider as the global ones.
// The returned shutdown flushes the spans not yet exported: call it once,
// after the server stopped, with a deadline.
func SetupTracing(ctx context.Context) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagator)
	exporter := TracesExporter()
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	var exp sdktrace.SpanExporter
	switch exporter {
	case ExporterNone:
		return func(context.Context) error { return nil }, nil
	case ExporterGCP:
		if project == "" {
			return nil, errors.New("OTEL_TRACES_EXPORTER=gcp needs GOOGLE_CLOUD_PROJECT")
		}
		var client *http.Client
		client, err = google.DefaultClient(ctx, "https://www.googleapis.com/auth/trace.append")
		if err != nil {
			return nil, fmt.Errorf("Google credentials for Cloud Trace: %w", err)
		}
		client.Timeout = exportTimeout
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(telemetryTracesURL), otlptracehttp.WithHTTPClient(client))
	case ExporterOTLP:
		exp, err = otlptracehttp.New(ctx)
	case ExporterConsole:
		exp, err = stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want gcp, otlp, console or none", exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("%s trace exporter: %w", exporter, err)
	}
	service := os.Getenv("K_SERVICE")
	if service == "" {
		service = "receiver"
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(service)}
	if exporter == ExporterGCP {
		// The Telemetry API stores spans in the project of this attribute.
		attrs = append(attrs, attribute.String("gcp.project_id", project))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// flushOnSIGTERM is the function's stand-in for a shutdown hook, which
// the Functions Framework does not offer: on SIGTERM (Cloud Run gives an
// instance 10 s before SIGKILL) it flushes the spans not yet exported,
// within budget, then lets SIGTERM end the process as it would have.
// Between requests the batcher may not export at all (CPU is throttled
// outside requests), so without this an instance's last spans would be
// lost when it is shut down.
func flushOnSIGTERM(shutdown func(context.Context) error, budget time.Duration) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		if err := shutdown(ctx); err != nil {
			slog.Warn("flushing traces", "error", err.Error())
		}
		cancel()
		signal.Stop(sig)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Signal(syscall.SIGTERM)
		}
	}()
}

// Handler is the receiver's HTTP handler as the function and the service
// serve it: rc behind LogRequests, behind a server span that continues the
// caller's traceparent. Health checks are not traced.
func Handler(projectID string, rc http.Handler) http.Handler {
	return otelhttp.NewHandler(LogRequests(projectID, rc), "receiver",
		otelhttp.WithPropagators(propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != HealthPath }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }),
	)
}

// route is the path a span is named after: webhooks come on any path,
// which would make a span name per sender.
func route(path string) string {
	if path == ProcessPath || path == HealthPath {
		return path
	}
	return "webhook"
}

// startHandoff starts the producer span of a hand-off to destination and
// returns the trace context to carry, under prefix, in carrier.
func startHandoff(ctx context.Context, name string, attrs []attribute.KeyValue, carrier map[string]string, prefix string) (context.Context, trace.Span) {
	ctx, span := tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	propagator.Inject(ctx, prefixCarrier{m: carrier, prefix: prefix})
	return ctx, span
}

// endSpan ends span, failed with err unless err is nil, and returns err.
func endSpan(span trace.Span, err error, failure string) error {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, failure)
	}
	span.End()
	return err
}

// TraceAttrPrefix prefixes the trace context in a handed-off message's
// attributes, googclient_traceparent and googclient_tracestate, as Pub/Sub's
// own OpenTelemetry support names them: a consumer using it continues the
// trace too.
const TraceAttrPrefix = "googclient_"

// prefixCarrier is a map (message attributes) carrying trace context under
// prefix.
type prefixCarrier struct {
	m      map[string]string
	prefix string
}

func (c prefixCarrier) Get(key string) string { return c.m[c.prefix+key] }
func (c prefixCarrier) Set(key, value string) { c.m[c.prefix+key] = value }
func (c prefixCarrier) Keys() []string {
	var keys []string
	for k := range c.m {
		if name, ok := strings.CutPrefix(k, c.prefix); ok {
			keys = append(keys, name)
		}
	}
	return keys
}

// startProcess starts the consumer span of a handed-off webhook in POST
// /process: a child of the hand-off's span when the message carries its
// context (Pub/Sub), linked to the push request's span, so one trace goes
// from the sender to the slow work. A Cloud Task's request carries the
// context in its traceparent header instead: the request's span is the
// parent then.
func startProcess(ctx context.Context, subscription, messageID string, attrs map[string]string) (context.Context, trace.Span) {
	name := "handoff process"
	if subscription != "" {
		name = subscription[strings.LastIndex(subscription, "/")+1:] + " process"
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.message.id", messageID),
		),
	}
	if subscription != "" {
		opts = append(opts, trace.WithAttributes(
			attribute.String("messaging.system", "gcp_pubsub"),
			attribute.String("messaging.destination.subscription.name", subscription)))
	}
	remote := trace.SpanContextFromContext(propagator.Extract(context.Background(), prefixCarrier{m: attrs, prefix: TraceAttrPrefix}))
	if !remote.IsValid() {
		return tracer().Start(ctx, name, opts...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	// The request's values and deadline, the message's span as parent.
	return tracer().Start(trace.ContextWithRemoteSpanContext(ctx, remote), name, opts...)
}
