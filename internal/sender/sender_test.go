package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging/logtest"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
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
	silent := testenv.Listen(t, func(net.Conn) {}) // accepts, never answers
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

// TestSendFailureCategories: what a tenant reads about a failed attempt (in
// the API and as an endpoint's verification_error) is a category, never the
// raw error with the addresses and ports it reached.
func TestSendFailureCategories(t *testing.T) {
	answering := func(status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusFound {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	hangUp := testenv.Listen(t, func(c net.Conn) { _ = c.Close() }) // accepts, closes at once
	garbled := testenv.Listen(t, func(c net.Conn) { _, _ = io.WriteString(c, "hello\r\n\r\n"); _ = c.Close() })
	// No case waits for its timeout (TestAttemptTimeoutBoundsTheRequest
	// covers that one); it is long enough for a TLS handshake under -race
	// on a loaded machine.
	const timeout = 10 * time.Second

	for _, tt := range []struct {
		name, url    string
		allowPrivate bool
		want         string
	}{
		{"refused port", "http://" + testenv.RefusedAddr(t) + "/hook", true, "could not connect to the endpoint"},
		{"untrusted certificate", untrusted.URL + "/hook", true, "TLS handshake failed"},
		{"closed without answering", "http://" + hangUp + "/hook", true, "the endpoint closed the connection without a valid answer"},
		{"not HTTP", "http://" + garbled + "/hook", true, "the endpoint closed the connection without a valid answer"},
		{"private address", answering(http.StatusOK), false, "destination address is not publicly routable"},
		{"server error", answering(http.StatusInternalServerError), true, "endpoint answered 500"},
		{"redirect", answering(http.StatusFound), true, "endpoint answered 302 (redirects are not followed)"},
		{"invalid URL", "http://127.0.0.1:port/", true, "invalid endpoint URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, took := send(t, New(tt.allowPrivate, "test"), tt.url, timeout)
			if a.Error != tt.want {
				t.Errorf("attempt error = %q, want %q", a.Error, tt.want)
			}
			if took > quickly {
				t.Errorf("attempt took %v, want under %v", took, quickly)
			}
		})
	}
}

// TestDescribe covers the categories loopback servers cannot produce: a
// failed lookup (without asking a resolver: tests talk to 127.0.0.1 only),
// a cancelled attempt, and an error of no known kind.
func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&net.DNSError{Err: "no such host", Name: "hooks.example.com", IsNotFound: true}, "DNS lookup failed: no such host"},
		{&net.DNSError{Err: "server misbehaving", Name: "hooks.example.com", Server: "10.0.0.2:53"}, "DNS lookup failed"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			err := &url.Error{Op: "Post", URL: "https://hooks.example.com/?token=x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: tt.err}}
			if got := describe(err, time.Second, &progress{}); got != tt.want {
				t.Errorf("describe(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
	if got := describe(context.Canceled, time.Second, &progress{}); got != "attempt cancelled" {
		t.Errorf("describe(context.Canceled) = %q, want %q", got, "attempt cancelled")
	}
	if got := describe(errors.New("something odd"), time.Second, &progress{}); got != "request failed" {
		t.Errorf("describe(other) = %q, want %q", got, "request failed")
	}
}

// TestSendLogsRawErrorWithoutURL: the operator's log keeps the raw error
// the tenant does not see, but not the URL, whose query may hold a token.
func TestSendLogsRawErrorWithoutURL(t *testing.T) {
	logs := logtest.Capture(t)
	addr := testenv.RefusedAddr(t)
	a, _ := send(t, New(true, "test"), "http://"+addr+"/hook?token=s3cret", time.Second)
	out := logs.String()
	if a.Error != "could not connect to the endpoint" || !strings.Contains(out, "connection refused") || !strings.Contains(out, addr) {
		t.Errorf("attempt error %q, log %q; want the category, and the raw error in the log", a.Error, out)
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("log %q carries the URL's token", out)
	}
}
