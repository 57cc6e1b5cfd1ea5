// Command hookrun is the command line of the hookrun API: log in once, then
// manage tenants and endpoints, send events (one, or a batch from NDJSON),
// read events with their delivery attempts, follow deliveries as they
// happen, replay dead letters and print portal links.
//
//	go install github.com/hookrun/hookrun/run/ingest/hookrun@latest
//
// It only wires the process to the commands, which live in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookrun/hookrun/run/ingest/hookrun/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
