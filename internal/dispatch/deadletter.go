package dispatch

// Dead letters: a delivery that will never succeed is marked dead,
// announced on the dead-letters topic (wire.DeadLetter), and counted
// against its endpoint, which is disabled after too many in a row.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/wire"
)

// markDead makes a waiting delivery dead without an attempt, and announces
// it. Such a dead letter is not its endpoint's failure: it does not count
// in a row.
func (s *Service) markDead(ctx context.Context, d hookrun.Delivery, reason string) error {
	now := s.now().UTC()
	d.State, d.DeadReason, d.DeadAt, d.UpdatedAt, d.NextAttemptAt = hookrun.DeliveryDead, reason, now, now, time.Time{}
	d.CountsInARow = false
	slog.WarnContext(ctx, "delivery dead", "tenant_id", d.TenantID, "event_id", d.EventID, "endpoint_id", d.EndpointID, "dead_reason", reason)
	if err := s.store.SetDeliveryState(ctx, d); err != nil {
		return fmt.Errorf("mark delivery dead: %w", err)
	}
	s.metrics.Delivery(ctx, metrics.OutcomeDead)
	return s.announce(ctx, d)
}

// announce publishes a dead delivery on the dead-letters topic and marks it
// announced. Published twice at worst (a crash in between); consumers
// deduplicate by tenant, event and endpoint.
func (s *Service) announce(ctx context.Context, d hookrun.Delivery) error {
	if d.Announced {
		return nil
	}
	dl := wire.DeadLetter{
		TenantID: d.TenantID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType,
		WebhookID: d.WebhookID, Reason: d.DeadReason, Attempts: d.ChainAttempts, DeadAt: d.DeadAt,
	}
	body, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	if _, err := s.deps.DeadLetters.Publish(ctx, body, dl.Attributes()); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	if err := s.store.MarkAnnounced(ctx, d.TenantID, d.EventID, d.EndpointID); err != nil {
		return fmt.Errorf("mark dead letter announced: %w", err)
	}
	s.notifyDeadLetter(ctx, d)
	return nil
}

// sweepLimit bounds how many waiting deliveries disabling an endpoint
// turns into dead letters at once; any left are made dead when their retry
// comes due and finds the endpoint disabled.
const sweepLimit = 500

// disableEndpoint disables d's endpoint for cause (a 410, too many dead
// letters), described by reason, tells the tenant, announces d's dead
// letter, and makes the endpoint's other deliveries waiting for a retry
// dead letters too.
func (s *Service) disableEndpoint(ctx context.Context, d hookrun.Delivery, cause hookrun.DisableCause, reason string) error {
	if err := s.store.DisableEndpoint(ctx, d.TenantID, d.EndpointID, reason); err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	s.metrics.EndpointDisabled(ctx, cause)
	s.endpoints.Delete(d.TenantID)
	slog.WarnContext(ctx, "endpoint disabled", "tenant_id", d.TenantID, "endpoint_id", d.EndpointID, "reason", reason)
	s.notifyDisabled(ctx, d, cause)
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

// finishDead does what follows the death of a delivery recorded dead,
// unless it is done (announced): a dead letter that counts in a row
// (hookrun.Delivery.CountsInARow) is counted against its endpoint, which
// is disabled once too many died in a row, and then the dead letter is
// announced. Announcing comes last, so that a failure on the way leaves it
// unannounced, and the retry of the step (a retry task's, a message's
// redelivery, a replay job's) runs finishDead again (Service.resume):
// the store counts a chain's dead letter once, however often it is asked
// to, and nothing was published yet.
func (s *Service) finishDead(ctx context.Context, d hookrun.Delivery) error {
	if d.Announced {
		return nil
	}
	if d.CountsInARow {
		disabled, err := s.countDead(ctx, d)
		if err != nil || disabled {
			return err // disabling announced d
		}
	}
	return s.announce(ctx, d)
}

// countDead counts a dead letter against its endpoint and disables the
// endpoint, which announces the dead letter too, once too many died in a
// row; disabled reports whether it did.
//
// A retried follow-up counts nothing again but sees the count reached
// still, maybe after the endpoint was disabled already, or disabled and
// turned back on by its tenant since d died: the endpoint is disabled only
// while active and active since before d died.
func (s *Service) countDead(ctx context.Context, d hookrun.Delivery) (disabled bool, err error) {
	n, err := s.store.CountDeadInARow(ctx, d)
	switch {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		// The endpoint, or the tenant's data, was deleted meanwhile:
		// there is nothing to disable.
		slog.InfoContext(ctx, "dead letter not counted: endpoint or delivery gone", "endpoint_id", d.EndpointID, "error", err.Error())
		return false, nil
	case err != nil:
		return false, fmt.Errorf("count dead letters in a row of endpoint %s: %w", d.EndpointID, err)
	}
	// The next success must see the count to reset it.
	s.endpoints.Delete(d.TenantID)
	if s.cfg.DisableAfterDead <= 0 || n < s.cfg.DisableAfterDead {
		return false, nil
	}
	ep, err := s.store.GetEndpoint(ctx, d.TenantID, d.EndpointID)
	switch {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get endpoint %s to disable: %w", d.EndpointID, err)
	case ep.Status != hookrun.EndpointActive || ep.ActiveSince.After(d.DeadAt):
		return false, nil
	}
	return true, s.disableEndpoint(ctx, d, hookrun.DisabledByDeadLetters, fmt.Sprintf("%d deliveries in a row became dead letters", n))
}

// recordUndeliverable handles POST /pubsub/dead-letter: Pub/Sub's dead
// letters, not hookrun's (dead deliveries, above): messages that the
// events subscription gave up on after its max delivery attempts,
// forwarded by Pub/Sub's dead-letter policy. They are recorded as
// rejected, so they are visible and nothing is silently dropped.
func (s *Service) recordUndeliverable(ctx context.Context, env *wire.PushEnvelope) error {
	rej := &rejection{
		tenantID: env.Message.Attributes[wire.AttrTenantID],
		reason: fmt.Sprintf("undeliverable: the dispatcher could not process it after the subscription's maximum delivery attempts (%s)",
			env.Message.Attributes[wire.AttrDeadLetterSourceSubscription]),
	}
	slog.ErrorContext(ctx, "message dead-lettered by Pub/Sub", "message_id", env.Message.MessageID, "tenant_id", rej.tenantID)
	if err := s.recordRejected(ctx, env, rej); err != nil {
		return fmt.Errorf("record dead-lettered message: %w", err)
	}
	return nil
}
