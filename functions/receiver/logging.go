package receiver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Logs are JSON lines on stdout with the field names Cloud Logging reads
// (severity, message, logging.googleapis.com/trace), one line per request
// (LogRequests) and the lines handlers write, each under the span it is
// logged in (logging.googleapis.com/trace and spanId), or the trace the
// request's headers name when no span is in its context. No line holds a
// secret or a signature.

// Cloud Logging's special JSON fields.
const (
	keyTrace        = "logging.googleapis.com/trace"
	keySpanID       = "logging.googleapis.com/spanId"
	keyTraceSampled = "logging.googleapis.com/trace_sampled"
)

// SetupLogging makes a Cloud Logging JSON logger on stdout the default for
// slog, at the level LOG_LEVEL names (debug, info, warn, error; default
// info), and returns it.
func SetupLogging() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	l := NewLogger(os.Stdout, level)
	slog.SetDefault(l)
	return l
}

// NewLogger returns a JSON logger writing to w at level, with Cloud
// Logging's field names and the trace of the request a line is logged in.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
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
				a.Key = "severity"
				if lvl, ok := a.Value.Any().(slog.Level); ok && lvl == slog.LevelWarn {
					a.Value = slog.StringValue("WARNING")
				}
			}
			return a
		},
	})
	return slog.New(&traceHandler{Handler: h})
}

// logTrace identifies the Cloud Trace span a line belongs to.
type logTrace struct {
	name    string // projects/{project}/traces/{trace-id}
	spanID  string
	sampled bool
}

type traceKey struct{}

// requestTrace is what LogRequests keeps for the lines of a request: the
// project traces are in, and the trace its headers name, for when no span
// is in the context of a line.
type requestTrace struct {
	project string
	header  logTrace
	ok      bool
}

// current is the trace of a line logged in ctx: its span (the server
// span, a hand-off's, /process's), else the request headers'.
func (rt requestTrace) current(ctx context.Context) (logTrace, bool) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && rt.project != "" {
		return logTrace{"projects/" + rt.project + "/traces/" + sc.TraceID().String(), sc.SpanID().String(), sc.IsSampled()}, true
	}
	return rt.header, rt.ok
}

// traceFromHeaders reads the W3C traceparent header, or Google's
// X-Cloud-Trace-Context, that Cloud Run and Pub/Sub put on requests.
func traceFromHeaders(projectID string, h http.Header) (logTrace, bool) {
	if projectID == "" {
		return logTrace{}, false
	}
	// traceparent: version-traceid-spanid-flags
	if parts := strings.Split(h.Get("traceparent"), "-"); len(parts) == 4 && len(parts[1]) == 32 && len(parts[2]) == 16 {
		return logTrace{"projects/" + projectID + "/traces/" + parts[1], parts[2], strings.HasSuffix(parts[3], "1")}, true
	}
	// X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS
	if ct := h.Get("X-Cloud-Trace-Context"); ct != "" {
		id, rest, _ := strings.Cut(ct, "/")
		if id == "" {
			return logTrace{}, false
		}
		span, opts, _ := strings.Cut(rest, ";")
		return logTrace{"projects/" + projectID + "/traces/" + id, span, opts == "o=1"}, true
	}
	return logTrace{}, false
}

type traceHandler struct{ slog.Handler }

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if rt, ok := ctx.Value(traceKey{}).(requestTrace); ok {
		if tr, ok := rt.current(ctx); ok {
			r.AddAttrs(slog.String(keyTrace, tr.name))
			if tr.spanID != "" {
				r.AddAttrs(slog.String(keySpanID, tr.spanID))
			}
			r.AddAttrs(slog.Bool(keyTraceSampled, tr.sampled))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name)}
}

type logAttrsKey struct{}

type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// addLogAttrs adds attributes (webhook_id, outcome…) to the one line
// logged for the request that ctx belongs to. Without LogRequests it does
// nothing.
func addLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, attrs...)
		la.mu.Unlock()
	}
}

// statusClientClosedRequest is logged for a request whose client hung up
// before it was answered: nginx's 499, which no client ever receives.
const statusClientClosedRequest = 499

// LogRequests logs one line per request (method, path, status, latency and
// what the receiver adds: webhook_id, outcome…), correlates every line of
// a request with its trace in projectID (Handler puts the request's span
// outside it), and turns a panic into a 500 in the error shape. A request whose client went away before its answer is
// logged with status 499 and client_closed=true.
func LogRequests(projectID string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := r.Context()
		tr, ok := traceFromHeaders(projectID, r.Header)
		ctx = context.WithValue(ctx, traceKey{}, requestTrace{project: projectID, header: tr, ok: ok})
		la := &logAttrs{}
		ctx = context.WithValue(ctx, logAttrsKey{}, la)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w, ctx: ctx}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.ErrorContext(ctx, "panic serving request", "panic", p, "stack", string(debug.Stack()))
				if !sw.wrote {
					writeError(sw, r, errorf(http.StatusInternalServerError, "internal error"))
				}
			}
			status, closed := sw.status(), sw.clientClosed()
			if closed {
				status = statusClientClosedRequest
			}
			la.mu.Lock()
			attrs := append([]slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			}, la.attrs...)
			la.mu.Unlock()
			if closed {
				attrs = append(attrs, slog.Bool("client_closed", true))
			}
			slog.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status of the answer, and whether the client
// had gone before it began.
type statusWriter struct {
	http.ResponseWriter
	ctx   context.Context // the request's
	code  int
	wrote bool
	late  bool
}

func (w *statusWriter) WriteHeader(code int) {
	w.begin(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.begin(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) begin(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
		w.late = errors.Is(w.ctx.Err(), context.Canceled)
	}
}

// clientClosed reports whether the client went away before the answer:
// the server cancels a request's context when its connection closes (a
// deadline that passed is the server's doing, not the client's).
func (w *statusWriter) clientClosed() bool {
	if !w.wrote {
		return errors.Is(w.ctx.Err(), context.Canceled)
	}
	return w.late
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
