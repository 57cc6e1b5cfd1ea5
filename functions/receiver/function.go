package receiver

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

func init() {
	functions.HTTP("Receive", Receive)
}

// function is the receiver behind Receive, built on first use.
var function = &lazyHandler{build: buildFunction, retryAfter: 5 * time.Second}

// Receive is the Cloud Run function entry point. It reads the same
// environment as the service (Config), on the first request, as functions
// should: a deployment that is only being built or listed never needs its
// secrets or clients.
func Receive(w http.ResponseWriter, r *http.Request) { function.ServeHTTP(w, r) }

func buildFunction(ctx context.Context) (http.Handler, error) {
	SetupLogging()
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, permanent{err}
	}
	// The clients outlive the first request, so they must not end with it.
	ctx = context.WithoutCancel(ctx)
	if err := functionTracing(); err != nil {
		return nil, permanent{err}
	}
	rc, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return Handler(os.Getenv("GOOGLE_CLOUD_PROJECT"), rc), nil
}

// traceFlushBudget is how long the function gives its last spans on
// SIGTERM, within the 10 s Cloud Run allows.
const traceFlushBudget = 5 * time.Second

// functionTracing sets tracing up once per instance, however many builds
// a failing Open takes. The Functions Framework has no shutdown hook, so
// the spans still batched are flushed on SIGTERM (flushOnSIGTERM).
var functionTracing = sync.OnceValue(func() error {
	shutdown, err := SetupTracing(context.Background())
	if err != nil {
		return err
	}
	if TracesExporter() != ExporterNone {
		flushOnSIGTERM(shutdown, traceFlushBudget)
	}
	return nil
})

// permanent marks a build error that retrying cannot fix, such as a
// configuration error: only a new deployment can.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

var errStarting = errorf(http.StatusServiceUnavailable, "receiver is starting: retry later")

// lazyHandler builds its handler on the first request. A transient build
// failure (Secret Manager unreachable, say) is retried by a later request,
// at most once per retryAfter; a permanent one is kept.
type lazyHandler struct {
	build      func(context.Context) (http.Handler, error)
	retryAfter time.Duration

	h        atomic.Pointer[http.Handler]
	mu       sync.Mutex
	err      error
	failedAt time.Time
}

func (l *lazyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	h, err := l.get(r.Context())
	if err != nil {
		if _, ok := err.(permanent); ok {
			writeError(w, r, wrapError(http.StatusInternalServerError, err, "receiver is not configured"))
			return
		}
		slog.ErrorContext(r.Context(), "receiver did not start", "error", err.Error())
		writeError(w, r, errStarting)
		return
	}
	h.ServeHTTP(w, r)
}

func (l *lazyHandler) get(ctx context.Context) (http.Handler, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.h.Load(); h != nil {
		return *h, nil
	}
	if l.err != nil {
		if _, ok := l.err.(permanent); ok || time.Since(l.failedAt) < l.retryAfter {
			return nil, l.err
		}
	}
	h, err := l.build(ctx)
	if err != nil {
		l.err, l.failedAt = err, time.Now()
		return nil, err
	}
	l.h.Store(&h)
	return h, nil
}
