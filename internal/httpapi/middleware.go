package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging"
)

type logAttrsKey struct{}

type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// AddLogAttrs adds attributes (tenant, event…) to the one line logged for
// the request that ctx belongs to. Without Middleware it does nothing.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, attrs...)
		la.mu.Unlock()
	}
}

// Middleware logs one line per request (method, path, status, latency and
// what handlers added with AddLogAttrs), correlates logs with the request's
// trace, and turns a panic into a 500 in the API's error shape. A request
// whose client went away before its answer is logged with status 499 and
// client_closed=true: the client's doing, not a server error.
func Middleware(projectID string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The span NewServer's instrumentation started (continuing the
		// caller's traceparent) names each line's trace; without one
		// (no traceparent and tracing off), Cloud Run's trace header.
		ctx := logging.WithProject(r.Context(), projectID)
		if tr, ok := logging.TraceFromHeaders(projectID, r.Header.Get("traceparent"), r.Header.Get("X-Cloud-Trace-Context")); ok {
			ctx = logging.WithTrace(ctx, tr)
		}
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
					WriteError(sw, r, hookrun.Errorf(hookrun.CodeInternal, "internal error"))
				}
			}
			status, closed := sw.status(), sw.clientClosed()
			if closed {
				status = StatusClientClosedRequest
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

// StatusClientClosedRequest is logged for a request whose client hung up
// before it was answered: nginx's 499, the de facto status for it, which
// no client ever receives.
const StatusClientClosedRequest = 499

type statusWriter struct {
	http.ResponseWriter
	ctx   context.Context // the request's
	code  int
	wrote bool
	// late is set when the answer began after the client had gone.
	late bool
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
		w.late = clientGone(w.ctx)
	}
}

// clientClosed reports whether the client went away before the answer.
func (w *statusWriter) clientClosed() bool {
	if !w.wrote {
		return clientGone(w.ctx)
	}
	return w.late
}

// clientGone reports whether the request's client went away: the server
// cancels a request's context when its connection closes. A deadline that
// passed is the server's doing, not the client's.
func clientGone(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Healthz answers GET /healthz for Cloud Run and the local stack.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
