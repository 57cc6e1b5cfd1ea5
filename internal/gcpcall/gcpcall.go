// Package gcpcall bounds every call hookrun's adapters make to a Google
// Cloud API (Firestore, Secret Manager, Cloud Tasks, Pub/Sub), through the
// client libraries' own hook for it: gRPC interceptors added with
// option.WithGRPCDialOption.
//
// Two things would otherwise hold a request for as long as its caller
// waits, or longer, since the libraries retry UNAVAILABLE until their own
// timeouts (60 s for most calls) or the caller's context ends:
//
//   - A service that does not answer (a hung server, a frozen emulator, a
//     connection that went dark): each call, and each wait for the next
//     message of a streamed answer, ends after the call timeout, even on a
//     context without a deadline (the work that outlives a request does).
//   - A service that cannot be reached (connection refused): gRPC fails such
//     a call at once, but the libraries retry it with backoff until their
//     timeout. Failing it once is enough: the caller's own retry (a
//     producer's, Pub/Sub's redelivery) comes back later.
//
// Both are returned as a *hookrun.Error with CodeUnavailable, which the
// API answers as 503 with Retry-After, in place of the gRPC status: the
// libraries retry by status code, so they do not retry these.
//
// The same options bound the memory the calls hold: their messages are
// encoded into buffers of BufferPool, sized to fit (codec.go).
package gcpcall

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// DefaultTimeout is the call timeout where none is configured
// (HOOKRUN_CALL_TIMEOUT). Firestore, Secret Manager and Cloud Tasks answer
// in tens of milliseconds; a call still waiting after seconds is on a
// service that is down, and a request waiting for it would only hold its
// client longer. Seconds rather than one: the emulators, cold and on a
// busy machine, take several to answer a burst of calls.
const DefaultTimeout = 10 * time.Second

// NoTimeout, as a timeout, leaves the deadline of calls to their callers;
// calls to a service that cannot be reached still fail at once. Pub/Sub's
// publisher has a deadline of its own (PublishSettings.Timeout).
const NoTimeout time.Duration = -1

// ClientOptions bound the calls of a Google Cloud client: each call and
// each wait for a streamed message ends after timeout (0 means
// DefaultTimeout), and a call to a service that cannot be reached fails at
// once.
func ClientOptions(timeout time.Duration) []option.ClientOption {
	var out []option.ClientOption
	for _, o := range DialOptions(timeout) {
		out = append(out, option.WithGRPCDialOption(o))
	}
	return out
}

// LocalEndpoint points a Google Cloud client at endpoint ("host:port"):
// plaintext gRPC, no credentials, as hookrun's local emulators serve
// (internal/emulator). An empty endpoint adds nothing: the real service,
// with Application Default Credentials. The adapters take it from here so
// that production code does not depend on the emulators.
func LocalEndpoint(endpoint string) []option.ClientOption {
	if endpoint == "" {
		return nil
	}
	return []option.ClientOption{
		option.WithEndpoint(endpoint),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// Within returns ctx bounded to end within d from now: ctx itself, when
// it ends as soon already (a caller's bound that nests another: a claim's
// lease around its publish), else a child with that deadline, which the
// caller must cancel. The calls on an event's path are bounded two or
// three times over; each needless context is a timer to start and stop.
func Within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if end, ok := ctx.Deadline(); ok && time.Until(end) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// DialOptions are ClientOptions for a gRPC connection dialled directly.
func DialOptions(timeout time.Duration) []grpc.DialOption {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return []grpc.DialOption{
		experimental.WithBufferPool(BufferPool),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(codec{})),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			c := start(ctx, cc, method, timeout)
			defer c.end()
			return c.explain(invoker(c.ctx, method, req, reply, cc, opts...))
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if desc.ClientStreams {
				// Long-lived by design (Firestore's Listen and Write):
				// their callers bound them.
				return streamer(ctx, desc, cc, method, opts...)
			}
			c := start(ctx, cc, method, timeout)
			cs, err := streamer(c.ctx, desc, cc, method, opts...)
			c.pause()
			if err != nil {
				c.end()
				return nil, c.explain(err)
			}
			return &stream{ClientStream: cs, call: c}, nil
		}),
	}
}

// call is one RPC being bounded. Its context ends when the RPC has waited
// timeout for the service without an answer.
type call struct {
	parent  context.Context
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer // nil without a timeout
	expired atomic.Bool
	cc      *grpc.ClientConn
	method  string
	timeout time.Duration
}

// start begins the wait for the service.
func start(parent context.Context, cc *grpc.ClientConn, method string, timeout time.Duration) *call {
	c := &call{parent: parent, cc: cc, method: method, timeout: timeout}
	c.ctx, c.cancel = context.WithCancel(parent)
	if timeout > 0 { // not NoTimeout
		c.timer = time.AfterFunc(timeout, func() {
			c.expired.Store(true)
			c.cancel()
		})
	}
	return c
}

// resume starts another wait for the service, of timeout again.
func (c *call) resume() {
	if c.timer != nil {
		c.timer.Reset(c.timeout)
	}
}

// pause stops the clock while the caller, not the service, has the turn.
func (c *call) pause() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

// end releases the call's context.
func (c *call) end() {
	c.pause()
	c.cancel()
}

// explain turns the failure of a call that this package ended, or that
// could not reach its service, into CodeUnavailable; other errors pass.
func (c *call) explain(err error) error {
	switch {
	case err == nil || err == io.EOF:
		return err
	case c.expired.Load() && c.parent.Err() == nil:
		return hookrun.WrapError(hookrun.CodeUnavailable,
			fmt.Errorf("%s: no answer within %v: %w", c.method, c.timeout, context.DeadlineExceeded),
			"a backing service did not answer in time; retry")
	case status.Code(err) == codes.Unavailable && c.cc.GetState() == connectivity.TransientFailure:
		// The channel failed to connect: no server to retry against. The
		// status is kept as text only, so that no library retries it.
		return hookrun.WrapError(hookrun.CodeUnavailable,
			fmt.Errorf("%s: cannot connect: %s", c.method, status.Convert(err).Message()),
			"a backing service cannot be reached; retry")
	}
	return err
}

// stream is a server-streaming call whose every wait for a message is
// bounded; the time the caller spends between messages is not counted.
type stream struct {
	grpc.ClientStream
	call *call
}

func (s *stream) RecvMsg(m any) error {
	s.call.resume()
	err := s.call.explain(s.ClientStream.RecvMsg(m))
	s.call.pause()
	if err != nil {
		s.call.end() // io.EOF included: the stream is over
	}
	return err
}
