package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// fastRetry retries quickly, so that tests do not wait on backoff.
var fastRetry = client.RetryConfig{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

// recorder is a test API: it answers each request with the next of its
// answers (the last one over and over) and keeps what it got.
type recorder struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter, r *http.Request)
	requests []recorded
}

type recorded struct {
	method, path, query, auth, userAgent string
	body                                 []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	n := len(rec.requests)
	rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("User-Agent"), body})
	answer := rec.answers[min(n, len(rec.answers)-1)]
	rec.mu.Unlock()
	answer(w, r)
}

func (rec *recorder) got() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

// answer writes status with a JSON body and headers (name, value pairs).
func answer(status int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// apiError is the API's JSON error body.
func apiError(status int, code, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "status": code, "message": message}})
	return string(b)
}

// hang answers nothing until the request is given up.
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func newClient(t *testing.T, rec *recorder, opts ...client.Option) *client.Client {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, append([]client.Option{client.WithAPIKey("hkr_test"), client.WithRetry(fastRetry)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorsCarryTheAPIsCodeAndRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(http.ResponseWriter, *http.Request)
		want       client.Error
		retryable  bool
		attempts   int
		retryAfter bool
	}{
		{
			name:     "invalid argument",
			answer:   answer(400, apiError(400, "INVALID_ARGUMENT", "type: required")),
			want:     client.Error{StatusCode: 400, Code: client.CodeInvalidArgument, Message: "type: required"},
			attempts: 1,
		},
		{
			name:      "unavailable, retried until the attempts run out",
			answer:    answer(503, apiError(503, "UNAVAILABLE", "could not hand the event to Pub/Sub; retry with the same id")),
			want:      client.Error{StatusCode: 503, Code: client.CodeUnavailable, Message: "could not hand the event to Pub/Sub; retry with the same id"},
			retryable: true,
			attempts:  4,
		},
		{
			name: "a proxy's answer that is not the API's",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "upstream connect error", http.StatusBadGateway)
			},
			want:      client.Error{StatusCode: 502, Code: client.CodeUnavailable, Message: "Bad Gateway"},
			retryable: true,
			attempts:  4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){tt.answer}}
			c := newClient(t, rec)
			_, err := c.Send(t.Context(), client.Event{Type: "user.created", Data: map[string]any{}})
			var got *client.Error
			if !errors.As(err, &got) {
				t.Fatalf("Send: %v, want a *client.Error", err)
			}
			if *got != tt.want {
				t.Errorf("error = %+v, want %+v", *got, tt.want)
			}
			if client.IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", !tt.retryable, tt.retryable)
			}
			if n := len(rec.got()); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

func TestRetryAfterIsRead(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(429, apiError(429, "RESOURCE_EXHAUSTED", "tenant \"acme\" may send at most 1 events per second"), "Retry-After", "7"),
	}}
	c := newClient(t, rec)
	// The deadline is before the Retry-After: the client answers the
	// refusal at once instead of waiting for a retry that cannot start.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := c.Send(ctx, client.Event{Type: "user.created", Data: map[string]any{}})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 7*time.Second || apiErr.Code != client.CodeResourceExhausted {
		t.Fatalf("Send: %v, want RESOURCE_EXHAUSTED with a Retry-After of 7s", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Send waited for the deadline instead of answering at once")
	}
	if n := len(rec.got()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if !client.IsCode(err, client.CodeResourceExhausted) || !client.IsRetryable(err) {
		t.Errorf("IsCode/IsRetryable do not recognise %v", err)
	}
}

