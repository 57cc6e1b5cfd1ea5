package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

// maxResponseSnippet is how much of a receiver's answer is kept with an
// attempt, to help debug it.
const maxResponseSnippet = 1 << 10

// fanOut delivers e to every matching endpoint that has not yet succeeded.
// It returns nil once every outcome is recorded; an error (storage or
// secrets unavailable) means the message must be redelivered.
func (s *Service) fanOut(ctx context.Context, e hookrun.Event) error {
	// The list must be no older than the event: an endpoint created before
	// the event was accepted must get it, whatever the cache holds.
	all, err := s.endpoints.GetFresh(ctx, e.TenantID, e.ReceivedAt, func(ctx context.Context) ([]hookrun.Endpoint, error) {
		return s.store.ListEndpoints(ctx, e.TenantID)
	})
	if err != nil {
		return fmt.Errorf("list endpoints: %w", err)
	}
	var matched []*hookrun.Endpoint
	var ids []string
	for i := range all {
		if all[i].Matches(e.Type) {
			matched = append(matched, &all[i])
			ids = append(ids, all[i].ID)
		}
	}
	if len(matched) == 0 {
		slog.InfoContext(ctx, "no endpoint matches", "tenant_id", e.TenantID, "event_id", e.ID, "event_type", e.Type)
		return nil
	}
	done, err := s.store.GetDeliveries(ctx, e.TenantID, e.ID, ids)
	if err != nil {
		return fmt.Errorf("get deliveries: %w", err)
	}

	body := hookrun.WebhookBody(e)
	// Not errgroup.WithContext: one endpoint's failure (its secret cannot
	// be read) must not cancel the attempts in flight to the others, or a
	// broken endpoint would starve every other endpoint of the tenant.
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxFanOut)
	for _, ep := range matched {
		prev := done[ep.ID]
		if prev.State == hookrun.DeliverySucceeded {
			continue // a redelivered message: this endpoint already has it
		}
		g.Go(func() error { return s.deliver(ctx, e, ep, body, prev.Attempts+1) })
	}
	return g.Wait()
}

// deliver makes one attempt to one endpoint and records it. A receiver's
// failure is an outcome, recorded and returned as nil; only a failure to
// sign or to record is an error.
func (s *Service) deliver(ctx context.Context, e hookrun.Event, ep *hookrun.Endpoint, body []byte, n int) error {
	signer, err := s.signer(ctx, ep.SecretVersion)
	if err != nil {
		return fmt.Errorf("signing secret of endpoint %s: %w", ep.ID, err)
	}
	webhookID := hookrun.WebhookID(e.TenantID, e.ID, ep.ID)
	a := s.attempt(ctx, ep, signer, webhookID, body, n)

	d := hookrun.Delivery{
		TenantID:       e.TenantID,
		EventID:        e.ID,
		EndpointID:     ep.ID,
		EventType:      e.Type,
		WebhookID:      webhookID,
		State:          hookrun.DeliveryFailed,
		LastStatusCode: a.StatusCode,
		LastError:      a.Error,
		UpdatedAt:      a.StartedAt.Add(a.Latency),
	}
	if a.Succeeded() {
		d.State = hookrun.DeliverySucceeded
	}
	level := slog.LevelInfo
	if !a.Succeeded() {
		level = slog.LevelWarn
	}
	slog.Log(ctx, level, "delivery attempt",
		"tenant_id", e.TenantID, "event_id", e.ID, "event_type", e.Type, "endpoint_id", ep.ID,
		"webhook_id", webhookID, "attempt", a.Number, "status", a.StatusCode,
		"latency_ms", float64(a.Latency.Microseconds())/1000, "error", a.Error)

	// Record even if the push request was cancelled meanwhile: the attempt
	// happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.RecordAttempt(rctx, d, a); err != nil {
		return fmt.Errorf("record attempt %d of %s: %w", a.Number, hookrun.DeliveryID(e.ID, ep.ID), err)
	}
	return nil
}

// attempt POSTs the signed body once, within the endpoint's timeout.
func (s *Service) attempt(ctx context.Context, ep *hookrun.Endpoint, signer *signature.Signer, webhookID string, body []byte, n int) hookrun.Attempt {
	start := s.now()
	a := hookrun.Attempt{Number: n, StartedAt: start.UTC()}

	ctx, cancel := context.WithTimeout(ctx, ep.AttemptTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "invalid endpoint URL"
		return a
	}
	ts := start.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(signature.HeaderID, webhookID)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signature.HeaderSignature, signer.Sign(webhookID, ts, body))

	resp, err := s.client.Do(req)
	if err != nil {
		a.Latency = time.Since(start)
		a.Error = describe(err, ep.AttemptTimeout())
		return a
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseSnippet))
	// Drain a little more so the connection can be reused, then give up.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a.Latency = time.Since(start)
	a.StatusCode = resp.StatusCode
	if utf8.Valid(snippet) {
		a.ResponseBody = string(snippet)
	}
	if !a.Succeeded() {
		a.Error = "endpoint answered " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			a.Error += " (redirects are not followed)"
		}
	}
	return a
}

// describe turns a transport error into a message for the attempt record.
// It never includes the URL, whose query may carry a tenant's token.
func describe(err error, timeout time.Duration) string {
	var nerr net.Error
	switch {
	case errors.Is(err, errForbiddenAddress):
		return "destination address is not publicly routable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "no response within " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "attempt cancelled"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup failed: " + dnsErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Op + ": " + opErr.Err.Error()
	}
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) && uerr.Unwrap() != nil {
		return uerr.Unwrap().Error()
	}
	return "request failed"
}

// signer returns the cached Signer of a secret version.
func (s *Service) signer(ctx context.Context, version string) (*signature.Signer, error) {
	return s.signers.Get(ctx, version, func(ctx context.Context) (*signature.Signer, error) {
		payload, err := s.secrets.Access(ctx, version)
		if err != nil {
			return nil, err
		}
		var sec hookrun.EndpointSecret
		if err := json.Unmarshal(payload, &sec); err != nil {
			return nil, errors.New("endpoint secret payload is not valid JSON")
		}
		key, err := signature.ParseSecret(sec.SigningSecret)
		if err != nil {
			return nil, err
		}
		return signature.NewSigner(key), nil
	})
}
