// Command receiver runs the sample receiver as a Cloud Run service or
// locally: go run ./cmd from functions/receiver. PORT (default 8080) and
// HOOKRUN_LISTEN_HOST say where it listens; everything else is the
// receiver's Config (WEBHOOK_SECRET, HANDOFF_TOPIC…).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hookrun/hookrun/functions/receiver"
)

const (
	// requestTimeout bounds a request's handling: Cloud Run's default
	// request timeout, which cuts off a request still running after it
	// anyway. A webhook sender waits far less (hookrun 60 s at most); it
	// is the slow work consumed at POST /process that may take minutes.
	requestTimeout = 5 * time.Minute
	// readTimeout bounds reading one request, headers and body: a sender
	// trickling a body in is cut off rather than holding a connection.
	readTimeout = 10 * time.Second
	// idleTimeout bounds a kept-alive connection's wait for its next
	// request.
	idleTimeout = 120 * time.Second
	// answerGrace is how long a handler has after requestTimeout to
	// write its answer.
	answerGrace = time.Minute
	// shutdownBudget is how long in-flight requests get after SIGTERM:
	// Cloud Run allows 10 s before SIGKILL.
	shutdownBudget = 9 * time.Second
	// traceFlushBudget is what is left of Cloud Run's 10 s, once
	// shutdownBudget is spent, for the last spans to be exported. Spent
	// drains finish sooner, leaving more.
	traceFlushBudget = time.Second
)

func main() {
	receiver.SetupLogging().Info("starting", "service", "receiver")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		slog.Error("exiting", "service", "receiver", "error", err.Error())
		os.Exit(1)
	}
	slog.Info("stopped", "service", "receiver")
}

func run(ctx context.Context) error {
	cfg, err := receiver.ConfigFromEnv()
	if err != nil {
		return err
	}
	shutdownTracing, err := receiver.SetupTracing(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	defer func() { // last: flushes the spans of the requests Shutdown drained
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceFlushBudget)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			slog.Warn("flushing traces", "error", err.Error())
		}
	}()
	// The clients must outlive SIGTERM: requests still draining hand off.
	rc, err := receiver.Open(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return err
	}
	defer func() { // after Shutdown drained in-flight requests: flushes the hand-off
		if err := rc.Close(); err != nil {
			slog.Warn("closing the hand-off", "error", err.Error())
		}
	}()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	return serve(ctx, net.JoinHostPort(os.Getenv("HOOKRUN_LISTEN_HOST"), port), receiver.Handler(os.Getenv("GOOGLE_CLOUD_PROJECT"), rc))
}

// serve serves h on addr until ctx ends, then shuts down gracefully within
// shutdownBudget.
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
			defer cancel()
			h.ServeHTTP(w, r.WithContext(ctx))
		}),
		ReadTimeout:  readTimeout,
		WriteTimeout: requestTimeout + answerGrace,
		IdleTimeout:  idleTimeout,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownBudget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
