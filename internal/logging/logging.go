// Package logging sets up log/slog for Cloud Run: JSON on stdout with the
// field names Cloud Logging understands (severity, message, time,
// logging.googleapis.com/trace), and trace correlation carried in the
// context so every line of a request lands under its trace and the span
// it was written in (the OpenTelemetry span in the context, else a trace
// read from the request's headers).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Cloud Logging's special JSON fields.
const (
	keyTrace        = "logging.googleapis.com/trace"
	keySpanID       = "logging.googleapis.com/spanId"
	keyTraceSampled = "logging.googleapis.com/trace_sampled"
)

// New returns a JSON logger writing to w at the given level, named the way
// Cloud Logging expects.
func New(w io.Writer, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.MessageKey:
				a.Key = "message"
			case slog.LevelKey:
				// Always a string: a slog.Level left as it is would be
				// written through its MarshalJSON, by encoding/json, on
				// every line.
				a.Key = "severity"
				if lvl, ok := a.Value.Any().(slog.Level); ok {
					a.Value = slog.StringValue(severity(lvl))
				}
			}
			return a
		},
	})
	return slog.New(&traceHandler{Handler: h})
}

// severity is Cloud Logging's name of lvl: slog's, but WARNING for WARN.
func severity(lvl slog.Level) string {
	if lvl == slog.LevelWarn {
		return "WARNING"
	}
	return lvl.String()
}

// Setup makes a logger from the LOG_LEVEL environment variable (debug, info,
// warn, error; default info) the default for slog and returns it.
func Setup() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	l := New(os.Stdout, level)
	slog.SetDefault(l)
	return l
}

// Trace identifies the Cloud Trace span a request belongs to.
type Trace struct {
	// Name is "projects/{project}/traces/{trace-id}".
	Name    string
	SpanID  string
	Sampled bool
}

type (
	traceKey   struct{}
	projectKey struct{}
)

// WithProject returns ctx naming the Google Cloud project whose Cloud
// Trace holds the spans of ctx: log lines written with it, or a context
// derived from it, name the OpenTelemetry span current at each line.
func WithProject(ctx context.Context, projectID string) context.Context {
	return context.WithValue(ctx, projectKey{}, projectID)
}

// traceOf returns the trace a line written with ctx belongs to: the
// current OpenTelemetry span's when ctx names a project, else the one
// WithTrace put there.
func traceOf(ctx context.Context) (Trace, bool) {
	if p, _ := ctx.Value(projectKey{}).(string); p != "" {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			return Trace{Name: "projects/" + p + "/traces/" + sc.TraceID().String(), SpanID: sc.SpanID().String(), Sampled: sc.IsSampled()}, true
		}
	}
	tr, ok := ctx.Value(traceKey{}).(Trace)
	return tr, ok
}

// WithTrace returns ctx carrying tr, so log lines written with it are
// correlated with the request's trace.
func WithTrace(ctx context.Context, tr Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

// TraceFromHeaders reads the W3C traceparent header, or Google's
// X-Cloud-Trace-Context, that Cloud Run and Pub/Sub put on requests.
func TraceFromHeaders(projectID, traceparent, cloudTrace string) (Trace, bool) {
	if projectID == "" {
		return Trace{}, false
	}
	// traceparent: version-traceid-spanid-flags
	if parts := strings.Split(traceparent, "-"); len(parts) == 4 && len(parts[1]) == 32 && len(parts[2]) == 16 {
		return Trace{
			Name:    "projects/" + projectID + "/traces/" + parts[1],
			SpanID:  parts[2],
			Sampled: strings.HasSuffix(parts[3], "1"),
		}, true
	}
	// X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS
	if cloudTrace != "" {
		id, rest, _ := strings.Cut(cloudTrace, "/")
		if id == "" {
			return Trace{}, false
		}
		span, opts, _ := strings.Cut(rest, ";")
		return Trace{Name: "projects/" + projectID + "/traces/" + id, SpanID: span, Sampled: opts == "o=1"}, true
	}
	return Trace{}, false
}

type traceHandler struct{ slog.Handler }

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if tr, ok := traceOf(ctx); ok {
		r.AddAttrs(slog.String(keyTrace, tr.Name))
		if tr.SpanID != "" {
			r.AddAttrs(slog.String(keySpanID, tr.SpanID))
		}
		r.AddAttrs(slog.Bool(keyTraceSampled, tr.Sampled))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name)}
}
