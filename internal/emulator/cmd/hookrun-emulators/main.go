// Command hookrun-emulators serves hookrun's local Secret Manager and Cloud
// Tasks emulators over plaintext gRPC, for running services against them
// outside scripts/dev (which hosts them in its own process):
//
//	hookrun-emulators -secretmanager 127.0.0.1:8087 -cloudtasks 127.0.0.1:8088
//
// An empty address leaves that emulator out. It stops on SIGINT or SIGTERM,
// and their state dies with it.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookrun/hookrun/internal/emulator"
	"github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/logging"
)

func main() {
	smAddr := flag.String("secretmanager", "127.0.0.1:8087", "Secret Manager emulator address; empty: none")
	ctAddr := flag.String("cloudtasks", "127.0.0.1:8088", "Cloud Tasks emulator address; empty: none")
	flag.Parse()
	logger := logging.New(os.Stdout, slog.LevelInfo)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, *smAddr, *ctAddr); err != nil {
		logger.Error("emulators failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, smAddr, ctAddr string) error {
	var servers []*emulator.Server
	if smAddr != "" {
		s, err := secretmanager.Serve(ctx, smAddr)
		if err != nil {
			return err
		}
		servers = append(servers, s)
		// Scripts that pass port 0 read the bound address from this line.
		logger.Info("secret manager emulator listening", "addr", s.Addr())
	}
	if ctAddr != "" {
		s, err := cloudtasks.Serve(ctx, ctAddr, cloudtasks.WithLogger(logger))
		if err != nil {
			return err
		}
		servers = append(servers, s)
		logger.Info("cloud tasks emulator listening", "addr", s.Addr())
	}
	if len(servers) == 0 {
		return errors.New("no emulator to serve: give -secretmanager or -cloudtasks an address")
	}
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Wait())
	}
	logger.Info("emulators stopped")
	return errors.Join(errs...)
}