func TestSendRetriesWithTheSameEventID(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(503, apiError(503, "UNAVAILABLE", "retry")),
		dropConnection,
		answer(409, apiError(409, "ABORTED", "another request is accepting this event"), "Retry-After", "0"),
		func(w http.ResponseWriter, r *http.Request) {
			var e struct{ ID string }
			_ = json.NewDecoder(r.Body).Decode(&e)
			answer(202, `{"id":"`+e.ID+`"}`)(w, r)
		},
	}}
	c := newClient(t, rec, client.WithRetry(client.RetryConfig{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	id, err := c.Send(t.Context(), client.Event{Type: "user.created", Data: map[string]string{"name": "Ada"}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasPrefix(id, "evt_") {
		t.Errorf("id = %q, want one the client assigned (evt_…)", id)
	}
	got := rec.got()
	if len(got) != 4 {
		t.Fatalf("%d attempts, want 4", len(got))
	}
	for i, r := range got {
		var e struct {
			ID, Type string
			Data     map[string]string
		}
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatalf("attempt %d body %s: %v", i+1, r.body, err)
		}
		if e.ID != id || e.Type != "user.created" || e.Data["name"] != "Ada" {
			t.Errorf("attempt %d sent %s, want id %s", i+1, r.body, id)
		}
		if r.method != http.MethodPost || r.path != "/v1/events" || r.auth != "Bearer hkr_test" || r.userAgent != client.DefaultUserAgent {
			t.Errorf("attempt %d: %s %s auth %q ua %q", i+1, r.method, r.path, r.auth, r.userAgent)
		}
	}
}

func TestCreatesAreNotRepeatedAfterAnAmbiguousFailure(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(503, apiError(503, "UNAVAILABLE", "Secret Manager could not be reached")),
	}}
	c := newClient(t, rec)
	_, err := c.CreateEndpoint(t.Context(), "acme", client.CreateEndpointRequest{URL: "https://acme.example/hooks", EventTypes: []string{"*"}})
	if !client.IsCode(err, client.CodeUnavailable) {
		t.Fatalf("CreateEndpoint: %v, want UNAVAILABLE", err)
	}
	if n := len(rec.got()); n != 1 {
		t.Errorf("%d attempts, want 1: a create that may have happened is not sent again", n)
	}
}

func TestCreatesAreRetriedWhenRefusedBeforeAnyWork(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(429, apiError(429, "RESOURCE_EXHAUSTED", "slow down")),
		answer(201, `{"url":"https://acme.example/portal/open?token=hkp_x","expire_time":"2026-12-07T13:00:00Z"}`),
	}}
	c := newClient(t, rec)
	s, err := c.CreatePortalSession(t.Context(), "acme", 30*time.Minute)
	if err != nil {
		t.Fatalf("CreatePortalSession: %v", err)
	}
	if s.URL == "" || !s.ExpireTime.Equal(time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("session = %+v", s)
	}
	got := rec.got()
	if len(got) != 2 || string(got[1].body) != `{"ttl":"30m0s"}` || got[1].path != "/v1/tenants/acme/portal-sessions" {
		t.Errorf("requests = %+v", got)
	}
}

func TestEachAttemptHasATimeoutAndTheContextBoundsTheCall(t *testing.T) {
	t.Run("attempt timeout", func(t *testing.T) {
		// A transport that never answers: each attempt ends at its own
		// timeout, not the caller's.
		var attempts atomic.Int32
		hung := roundTripper(func(r *http.Request) (*http.Response, error) {
			attempts.Add(1)
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		c, err := client.New("https://ingest.example.com", client.WithHTTPClient(&http.Client{Transport: hung}),
			client.WithTimeout(20*time.Millisecond), client.WithRetry(client.RetryConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetTenant(t.Context(), "acme")
		var te *client.TransportError
		if !errors.As(err, &te) || !client.IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GetTenant: %v, want a *client.TransportError of the attempt's deadline", err)
		}
		if n := attempts.Load(); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){hang}}
		c := newClient(t, rec)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.GetTenant(ctx, "acme")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GetTenant: %v, want context.DeadlineExceeded", err)
		}
		if client.IsRetryable(err) {
			t.Errorf("IsRetryable(%v) = true after the caller's deadline", err)
		}
	})
}

