package metrics

import (
	"context"
	"io"
	"sync/atomic"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DialOptions count the failed calls of a gRPC connection to dep as
// hookrun.dependency.errors. An adapter adds them to its client before
// gcpcall's, so that their interceptors wrap gcpcall's: every call to the
// service passes them once, and a call that gcpcall ends for want of an
// answer, or fails at once for want of a connection, is counted as the
// error its caller sees. On a nil Recorder they add nothing.
func (r *Recorder) DialOptions(dep Dependency) []grpc.DialOption {
	if r == nil {
		return nil
	}
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			r.callEnded(ctx, dep, err)
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			cs, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				r.callEnded(ctx, dep, err)
				return nil, err
			}
			return &countedStream{ClientStream: cs, r: r, dep: dep}, nil
		}),
	}
}

// ClientOptions are DialOptions for a Google Cloud client.
func (r *Recorder) ClientOptions(dep Dependency) []option.ClientOption {
	var out []option.ClientOption
	for _, o := range r.DialOptions(dep) {
		out = append(out, option.WithGRPCDialOption(o))
	}
	return out
}

// countedStream counts the first error a streamed answer ends with (a
// Firestore query's, say): a stream fails once.
type countedStream struct {
	grpc.ClientStream
	r       *Recorder
	dep     Dependency
	counted atomic.Bool
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil && err != io.EOF && !s.counted.Swap(true) {
		s.r.callEnded(s.Context(), s.dep, err)
	}
	return err
}

// callEnded counts err when it says the service failed, not the caller.
func (r *Recorder) callEnded(ctx context.Context, dep Dependency, err error) {
	if DependencyFailed(err) {
		r.DependencyError(ctx, dep)
	}
}

// DependencyFailed reports whether a call's error is the service failing:
// unreachable, slow, overloaded, broken, or refusing hookrun's identity.
// Answers a caller branches on (NOT_FOUND, ALREADY_EXISTS, a transaction's
// ABORTED or FAILED_PRECONDITION, a bad argument) and calls the caller gave
// up on (CANCELED) are how the service works, not how it fails. An error
// that is no gRPC status (gcpcall's CodeUnavailable) counts.
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
