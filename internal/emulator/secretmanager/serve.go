package secretmanager

import (
	"context"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"

	"github.com/hookrun/hookrun/internal/emulator"
)

// Serve starts a Secret Manager emulator with empty state on addr (see
// emulator.Serve); it stops when ctx is done or on Close.
func Serve(ctx context.Context, addr string) (*emulator.Server, error) {
	return emulator.Serve(ctx, addr, func(s *grpc.Server) {
		secretmanagerpb.RegisterSecretManagerServiceServer(s, NewServer())
	}, nil)
}
