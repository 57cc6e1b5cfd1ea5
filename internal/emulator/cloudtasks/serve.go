package cloudtasks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc"
)

// Emulator is an emulator serving plaintext gRPC on a TCP address and
// dispatching its tasks. Clients connect with option.WithEndpoint(e.Addr()),
// option.WithoutAuthentication() and insecure transport credentials.
type Emulator struct {
	addr     string
	grpc     *grpc.Server
	server   *Server
	unwatch  func() bool // stops watching the Serve context
	done     chan struct{}
	serveErr error // written before done is closed
	stopOnce sync.Once
}

// Serve starts an emulator with no queues on addr, such as "127.0.0.1:8123"
// or "127.0.0.1:0" for any free port (Addr reports which). Nothing
// authenticates callers, so keep addr on the loopback interface. The
// emulator stops when ctx is done or Close is called.
func Serve(ctx context.Context, addr string, opts ...Option) (*Emulator, error) {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := grpc.NewServer()
	tasks := NewServer(nil, opts...)
	cloudtaskspb.RegisterCloudTasksServer(srv, tasks)
	e := &Emulator{
		addr:   lis.Addr().String(),
		grpc:   srv,
		server: tasks,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(e.done)
		err := srv.Serve(lis)
		// Serve returns as soon as a stop begins; finish it (or, after a
		// failure, do it) before reporting the emulator stopped.
		e.stop()
		// ErrServerStopped means a stop came before Serve began: still a
		// requested stop, not a failure.
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			e.serveErr = fmt.Errorf("serve gRPC on %s: %w", e.addr, err)
		}
	}()
	e.unwatch = context.AfterFunc(ctx, e.stop)
	return e, nil
}

// Addr returns the host:port the emulator listens on.
func (e *Emulator) Addr() string { return e.addr }

// Wait blocks until the emulator has stopped and returns why it stopped
// early, or nil after a requested stop.
func (e *Emulator) Wait() error {
	<-e.done
	return e.serveErr
}

// Close stops the emulator and waits for it: in-flight calls finish, no new
// ones are taken, timers stop and dispatches in flight are cancelled.
// Closing twice is harmless.
func (e *Emulator) Close() error {
	e.unwatch()
	e.stop()
	return e.Wait()
}

// stop ends the gRPC service first, so that no call adds work, then the
// dispatcher. sync.Once makes concurrent callers wait for the first.
func (e *Emulator) stop() {
	e.stopOnce.Do(func() {
		e.grpc.GracefulStop()
		e.server.Close()
	})
}