func TestEventsIteratesOverEveryPage(t *testing.T) {
	page := func(ids []string, next string) string {
		var evs []map[string]any
		for _, id := range ids {
			evs = append(evs, map[string]any{"id": id, "tenant_id": "acme", "type": "user.created", "source": "api",
				"receive_time": "2026-12-07T12:00:00Z", "deliveries": map[string]int{"pending": 0, "succeeded": 1, "retrying": 0, "dead": 0}})
		}
		b, _ := json.Marshal(map[string]any{"events": evs, "next_page_token": next})
		return string(b)
	}
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(200, page([]string{"e3", "e2"}, "tok1")),
		answer(200, page([]string{"e1"}, "")),
	}}
	c := newClient(t, rec)
	var ids []string
	for e, err := range c.Events(t.Context(), "acme", client.EventQuery{EventType: "user.created", DeliveryState: client.DeliverySucceeded, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "e3,e2,e1" {
		t.Errorf("ids = %v, want e3,e2,e1", ids)
	}
	got := rec.got()
	if len(got) != 2 || got[0].path != "/v1/tenants/acme/events" ||
		got[0].query != "event_type=user.created&delivery_state=succeeded&page_size=2" ||
		got[1].query != "event_type=user.created&delivery_state=succeeded&page_size=2&page_token=tok1" {
		t.Errorf("requests = %+v", got)
	}
}

func TestTokenSourceIsAskedForEveryAttempt(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(503, apiError(503, "UNAVAILABLE", "retry")),
		answer(200, `{"endpoints":[]}`),
	}}
	ts := &countingSource{}
	c := newClient(t, rec, client.WithTokenSource(ts))
	if _, err := c.ListEndpoints(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if len(got) != 2 || got[0].auth != "Bearer id-token-1" || got[1].auth != "Bearer id-token-2" {
		t.Errorf("requests = %+v", got)
	}
}

func TestNewRefusesABadBaseURL(t *testing.T) {
	for _, u := range []string{"", "ingest.example.com", "ftp://ingest.example.com", "https://ingest.example.com/?x=1", "https://user:pw@ingest.example.com"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted it", u)
		}
	}
	c, err := client.New("https://ingest.example.com/prefix")
	if err != nil || c.BaseURL() != "https://ingest.example.com/prefix/" {
		t.Errorf("New: %v, base %q", err, c.BaseURL())
	}
}

// countingSource is a token source whose every token is new.
type countingSource struct {
	mu sync.Mutex
	n  int
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return &oauth2.Token{AccessToken: fmt.Sprintf("id-token-%d", s.n)}, nil
}

func TestSendToSendsOnTheTenantsRouteWithOneIDAcrossRetries(t *testing.T) {
	rec := &recorder{answers: []func(http.ResponseWriter, *http.Request){
		answer(503, apiError(503, "UNAVAILABLE", "retry")),
		func(w http.ResponseWriter, r *http.Request) {
			var e struct{ ID string }
			_ = json.NewDecoder(r.Body).Decode(&e)
			answer(202, `{"id":"`+e.ID+`"}`)(w, r)
		},
	}}
	c := newClient(t, rec, client.WithProducerKey("hkrp_test"))
	id, err := c.SendTo(t.Context(), "acme", client.Event{Type: "order.paid", Data: map[string]any{}})
	if err != nil {
		t.Fatalf("SendTo: %v", err)
	}
	got := rec.got()
	if len(got) != 2 {
		t.Fatalf("%d attempts, want 2", len(got))
	}
	for i, r := range got {
		if r.path != "/v1/tenants/acme/events" || r.auth != "Bearer hkrp_test" || !strings.Contains(string(r.body), `"id":"`+id+`"`) {
			t.Errorf("attempt %d: %s auth %q body %s, want id %s", i+1, r.path, r.auth, r.body, id)
		}
	}
}

// roundTripper is an http.RoundTripper of a function.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
