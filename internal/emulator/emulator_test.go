package emulator_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"

	"github.com/hookrun/hookrun/internal/emulator"
)

func TestServeStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, em *emulator.Server) error
	}{
		{"on Close", func(_ context.CancelFunc, em *emulator.Server) error { return em.Close() }},
		{"on Close twice", func(_ context.CancelFunc, em *emulator.Server) error {
			if err := em.Close(); err != nil {
				return err
			}
			return em.Close()
		}},
		{"when the context ends", func(cancel context.CancelFunc, em *emulator.Server) error {
			cancel()
			return em.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			em, err := emulator.Serve(ctx, "127.0.0.1:0", func(*grpc.Server) {}, nil)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if err := tt.stop(cancel, em); err != nil {
				t.Errorf("stop: got %v, want nil", err)
			}
			// Stopped means the port no longer accepts connections.
			if conn, err := net.Dial("tcp", em.Addr()); err == nil {
				conn.Close()
				t.Errorf("dial %s after stop: got a connection, want refused", em.Addr())
			}
		})
	}
}

func TestServeAddressInUse(t *testing.T) {
	em, err := emulator.Serve(t.Context(), "127.0.0.1:0", func(*grpc.Server) {}, nil)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	defer em.Close()
	if second, err := emulator.Serve(t.Context(), em.Addr(), func(*grpc.Server) {}, nil); err == nil {
		second.Close()
		t.Errorf("Serve on a busy %s: got nil error, want one", em.Addr())
	}
}
