package dispatch

// Retries: a failed or rate-limited attempt is scheduled as a Cloud Task
// (wire.RetryTask) that calls back POST /tasks/deliver when it is due.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

// retryTaskID names the task of attempt n of a delivery's chain, due at
// the delivery's NextAttemptAt. The name is deterministic, so a retried
// scheduling, or a redelivered message that schedules again, can never
// create a second task for the same attempt; an attempt put off again by a
// rate limit is due at another time and gets a task of its own. The time
// counts in microseconds, the precision Firestore keeps.
func retryTaskID(d hookrun.Delivery, n int) string {
	h := sha256.New()
	for _, p := range []string{d.TenantID, d.EventID, d.EndpointID, d.Chain} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "retry-" + hex.EncodeToString(h.Sum(nil)[:20]) + "-" + strconv.Itoa(n) + "-" + strconv.FormatInt(d.NextAttemptAt.UnixMicro(), 36)
}

// scheduleRetry schedules the next attempt of a retrying delivery at its
// NextAttemptAt.
func (s *Service) scheduleRetry(ctx context.Context, e hookrun.Event, d hookrun.Delivery) error {
	n := d.ChainAttempts + 1
	body, err := json.Marshal(wire.NewRetryTask(wire.Event(e), d.EndpointID, d.Chain, n))
	if err != nil {
		return fmt.Errorf("encode retry task: %w", err)
	}
	if err := s.deps.Scheduler.Schedule(ctx, retryTaskID(d, n), d.NextAttemptAt, body); err != nil {
		return fmt.Errorf("schedule attempt %d of %s: %w", n, hookrun.DeliveryID(d.EventID, d.EndpointID), err)
	}
	return nil
}

// task handles POST /tasks/deliver: one scheduled retry. 2xx tells Cloud
// Tasks the task is done, whatever the receiver answered; only a failure of
// hookrun's own (storage, secrets) answers 5xx, for Cloud Tasks to retry.
func (s *Service) task(w http.ResponseWriter, r *http.Request) {
	if !s.authenticated(w, r, s.deps.TaskVerifier) {
		return
	}
	var t wire.RetryTask
	if err := httpapi.DecodeJSONLenient(w, r, 1<<20, &t); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if t.TenantID == "" || t.EventID == "" || t.EndpointID == "" || t.Attempt < 1 {
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInvalidArgument, "task needs tenant_id, event_id, endpoint_id and an attempt number"))
		return
	}
	if err := hookrun.ValidateEventID(t.EventID); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	httpapi.AddLogAttrs(ctx, slog.String("tenant_id", t.TenantID), slog.String("event_id", t.EventID),
		slog.String("endpoint_id", t.EndpointID), slog.Int("attempt", t.Attempt))
	if err := s.retry(ctx, t); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// retry makes attempt t.Attempt unless the delivery moved on meanwhile
// (a replay started another chain, the attempt was already made by an
// earlier run of this task, the endpoint was disabled or deleted).
func (s *Service) retry(ctx context.Context, t wire.RetryTask) error {
	got, err := s.store.GetDeliveries(ctx, t.TenantID, t.EventID, []string{t.EndpointID})
	if err != nil {
		return fmt.Errorf("get delivery: %w", err)
	}
	d, ok := got[t.EndpointID]
	if !ok || d.Chain != t.Chain {
		slog.InfoContext(ctx, "stale retry task skipped", "tenant_id", t.TenantID, "event_id", t.EventID, "endpoint_id", t.EndpointID)
		return nil
	}
	e, err := s.taskEvent(ctx, t)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return s.markDead(ctx, d, "the event's data is no longer stored (past retention)")
	}
	if err != nil {
		return err
	}
	if d.State != hookrun.DeliveryRetrying || d.ChainAttempts >= t.Attempt {
		// Done, dead, or this attempt already made by an earlier run of
		// the task that died before answering: only finish its follow-up.
		return s.resume(ctx, e, d)
	}

	tenant, ep, reason, err := s.target(ctx, t.TenantID, t.EndpointID)
	if err != nil {
		return err
	}
	if reason != "" {
		return s.markDead(ctx, d, reason)
	}
	return s.settle(ctx, attempt{tenant: tenant, event: e, ep: &ep, chain: t.Chain, n: t.Attempt, body: hookrun.WebhookBody(e)})
}

// taskEvent is the event a retry task carries, or the stored one when it
// carries none (too large) or not one scheduleRetry would have written.
func (s *Service) taskEvent(ctx context.Context, t wire.RetryTask) (hookrun.Event, error) {
	if ev, ok := t.CarriedEvent(); ok && hookrun.ValidateEventType(ev.Type) == nil && len(ev.Data) > 0 && !ev.ReceivedAt.IsZero() {
		return hookrun.Event(ev), nil
	}
	return s.store.GetEvent(ctx, t.TenantID, t.EventID)
}
