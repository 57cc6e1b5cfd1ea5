package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Defaults of a Client's settings.
const (
	// DefaultTimeout bounds each attempt of a call (WithTimeout); the
	// caller's context bounds the whole call, retries included.
	DefaultTimeout = 30 * time.Second
	// DefaultUserAgent is sent unless WithUserAgent says otherwise.
	DefaultUserAgent = "hookrun-go-client"
)

// Client calls one hookrun ingest service with one credential. It is safe
// for concurrent use.
type Client struct {
	base      string // with a trailing slash, as the generated builders resolve against it
	http      *http.Client
	token     func() (string, error)
	retry     RetryConfig
	timeout   time.Duration
	userAgent string
}

// Option configures a Client made by New.
type Option func(*Client)

// WithAPIKey authenticates as a tenant (hkr_…): its own tenant's routes,
// and Send.
func WithAPIKey(key string) Option { return withToken(key) }

// WithProducerKey authenticates with an operator's producer key, which
// sends events to the tenants it allows (SendTo).
func WithProducerKey(key string) Option { return withToken(key) }

// WithAdminToken authenticates as the operator (HOOKRUN_ADMIN_TOKEN):
// every route but Send.
func WithAdminToken(token string) Option { return withToken(token) }

func withToken(token string) Option {
	return func(c *Client) { c.token = func() (string, error) { return token, nil } }
}

// WithTokenSource authenticates with the bearer tokens of ts, asked before
// every attempt: for a GCP workload, a Google ID token source
// (google.golang.org/api/idtoken.NewTokenSource with the service's URL as
// audience), which caches its tokens. A source that does not cache should
// be wrapped in oauth2.ReuseTokenSource.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *Client) {
		c.token = func() (string, error) {
			t, err := ts.Token()
			if err != nil {
				return "", fmt.Errorf("get token: %w", err)
			}
			return t.AccessToken, nil
		}
	}
}

// WithHTTPClient sends the requests with hc instead of a client of its
// own (for a proxy, custom TLS or instrumentation). Its Timeout, if any,
// bounds each attempt too.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithRetry sets how retryable failures are retried; RetryConfig{MaxAttempts: 1}
// turns retries off.
func WithRetry(r RetryConfig) Option { return func(c *Client) { c.retry = r } }

// WithTimeout bounds each attempt of a call (DefaultTimeout when not set).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithUserAgent sets the User-Agent header, for example "my-app/1.2".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New makes a Client of the ingest service at baseURL (such as
// "https://ingest-abc-uc.a.run.app"). Without a credential option its
// calls are unauthenticated, and only the public routes answer.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base url: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("base url %q: want an absolute http or https URL", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("base url %q: want no query, fragment or user info", baseURL)
	}
	c := &Client{
		base:      strings.TrimSuffix(u.String(), "/") + "/",
		http:      http.DefaultClient,
		token:     func() (string, error) { return "", nil },
		timeout:   DefaultTimeout,
		userAgent: DefaultUserAgent,
	}
	for _, opt := range opts {
		opt(c)
	}
	c.retry.setDefaults()
	if err := c.retry.Validate(); err != nil {
		return nil, err
	}
	if c.timeout <= 0 {
		return nil, errors.New("timeout: must be positive")
	}
	return c, nil
}

// BaseURL answers the service's base URL, with a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// request is one API call: build makes its HTTP request anew for every
// attempt, with the generated core's builder so that its path and query
// follow the OpenAPI document. idempotent says that repeating it changes
// nothing (a read, a PUT, a send with its event ID), so a request whose
// answer was lost in transit may be sent again.
type request struct {
	build      func(base string) (*http.Request, error)
	idempotent bool
}

// do runs r, retrying as c.retry allows, and decodes a 2xx answer into
// out unless out is nil.
func (c *Client) do(ctx context.Context, r request, out any) error {
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, r, out)
		if err == nil {
			return nil
		}
		if attempt >= c.retry.MaxAttempts || !mayRetry(err, r.idempotent) {
			return err
		}
		if werr := c.retry.wait(ctx, attempt, err); werr != nil {
			return werr
		}
	}
}

// attempt sends r once, within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, r request, out any) error {
	req, err := r.build(c.base)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	op := req.Method + " " + req.URL.Path
	token, err := c.token()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(actx)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	if err := decodeAnswer(resp, out); err != nil {
		var te *TransportError
		if errors.As(err, &te) {
			return c.transportError(ctx, op, te.Err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// transportError wraps a failure to get an answer: retryable, unless the
// caller's context ended (then it is that context's error).
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return fmt.Errorf("%s: %w", op, &TransportError{Err: err})
}

// call runs one request and answers its decoded 2xx answer.
func call[T any](ctx context.Context, c *Client, r request) (*T, error) {
	var out T
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// read is a request that changes nothing, built by build.
func read(build func(base string) (*http.Request, error)) request {
	return request{build: build, idempotent: true}
}

// write is a request that repeating would do twice (create, rotate,
// replay): it is retried only when the API refused it before any work.
func write(build func(base string) (*http.Request, error)) request {
	return request{build: build}
}

// set is a request whose repetition changes nothing more (update, delete,
// verify, a send with its event ID).
func set(build func(base string) (*http.Request, error)) request {
	return request{build: build, idempotent: true}
}
