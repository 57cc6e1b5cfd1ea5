package metrics

import (
	"context"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ClientOptions count the failed calls of a Google Cloud client to dep as
// hookrun.dependency.errors. Each adapter adds them to its client, after
// gcpcall's: the gRPC interceptors they install are the one place every
// call to the service passes, so each try the client libraries make is
// seen once, with the status the service gave, before gcpcall turns it
// into hookrun's own. On a nil Recorder they add nothing.
func (r *Recorder) ClientOptions(dep Dependency) []option.ClientOption {
	if r == nil {
		return nil
	}
	return []option.ClientOption{
		option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			r.callEnded(ctx, dep, err)
			return err
		})),
		option.WithGRPCDialOption(grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			cs, err := streamer(ctx, desc, cc, method, opts...)
			r.callEnded(ctx, dep, err)
			return cs, err
		})),
	}
}

// callEnded counts err when it says the service failed, not the caller:
// answers a caller branches on (NOT_FOUND, ALREADY_EXISTS, a transaction's
// ABORTED or FAILED_PRECONDITION, a bad argument) and calls its caller
// gave up on (CANCELED) are how the service works, not how it fails.
func (r *Recorder) callEnded(ctx context.Context, dep Dependency, err error) {
	if DependencyFailed(err) {
		r.DependencyError(ctx, dep)
	}
}

// DependencyFailed reports whether a call's error is the service failing:
// unreachable, slow, overloaded, broken, or refusing hookrun's identity.
func DependencyFailed(err error) bool {
	if err == nil {
		return false
	}
	switch status.Code(err) {
	case codes.OK, codes.Canceled, codes.NotFound, codes.AlreadyExists, codes.Aborted,
		codes.FailedPrecondition, codes.InvalidArgument, codes.OutOfRange:
		return false
	}
	return true
}
