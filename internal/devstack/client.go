package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

// Client calls the ingest API as a producer or operator would, for the
// demo and the end-to-end tests.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// APIError is a non-2xx answer of the API.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// Do sends body (marshalled to JSON unless nil) with the bearer token and
// decodes a 2xx answer into out (unless nil).
func (c *Client) Do(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &APIError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// CreateTenant creates a tenant and returns its API key.
func (c *Client) CreateTenant(ctx context.Context, adminToken, id, name string) (apiKey string, err error) {
	var out struct {
		APIKey string `json:"api_key"`
	}
	err = c.Do(ctx, http.MethodPost, "/v1/tenants", adminToken, map[string]string{"id": id, "name": name}, &out)
	return out.APIKey, err
}

// CreateEndpoint creates an endpoint and returns its ID and signing secret.
func (c *Client) CreateEndpoint(ctx context.Context, token, tenantID, url string, eventTypes []string) (id, secret string, err error) {
	var out struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	err = c.Do(ctx, http.MethodPost, "/v1/tenants/"+tenantID+"/endpoints", token,
		map[string]any{"url": url, "event_types": eventTypes, "description": "created by hookrun-dev"}, &out)
	return out.ID, out.Secret, err
}

// CreatePortalSession asks for a one-time link into the tenant's portal,
// valid for ttl (at most 24h), and returns it with its expiry.
func (c *Client) CreatePortalSession(ctx context.Context, token, tenantID string, ttl time.Duration) (url string, expire time.Time, err error) {
	var out struct {
		URL        string    `json:"url"`
		ExpireTime time.Time `json:"expire_time"`
	}
	err = c.Do(ctx, http.MethodPost, "/v1/tenants/"+tenantID+"/portal-sessions", token, map[string]string{"ttl": ttl.String()}, &out)
	return out.URL, out.ExpireTime, err
}

// VerifyEndpoint runs an endpoint's ownership challenge and fails unless the
// endpoint is active afterwards.
func (c *Client) VerifyEndpoint(ctx context.Context, token, tenantID, endpointID string) error {
	var out struct {
		Status            string `json:"status"`
		VerificationError string `json:"verification_error"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+tenantID+"/endpoints/"+endpointID+":verify", token, nil, &out); err != nil {
		return err
	}
	if out.Status != "active" {
		return fmt.Errorf("endpoint %s is %s: %s", endpointID, out.Status, out.VerificationError)
	}
	return nil
}

// AnswerChallenge answers hookrun's ownership challenge (a
// wire.ChallengeEventType webhook) the way the sample receiver does, for
// test receivers; it reports whether body was one.
func AnswerChallenge(w http.ResponseWriter, body []byte) bool {
	challenge, ok := wire.ParseChallenge(body)
	if !ok {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(wire.Challenge{Challenge: challenge})
	return true
}

// SendEvent publishes an event with a tenant's API key and returns its
// ID.
func (c *Client) SendEvent(ctx context.Context, apiKey, id, eventType string, data any) (string, error) {
	return c.sendTo(ctx, "/v1/events", apiKey, id, eventType, data)
}

// SendTenantEvent publishes an event of tenantID with a producer
// credential (a producer key or an ID token) or the tenant's API key, and
// returns its ID.
func (c *Client) SendTenantEvent(ctx context.Context, token, tenantID, id, eventType string, data any) (string, error) {
	return c.sendTo(ctx, "/v1/tenants/"+tenantID+"/events", token, id, eventType, data)
}

func (c *Client) sendTo(ctx context.Context, path, token, id, eventType string, data any) (string, error) {
	body := map[string]any{"type": eventType, "data": data}
	if id != "" {
		body["id"] = id
	}
	var out struct {
		ID string `json:"id"`
	}
	err := c.Do(ctx, http.MethodPost, path, token, body, &out)
	return out.ID, err
}

// LineWatcher is an io.Writer that remembers output lines and lets callers
// wait for one containing a string, such as a receiver's log of a delivery.
type LineWatcher struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{}
}

// NewLineWatcher returns an empty LineWatcher.
func NewLineWatcher() *LineWatcher { return &LineWatcher{changed: make(chan struct{})} }

// Write implements io.Writer.
func (w *LineWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	close(w.changed)
	w.changed = make(chan struct{})
	return len(b), nil
}

// Count returns how many lines so far contain s.
func (w *LineWatcher) Count(s string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// WaitFor returns the first line containing s, waiting until one is
// written or ctx ends.
func (w *LineWatcher) WaitFor(ctx context.Context, s string) (string, error) {
	for {
		w.mu.Lock()
		for _, l := range w.lines {
			if strings.Contains(l, s) {
				w.mu.Unlock()
				return l, nil
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q: %w", s, ctx.Err())
		}
	}
}
