package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// SilentAddr returns the address of a TCP listener on 127.0.0.1 that
// accepts connections and never answers, as a hung server or a frozen
// emulator does: a client's calls to it wait until their deadline. The
// listener and its connections close when the test ends.
func SilentAddr(t testing.TB) string {
	t.Helper()
	return Listen(t, func(net.Conn) {})
}

// Listen accepts connections on a 127.0.0.1 port and hands each to handle,
// one after the other; the listener, and what handle leaves open, close
// when the test ends. It returns the address.
func Listen(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed at cleanup
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			handle(c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// RefusedAddr returns a 127.0.0.1 address nothing listens on, so that
// connecting to it is refused: a port the kernel just handed out and got
// back.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Unresponsive are the two ways a dependency fails to answer, for tests to
// run against each: a server that accepts and never answers (SilentAddr),
// and a port that refuses connections (RefusedAddr).
var Unresponsive = []struct {
	Name string
	Addr func(testing.TB) string
}{
	{"hung", SilentAddr},
	{"unreachable", RefusedAddr},
}

// AnswerWithin runs call and returns its error, failing the test when call
// took longer than limit. It waits 20 times limit at most, so that a call
// that never returns fails the test rather than hanging it.
func AnswerWithin(t testing.TB, limit time.Duration, call func() error) error {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		if d := time.Since(start); d > limit {
			t.Errorf("answered after %v, want within %v", d, limit)
		}
		return err
	case <-time.After(20 * limit):
		t.Fatalf("no answer after %v, want one within %v", 20*limit, limit)
		return nil
	}
}
