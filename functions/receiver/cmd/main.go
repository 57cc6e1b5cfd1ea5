// Command receiver runs the sample receiver as a Cloud Run service or
// locally: go run ./functions/receiver/cmd. PORT (default 8080) and
// HOOKRUN_LISTEN_HOST say where it listens; everything else is the
// receiver's Config (WEBHOOK_SECRET, HANDOFF_TOPIC…).
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// requestTimeout bounds a request's handling: Cloud Run's default request
// timeout, which cuts off a request still running after it anyway. A
// webhook sender waits far less (hookrun 60 s at most); it is the slow work
// consumed at POST /process that may take minutes.
const requestTimeout = 5 * time.Minute

func main() { app.Main("receiver", run) }

func run(ctx context.Context) error {
	cfg, err := receiver.ConfigFromEnv()
	if err != nil {
		return err
	}
	// The clients must outlive SIGTERM: requests still draining hand off.
	rc, err := receiver.Open(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return err
	}
	defer func() { // after Serve drained in-flight requests: flushes the hand-off
		if err := rc.Close(); err != nil {
			slog.Warn("closing the hand-off", "error", err.Error())
		}
	}()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	h := httpapi.Middleware(os.Getenv("GOOGLE_CLOUD_PROJECT"), rc)
	return httpapi.Serve(ctx, net.JoinHostPort(os.Getenv("HOOKRUN_LISTEN_HOST"), port), h, httpapi.Timeouts{Request: requestTimeout})
}
