// Package telemetry sets up OpenTelemetry tracing for a hookrun service
// from the standard OTEL_* variables, and carries trace context across the
// hops OpenTelemetry's HTTP instrumentation does not see: Pub/Sub message
// attributes and Cloud Tasks task headers. It holds the tracer provider
// only; metrics have their own package, set up beside it in internal/app.
//
// Which exporter, by OTEL_TRACES_EXPORTER:
//
//   - "gcp": Cloud Trace, in GOOGLE_CLOUD_PROJECT, through its OTLP
//     endpoint (the Telemetry API, telemetry.googleapis.com) with the
//     instance's Google credentials: Google's own Cloud Trace exporter for
//     Go is deprecated in favour of it. The default on Cloud Run
//     (K_SERVICE is set), so production needs no setting. The sample
//     receiver exports the same way (functions/receiver/tracing.go).
//   - "otlp": an OpenTelemetry collector over OTLP/HTTP, at
//     OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT), as the exporter
//     reads them.
//   - "console": one JSON span a line, to the file HOOKRUN_TRACES_FILE
//     names (scripts/dev sets it beside the service logs), else stderr so
//     that stdout stays the service's log.
//   - "none": no spans are recorded. The default off Cloud Run. Trace
//     context is still propagated and logs still carry the caller's trace.
//
// Sampling follows OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, read
// by the SDK (default parentbased_always_on: a producer's sampled flag is
// honoured); the service name and resource follow OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. Propagation is W3C tracecontext (traceparent,
// tracestate) everywhere.
//
// Google's client libraries (Firestore, Secret Manager, Cloud Tasks,
// Pub/Sub) emit their own spans through the global tracer provider this
// sets, so their calls appear as children of the span in their context
// without code here.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"golang.org/x/oauth2/google"
)

// Exporter names, the values of OTEL_TRACES_EXPORTER.
// The Telemetry API's OTLP/HTTP traces endpoint, the scope that may write
// to it, and how long one export may take.
const (
	telemetryTracesURL = "https://telemetry.googleapis.com/v1/traces"
	traceAppendScope   = "https://www.googleapis.com/auth/trace.append"
	exportTimeout      = 10 * time.Second
)

const (
	ExporterGCP     = "gcp"
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// Config is what Setup reads from the environment (FromEnv).
type Config struct {
	// Exporter is OTEL_TRACES_EXPORTER; empty means DefaultExporter.
	Exporter string
	// ProjectID is GOOGLE_CLOUD_PROJECT: where Cloud Trace keeps spans.
	ProjectID string
	// OnCloudRun is whether K_SERVICE is set, as Cloud Run sets it.
	OnCloudRun bool
	// File is HOOKRUN_TRACES_FILE, the console exporter's output.
	File string
}

// FromEnv reads Config from the environment.
func FromEnv() Config {
	_, onRun := os.LookupEnv("K_SERVICE")
	return Config{
		Exporter:   os.Getenv("OTEL_TRACES_EXPORTER"),
		ProjectID:  os.Getenv("GOOGLE_CLOUD_PROJECT"),
		OnCloudRun: onRun,
		File:       os.Getenv("HOOKRUN_TRACES_FILE"),
	}
}

// DefaultExporter is the exporter used when OTEL_TRACES_EXPORTER is unset:
// Cloud Trace on Cloud Run with a project, none elsewhere, so that a test
// or a developer's run never reaches for Google credentials.
func (c Config) DefaultExporter() string {
	if c.OnCloudRun && c.ProjectID != "" {
		return ExporterGCP
	}
	return ExporterNone
}

// Shutdown flushes the spans not yet exported and stops the exporter;
// call it once, after the server stopped, with a deadline.
type Shutdown func(context.Context) error

// Setup installs the W3C tracecontext propagator and, unless the exporter
// is none, a tracer provider for service (the default service.name) as the
// global ones.
func Setup(ctx context.Context, service string, c Config) (Shutdown, error) {
	// Trace context only, not baggage: what a producer puts in baggage is
	// not ours to pass on to tenants.
	otel.SetTextMapPropagator(propagation.TraceContext{})
	exporter := c.Exporter
	if exporter == "" {
		exporter = c.DefaultExporter()
	}
	var (
		exp   sdktrace.SpanExporter
		close func() error
		err   error
	)
	switch exporter {
	case ExporterNone:
		return func(context.Context) error { return nil }, nil
	case ExporterGCP:
		if c.ProjectID == "" {
			return nil, errors.New("OTEL_TRACES_EXPORTER=gcp needs GOOGLE_CLOUD_PROJECT")
		}
		// A client of its own, not instrumented: export calls must not
		// be traced, or each export would make spans to export.
		client, cerr := google.DefaultClient(ctx, traceAppendScope)
		if cerr != nil {
			return nil, fmt.Errorf("Google credentials for Cloud Trace: %w", cerr)
		}
		client.Timeout = exportTimeout
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(telemetryTracesURL), otlptracehttp.WithHTTPClient(client))
	case ExporterOTLP:
		exp, err = otlptracehttp.New(ctx)
	case ExporterConsole:
		var w io.Writer = os.Stderr
		if c.File != "" {
			f, ferr := os.OpenFile(c.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if ferr != nil {
				return nil, fmt.Errorf("HOOKRUN_TRACES_FILE: %w", ferr)
			}
			w, close = f, f.Close
		}
		exp, err = stdouttrace.New(stdouttrace.WithWriter(w))
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want gcp, otlp, console or none", exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("%s trace exporter: %w", exporter, err)
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(service)}
	if exporter == ExporterGCP {
		// The Telemetry API stores spans in the project this names.
		attrs = append(attrs, attribute.String("gcp.project_id", c.ProjectID))
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
	return func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		if close != nil {
			err = errors.Join(err, close())
		}
		return err
	}, nil
}
