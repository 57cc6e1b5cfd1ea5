// Command cloudtasks-emulator serves the in-memory Cloud Tasks emulator
// over plaintext gRPC for the local stack, since Google ships none. It
// really dispatches HTTP tasks at their schedule time and logs each attempt.
//
//	cloudtasks-emulator -addr 127.0.0.1:8123
//
// PORT, when set, changes the default address to 127.0.0.1:$PORT; -addr wins
// over both. It stops on SIGINT or SIGTERM, and its state dies with it.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookrun/hookrun/internal/emulator/cloudtasks"
)

func main() {
	addr := flag.String("addr", defaultAddr(), "host:port to listen on (port 0 picks a free one)")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: cloudLoggingKeys}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, *addr, logger); err != nil {
		logger.Error("cloud tasks emulator failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, logger *slog.Logger) error {
	em, err := cloudtasks.Serve(ctx, addr, cloudtasks.WithLogger(logger))
	if err != nil {
		return err
	}
	// Scripts that pass port 0 read the bound address from this line.
	logger.Info("cloud tasks emulator listening", "addr", em.Addr())
	if err := em.Wait(); err != nil {
		return err
	}
	logger.Info("cloud tasks emulator stopped")
	return nil
}

func defaultAddr() string {
	if port := os.Getenv("PORT"); port != "" {
		return "127.0.0.1:" + port
	}
	return "127.0.0.1:8123"
}

// cloudLoggingKeys renames slog's level and msg to the severity and message
// fields Cloud Logging reads (WARN becomes its WARNING), so local logs look
// like deployed ones.
func cloudLoggingKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		a.Key = "severity"
		if a.Value.Any() == slog.LevelWarn {
			a.Value = slog.StringValue("WARNING")
		}
	case slog.MessageKey:
		a.Key = "message"
	}
	return a
}
