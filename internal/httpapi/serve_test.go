package httpapi_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/httpapi"
)

// serve runs h behind httpapi.NewServer on a loopback port.
func serve(t *testing.T, h http.Handler, to httpapi.Timeouts) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = httpapi.NewServer(h, to)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// A client that sends its body a byte at a time is cut off after the read
// timeout, however long it keeps trickling: it cannot hold a connection.
func TestServerCutsOffSlowBodies(t *testing.T) {
	const read = 500 * time.Millisecond
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("read body: %w", err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), httpapi.Timeouts{Request: time.Minute, Read: read})

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprint(conn, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 50 ms, until the server hangs up
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	// Whatever the server answers, it must then close the connection.
	conn.SetReadDeadline(time.Now().Add(20 * read))
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v of a trickling body, want it closed after the %v read timeout", time.Since(start), read)
	}
	if d := time.Since(start); d > 3*read {
		t.Errorf("connection closed after %v, want within %v", d, 3*read)
	}
}

// A handler waiting on a dependency past the request's budget answers 503
// with Retry-After: the budget is its context's deadline.
func TestServerEndsRequestsAtTheirBudget(t *testing.T) {
	const budget = 500 * time.Millisecond
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a dependency that never answers
		httpapi.WriteError(w, r, fmt.Errorf("load tenant: %w", r.Context().Err()))
	}), httpapi.Timeouts{Request: budget})

	client := &http.Client{Timeout: 20 * budget}
	start := time.Now()
	resp, err := client.Post("http://"+addr+"/v1/events", "application/json", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("answer = %d, Retry-After %q; want 503 with a Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if d := time.Since(start); d > 3*budget {
		t.Errorf("answered after %v, want within %v", d, 3*budget)
	}
}
