package gcpcall_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
)

const timeout = 300 * time.Millisecond

// patience bounds every test call from outside, so that a call this
// package fails to end fails its test rather than hanging it.
const patience = 20 * timeout

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, gcpcall.DialOptions(timeout)...)
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// retried calls method the way the client libraries do: gax retries
// UNAVAILABLE and DEADLINE_EXCEEDED with backoff until ctx ends.
func retried(ctx context.Context, cc *grpc.ClientConn, method string) error {
	return gax.Invoke(ctx, func(ctx context.Context, _ gax.CallSettings) error {
		return cc.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{})
	}, gax.WithRetry(func() gax.Retryer {
		return gax.OnCodes([]codes.Code{codes.Unavailable, codes.DeadlineExceeded}, gax.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond})
	}))
}

// wantUnavailable checks that err is CodeUnavailable and came within
// limit of start.
func wantUnavailable(t *testing.T, err error, start time.Time, limit time.Duration) {
	t.Helper()
	if got := hookrun.ErrorCode(err); got != hookrun.CodeUnavailable {
		t.Errorf("error = %v (code %s), want %s", err, got, hookrun.CodeUnavailable)
	}
	if d := time.Since(start); d > limit {
		t.Errorf("answered after %v, want within %v", d, limit)
	}
}

func TestUnaryCallEnds(t *testing.T) {
	for _, c := range []struct {
		name  string
		addr  func(testing.TB) string
		limit time.Duration
	}{
		// Without a deadline of its own (the work that outlives a
		// request), a call to a hung service still ends.
		{"service does not answer", testenv.SilentAddr, 3 * timeout},
		// Refused at once: no retry until the libraries' timeouts.
		{"service cannot be reached", testenv.RefusedAddr, timeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := dial(t, c.addr(t))
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			start := time.Now()
			err := retried(ctx, cc, "/test.Service/Unary")
			wantUnavailable(t, err, start, c.limit)
		})
	}
}

func TestCallersDeadlineStaysTheirs(t *testing.T) {
	cc := dial(t, testenv.SilentAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), timeout/3)
	defer cancel()
	err := cc.Invoke(ctx, "/test.Service/Unary", &emptypb.Empty{}, &emptypb.Empty{})
	if got := status.Code(err); got != codes.DeadlineExceeded {
		t.Errorf("error = %v, want the caller's DEADLINE_EXCEEDED", err)
	}
}

// streamServer answers every server-streaming call with n messages, the
// first after delay and each next one delay later, then hangs if hang.
func streamServer(t *testing.T, n int, delay time.Duration, hang bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(&emptypb.Empty{}); err != nil {
			return err
		}
		for range n {
			select {
			case <-time.After(delay):
			case <-ss.Context().Done():
				return ss.Context().Err()
			}
			if err := ss.SendMsg(&emptypb.Empty{}); err != nil {
				return err
			}
		}
		if hang {
			<-ss.Context().Done()
		}
		return nil
	}))
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

// recvAll opens a server-streaming call and reads it to its end, pausing
// between messages as a slow consumer would.
func recvAll(cc *grpc.ClientConn, pause time.Duration) (n int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true}
	cs, err := cc.NewStream(ctx, desc, "/test.Service/Stream")
	if err != nil {
		return 0, err
	}
	if err := cs.SendMsg(&emptypb.Empty{}); err != nil {
		return 0, err
	}
	if err := cs.CloseSend(); err != nil {
		return 0, err
	}
	for {
		err := cs.RecvMsg(&emptypb.Empty{})
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		time.Sleep(pause) // the consumer's work, not the service's
	}
}

func TestStreamWaitsAreBoundedOneByOne(t *testing.T) {
	t.Run("answering stream longer than the timeout", func(t *testing.T) {
		// Each message within the timeout, all of them and the
		// consumer's pauses well beyond it.
		cc := dial(t, streamServer(t, 4, timeout/2, false))
		n, err := recvAll(cc, timeout)
		if err != nil || n != 4 {
			t.Errorf("recvAll = %d messages, %v; want 4, nil", n, err)
		}
	})
	t.Run("stream that stops answering", func(t *testing.T) {
		cc := dial(t, streamServer(t, 1, 0, true))
		start := time.Now()
		n, err := recvAll(cc, 0)
		if n != 1 {
			t.Errorf("got %d messages before the hang, want 1", n)
		}
		wantUnavailable(t, err, start, 3*timeout)
	})
	t.Run("stream to a service that does not answer", func(t *testing.T) {
		cc := dial(t, testenv.SilentAddr(t))
		start := time.Now()
		_, err := recvAll(cc, 0)
		wantUnavailable(t, err, start, 3*timeout)
	})
}

// A message gets a buffer at most twice its size, whatever its size up
// to 4 MiB: a publish of a hundred events must not hold 1 MiB (gRPC's
// default pool jumps from 32 KiB to 1 MiB).
func TestBufferPoolFitsMessages(t *testing.T) {
	for _, n := range []int{300, 5 << 10, 40 << 10, 110 << 10, 300 << 10, 700 << 10, 1100 << 10, 3 << 20} {
		buf := gcpcall.BufferPool.Get(n)
		if len(*buf) != n || cap(*buf) >= 2*n {
			t.Errorf("Get(%d): len %d, cap %d; want len %d, cap under %d", n, len(*buf), cap(*buf), n, 2*n)
		}
		gcpcall.BufferPool.Put(buf)
	}
}

// Within bounds a context to end within d, and leaves one that ends as
// soon already as it is.
func TestWithin(t *testing.T) {
	const d = time.Minute
	for _, tc := range []struct {
		name   string
		parent time.Duration // the parent's deadline from now; 0: none
		same   bool          // Within returns the parent itself
	}{
		{"no deadline", 0, false},
		{"a later deadline", time.Hour, false},
		{"a sooner deadline", time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			parent := t.Context()
			if tc.parent > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tc.parent)
				defer cancel()
			}
			ctx, cancel := gcpcall.Within(parent, d)
			defer cancel()
			if got := ctx == parent; got != tc.same {
				t.Fatalf("Within returned its parent: %v, want %v", got, tc.same)
			}
			end, ok := ctx.Deadline()
			want := before.Add(d)
			if tc.parent > 0 {
				want = before.Add(min(d, tc.parent))
			}
			if !ok || end.Before(want) || end.After(want.Add(time.Second)) {
				t.Errorf("deadline in %v (set: %v), want %v", end.Sub(before), ok, want.Sub(before))
			}
		})
	}
}
