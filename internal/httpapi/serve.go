package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownBudget is how long in-flight requests get after SIGTERM. Cloud Run
// allows 10 s between SIGTERM and SIGKILL.
const ShutdownBudget = 9 * time.Second

// DefaultReadTimeout bounds reading one request, headers and body, from its
// first byte. A producer's event (HOOKRUN_MAX_BODY_BYTES, 256 KiB by
// default) or a Pub/Sub push (at most 14 MB, over Google's network) takes
// a fraction of it; a client sending slower is cut off rather than holding
// a connection and a goroutine for as long as it likes.
const DefaultReadTimeout = 10 * time.Second

// DefaultIdleTimeout bounds how long a kept-alive connection waits for its
// next request.
const DefaultIdleTimeout = 120 * time.Second

// AnswerGrace is how long a handler has after its request's deadline
// (Timeouts.Request) to answer: for the cleanups that must not be cut
// short with the request (each call of them has its own deadline,
// HOOKRUN_CALL_TIMEOUT; the dispatcher records a cancelled attempt within
// dispatch.RecordTimeout), then for writing the answer. The server's
// WriteTimeout is Request plus this, so it never cuts off an answer in the
// making.
const AnswerGrace = time.Minute

// Timeouts bound the phases of every request a server takes, so that
// neither a slow client nor a hung dependency holds a connection for long.
type Timeouts struct {
	// Request is each request's budget: the deadline of its context, so
	// of every dependency call made with it. A dependency that does not
	// answer within it makes the request 503 UNAVAILABLE with Retry-After
	// (WriteError). Required.
	Request time.Duration
	// Read bounds reading a request, headers and body; 0 means
	// DefaultReadTimeout.
	Read time.Duration
	// Idle bounds a kept-alive connection's wait for its next request; 0
	// means DefaultIdleTimeout.
	Idle time.Duration
}

// NewServer returns the HTTP server of a hookrun service: h behind the
// per-request deadline, with t's read, write and idle timeouts. t.Request
// must be positive. Every request but a health check is a server span of
// the global tracer provider (traced), continuing the caller's
// traceparent: a producer's, or a Cloud Task's.
func NewServer(h http.Handler, t Timeouts) *http.Server {
	if t.Read == 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Idle == 0 {
		t.Idle = DefaultIdleTimeout
	}
	deadline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), t.Request)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	return &http.Server{
		Handler: traced(deadline),
		// ReadTimeout covers the headers too (ReadHeaderTimeout defaults
		// to it) and, unlike a deadline on the handler's context, cuts off
		// a body trickling in.
		ReadTimeout:  t.Read,
		WriteTimeout: t.Request + AnswerGrace,
		IdleTimeout:  t.Idle,
	}
}

// Serve serves h on addr as NewServer configures it until ctx is cancelled
// (SIGTERM), then shuts down gracefully within ShutdownBudget.
func Serve(ctx context.Context, addr string, h http.Handler, t Timeouts) error {
	if t.Request <= 0 {
		return fmt.Errorf("serve on %s: the request timeout must be positive, not %v", addr, t.Request)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := NewServer(h, t)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownBudget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
