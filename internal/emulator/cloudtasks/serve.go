package cloudtasks

import (
	"context"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc"

	"github.com/hookrun/hookrun/internal/emulator"
)

// Serve starts a Cloud Tasks emulator with no queues on addr (see
// emulator.Serve); it stops when ctx is done or on Close, and then its
// timers stop and dispatches in flight are cancelled.
func Serve(ctx context.Context, addr string, opts ...Option) (*emulator.Server, error) {
	tasks := NewServer(nil, opts...)
	return emulator.Serve(ctx, addr, func(s *grpc.Server) {
		cloudtaskspb.RegisterCloudTasksServer(s, tasks)
	}, tasks.Close)
}
