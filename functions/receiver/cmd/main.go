// Command receiver runs the sample receiver as a Cloud Run service or
// locally: PORT (default 8080) and WEBHOOK_SECRET configure it.
package main

import (
	"context"
	"net"
	"os"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func main() { app.Main("receiver", run) }

func run(ctx context.Context) error {
	cfg, err := receiver.ConfigFromEnv()
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	h := httpapi.Middleware(os.Getenv("GOOGLE_CLOUD_PROJECT"), receiver.New(cfg))
	return httpapi.Serve(ctx, net.JoinHostPort(os.Getenv("HOOKRUN_LISTEN_HOST"), port), h)
}
