package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// maxTaskEventData is the largest event a retry task carries itself; a
// larger one is read back from Firestore (Cloud Tasks bodies stop at 100 KB).
const maxTaskEventData = 64 << 10

// retryTask is the body of the Cloud Task that makes one retry.
type retryTask struct {
	TenantID   string `json:"tenant_id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Chain      string `json:"chain,omitempty"`
	Attempt    int    `json:"attempt"`
	// Event is absent when too large to carry.
	Event *taskEvent `json:"event,omitempty"`
}

type taskEvent struct {
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"received_at"`
}

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
	t := retryTask{TenantID: d.TenantID, EventID: d.EventID, EndpointID: d.EndpointID, Chain: d.Chain, Attempt: n}
	if len(e.Data) <= maxTaskEventData {
		t.Event = &taskEvent{Type: e.Type, Data: e.Data, Source: e.Source, ReceivedAt: e.ReceivedAt}
	}
	body, err := json.Marshal(t)
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
	var t retryTask
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
func (s *Service) retry(ctx context.Context, t retryTask) error {
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
	return s.settle(ctx, job{tenant: tenant, event: e, ep: &ep, chain: t.Chain, n: t.Attempt, body: hookrun.WebhookBody(e)})
}

// taskEvent is the event a retry task carries, or the stored one when it
// carries none (too large) or not one scheduleRetry would have written.
func (s *Service) taskEvent(ctx context.Context, t retryTask) (hookrun.Event, error) {
	if ev := t.Event; ev != nil && hookrun.ValidateEventType(ev.Type) == nil && len(ev.Data) > 0 && !ev.ReceivedAt.IsZero() {
		return hookrun.Event{ID: t.EventID, TenantID: t.TenantID, Type: t.Event.Type, Data: t.Event.Data,
			Source: t.Event.Source, ReceivedAt: t.Event.ReceivedAt}, nil
	}
	return s.store.GetEvent(ctx, t.TenantID, t.EventID)
}

// markDead makes a waiting delivery dead without an attempt, and announces
// it.
func (s *Service) markDead(ctx context.Context, d hookrun.Delivery, reason string) error {
	now := s.now().UTC()
	d.State, d.DeadReason, d.DeadAt, d.UpdatedAt, d.NextAttemptAt = hookrun.DeliveryDead, reason, now, now, time.Time{}
	slog.WarnContext(ctx, "delivery dead", "tenant_id", d.TenantID, "event_id", d.EventID, "endpoint_id", d.EndpointID, "dead_reason", reason)
	if err := s.store.SetDeliveryState(ctx, d); err != nil {
		return fmt.Errorf("mark delivery dead: %w", err)
	}
	return s.announce(ctx, d)
}

// deadLetter is the message announcing a dead delivery on the
// dead-letters topic.
type deadLetter struct {
	TenantID   string    `json:"tenant_id"`
	EndpointID string    `json:"endpoint_id"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	WebhookID  string    `json:"webhook_id"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	DeadAt     time.Time `json:"dead_time"`
}

// announce publishes a dead delivery on the dead-letters topic and marks it
// announced. Published twice at worst (a crash in between); consumers
// deduplicate by tenant, event and endpoint.
func (s *Service) announce(ctx context.Context, d hookrun.Delivery) error {
	if d.Announced {
		return nil
	}
	body, err := json.Marshal(deadLetter{
		TenantID: d.TenantID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType,
		WebhookID: d.WebhookID, Reason: d.DeadReason, Attempts: d.ChainAttempts, DeadAt: d.DeadAt,
	})
	if err != nil {
		return err
	}
	if _, err := s.deps.DeadLetters.Publish(ctx, body, map[string]string{
		hookrun.AttrTenantID: d.TenantID, hookrun.AttrEventID: d.EventID, hookrun.AttrEventType: d.EventType, hookrun.AttrEndpoint: d.EndpointID,
	}); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	if err := s.store.MarkAnnounced(ctx, d.TenantID, d.EventID, d.EndpointID); err != nil {
		return fmt.Errorf("mark dead letter announced: %w", err)
	}
	return nil
}

// sweepLimit bounds how many waiting deliveries disabling an endpoint
// turns into dead letters at once; any left are made dead when their retry
// comes due and finds the endpoint disabled.
const sweepLimit = 500

// disableEndpoint disables d's endpoint for reason (a 410, too many dead
// letters), announces d's dead letter, and makes the endpoint's other
// deliveries waiting for a retry dead letters too.
func (s *Service) disableEndpoint(ctx context.Context, d hookrun.Delivery, reason string) error {
	if err := s.store.DisableEndpoint(ctx, d.TenantID, d.EndpointID, reason); err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	s.endpoints.Delete(d.TenantID)
	slog.WarnContext(ctx, "endpoint disabled", "tenant_id", d.TenantID, "endpoint_id", d.EndpointID, "reason", reason)
	if err := s.announce(ctx, d); err != nil {
		return err
	}
	waiting, err := s.store.ListEndpointDeliveries(ctx, d.TenantID, d.EndpointID, hookrun.DeliveryRetrying, sweepLimit)
	if err != nil {
		slog.ErrorContext(ctx, "list deliveries of a disabled endpoint; they die at their next retry", "endpoint_id", d.EndpointID, "error", err.Error())
		return nil
	}
	for _, w := range waiting {
		if err := s.markDead(ctx, w, "the endpoint was disabled: "+reason); err != nil {
			slog.ErrorContext(ctx, "dead-letter a delivery of a disabled endpoint; it dies at its next retry", "event_id", w.EventID, "error", err.Error())
		}
	}
	return nil
}

// countDead counts a dead letter against its endpoint and disables the
// endpoint once too many died in a row.
func (s *Service) countDead(ctx context.Context, d hookrun.Delivery) error {
	n, err := s.store.CountDeadInARow(ctx, d.TenantID, d.EndpointID)
	if err != nil {
		// Only the auto-disable depends on it; the dead letter is recorded.
		slog.ErrorContext(ctx, "count dead letters of endpoint", "endpoint_id", d.EndpointID, "error", err.Error())
		return nil
	}
	// The next success must see the count to reset it.
	s.endpoints.Delete(d.TenantID)
	if s.cfg.DisableAfterDead > 0 && n >= s.cfg.DisableAfterDead {
		return s.disableEndpoint(ctx, d, fmt.Sprintf("%d deliveries in a row became dead letters", n))
	}
	return nil
}

// recordUndeliverable handles POST /pubsub/dead-letter: messages that the
// events subscription gave up on after its max delivery attempts, forwarded
// by Pub/Sub's dead-letter policy. They are recorded as rejected, so they
// are visible and nothing is silently dropped.
func (s *Service) recordUndeliverable(ctx context.Context, env *pushEnvelope) error {
	rej := &rejection{
		tenantID: env.Message.Attributes[hookrun.AttrTenantID],
		reason: fmt.Sprintf("undeliverable: the dispatcher could not process it after the subscription's maximum delivery attempts (%s)",
			env.Message.Attributes["CloudPubSubDeadLetterSourceSubscription"]),
	}
	slog.ErrorContext(ctx, "message dead-lettered by Pub/Sub", "message_id", env.Message.MessageID, "tenant_id", rej.tenantID)
	if err := s.store.RecordRejected(ctx, rej.record(env, s.now())); err != nil {
		return fmt.Errorf("record dead-lettered message: %w", err)
	}
	return nil
}
