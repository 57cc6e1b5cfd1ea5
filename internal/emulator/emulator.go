// Package emulator is what hookrun's local emulators (Secret Manager and
// Cloud Tasks, which Google ships none of) share with each other and with
// each other: serving a gRPC API on a loopback address. Clients reach it
// with gcpcall.LocalEndpoint, so that the production adapters do not
// depend on the emulators.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc"
)

// Server is an emulator serving plaintext gRPC on a TCP address. Clients
// connect with gcpcall.LocalEndpoint(s.Addr()).
type Server struct {
	addr     string
	grpc     *grpc.Server
	onStop   func()
	unwatch  func() bool // stops watching the Serve context
	done     chan struct{}
	serveErr error // written before done is closed
	stopOnce sync.Once
}

// Serve listens on addr, such as "127.0.0.1:8089" or "127.0.0.1:0" for any
// free port (Addr reports which), lets register add the emulated services,
// and serves until ctx is done or Close is called. onStop, when not nil,
// runs after the gRPC server stopped taking calls (to stop timers and the
// like). Nothing authenticates callers, so keep addr on loopback.
func Serve(ctx context.Context, addr string, register func(*grpc.Server), onStop func()) (*Server, error) {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := grpc.NewServer()
	register(srv)
	s := &Server{addr: lis.Addr().String(), grpc: srv, onStop: onStop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := srv.Serve(lis)
		// Serve returns as soon as a stop begins; finish it (or, after a
		// failure, do it) before reporting the emulator stopped.
		s.stop()
		// ErrServerStopped means a stop came before Serve began: still a
		// requested stop, not a failure.
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.serveErr = fmt.Errorf("serve gRPC on %s: %w", s.addr, err)
		}
	}()
	s.unwatch = context.AfterFunc(ctx, s.stop)
	return s, nil
}

// Addr returns the host:port the emulator listens on.
func (s *Server) Addr() string { return s.addr }

// Wait blocks until the emulator has stopped and returns why it stopped
// early, or nil after a requested stop.
func (s *Server) Wait() error {
	<-s.done
	return s.serveErr
}

// Close stops the emulator gracefully, letting in-flight calls finish, and
// waits for it. Closing twice is harmless.
func (s *Server) Close() error {
	s.unwatch()
	s.stop()
	return s.Wait()
}

// stop ends the gRPC service first, so that no call adds work, then runs
// onStop. sync.Once makes concurrent callers wait for the first.
func (s *Server) stop() {
	s.stopOnce.Do(func() {
		s.grpc.GracefulStop()
		if s.onStop != nil {
			s.onStop()
		}
	})
}
