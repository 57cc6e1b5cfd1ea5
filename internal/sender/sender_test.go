package sender

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

// quickly bounds attempts that must not wait for the endpoint: generous
// for a loaded 2-core machine, far below the 15 s attempt timeout they
// would otherwise take.
const quickly = 3 * time.Second

// send makes one attempt against url and returns it with how long it took.
func send(t *testing.T, s *Sender, url string, timeout time.Duration) (hookrun.Attempt, time.Duration) {
	t.Helper()
	creds, err := NewCredentials(hookrun.EndpointSecret{SigningSecret: signature.NewSecret()}, "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a := s.Send(t.Context(), url, timeout, creds, "msg_test", []byte(`{}`))
	return a, time.Since(start)
}

// TestSlowBodyDoesNotHoldTheAttempt: an endpoint that answers and then
// trickles its body (2 bytes/s) is settled by its status; the attempt keeps
// what arrived in time and returns well before its timeout.
func TestSlowBodyDoesNotHoldTheAttempt(t *testing.T) {
	for _, tt := range []struct {
		status  int
		wantErr string
	}{
		{http.StatusAccepted, ""},
		{http.StatusServiceUnavailable, "endpoint answered 503"},
	} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fast" {
					_, _ = io.WriteString(w, "ok")
					return
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for {
					select {
					case <-r.Context().Done(): // the sender hung up
						return
					case <-tick.C:
						_, _ = io.WriteString(w, "..")
						w.(http.Flusher).Flush()
					}
				}
			}))
			defer srv.Close()
			s := New(true, "test")

			a, took := send(t, s, srv.URL+"/slow", 15*time.Second)
			if took > quickly {
				t.Errorf("attempt took %v, want under %v", took, quickly)
			}
			if a.StatusCode != tt.status || a.Error != tt.wantErr {
				t.Errorf("attempt = status %d, error %q; want %d, %q", a.StatusCode, a.Error, tt.status, tt.wantErr)
			}
			if !strings.HasPrefix(a.ResponseBody, "partial") || len(a.ResponseBody) >= MaxResponseSnippet {
				t.Errorf("response body = %q, want what arrived in time, starting with %q", a.ResponseBody, "partial")
			}

			// The connection of the cut-short body is not reused half-read.
			a, _ = send(t, s, srv.URL+"/fast", 15*time.Second)
			if a.StatusCode != http.StatusOK || a.ResponseBody != "ok" {
				t.Errorf("next attempt = status %d, body %q; want 200, %q", a.StatusCode, a.ResponseBody, "ok")
			}
		})
	}
}

// TestResponseSnippetIsBounded: a large answer is cut at MaxResponseSnippet,
// and a complete small one leaves its connection for the next attempt.
func TestResponseSnippetIsBounded(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, strings.Repeat("x", 1<<20))
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s := New(true, "test")

	a, _ := send(t, s, srv.URL+"/big", 15*time.Second)
	if a.StatusCode != http.StatusOK || len(a.ResponseBody) != MaxResponseSnippet {
		t.Errorf("attempt = status %d, %d bytes of body; want 200, %d", a.StatusCode, len(a.ResponseBody), MaxResponseSnippet)
	}
	for range 2 {
		if a, _ := send(t, s, srv.URL+"/small", 15*time.Second); a.StatusCode != http.StatusOK || a.ResponseBody != "ok" {
			t.Errorf("attempt = status %d, body %q; want 200, %q", a.StatusCode, a.ResponseBody, "ok")
		}
	}
	if n := conns.Load(); n > 2 {
		t.Errorf("server saw %d connections, want the two small answers to share one", n)
	}
}

// TestAttemptTimeoutBoundsTheRequest: the attempt's timeout bounds the
// wait for the TLS handshake and for the headers, not only the body.
func TestAttemptTimeoutBoundsTheRequest(t *testing.T) {
	silent := listen(t, func(net.Conn) {}) // accepts, never answers
	const timeout = 200 * time.Millisecond
	for _, url := range []string{"http://" + silent + "/hook", "https://" + silent + "/hook"} {
		t.Run(url, func(t *testing.T) {
			a, took := send(t, New(true, "test"), url, timeout)
			if a.StatusCode != 0 || a.Error != "no response within 200ms" || took > quickly {
				t.Errorf("attempt = status %d, error %q after %v; want no status, %q under %v", a.StatusCode, a.Error, took, "no response within 200ms", quickly)
			}
		})
	}
}

// listen accepts connections on a loopback port and hands each to handle;
// what handle leaves open is closed when the test ends.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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
				return
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
