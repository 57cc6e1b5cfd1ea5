package dispatch

// Operational events: the dispatcher tells a tenant what it did to its
// account (hookrun.OperationalTypes) by publishing an event on the events
// topic, which comes back through the push subscription and is delivered,
// retried and dead-lettered like any other. Each event's ID is derived
// from the occurrence, so publishing one again (a retried task, another
// instance) is deduplicated by the fan-out's ordinary idempotency.

import (
	"context"
	"log/slog"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// notify publishes operational event e. What it reports is already
// stored and cannot be undone by a retry, so a failed publish is logged,
// not returned: redelivering the message or task that caused it would
// not make the change again.
func (s *Service) notify(ctx context.Context, e hookrun.Event) error {
	_, err := s.deps.Events.Publish(ctx, e.Data, wire.Event(e).Attributes())
	if err != nil {
		slog.ErrorContext(ctx, "publish operational event; the tenant is not notified", "tenant_id", e.TenantID,
			"event_id", e.ID, "event_type", e.Type, "error", err.Error())
	}
	return err
}

// notifyDeadLetter tells the tenant about dead letter d, at most once per
// endpoint and window (hookrun.DeadLetterNoticeWindow): this instance
// publishes the window's notice once, and the notices other instances
// publish for the window carry the same event ID. The dead letters of
// operational events give none: an endpoint that fails its notices would
// otherwise be sent notices about them forever.
func (s *Service) notifyDeadLetter(ctx context.Context, d hookrun.Delivery) {
	if hookrun.IsOperational(d.EventType) {
		return
	}
	e := hookrun.NewDeliveryDeadLettered(d)
	// Errors are not cached: the window's next dead letter tries again.
	_, _ = s.deadLetterNotices.Get(ctx, e.ID, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.notify(ctx, e)
	})
}

// notifyDisabled tells the tenant that d's endpoint was disabled for
// cause. The notice's time is the one stored when the endpoint stopped
// being active, so a second disabling of an endpoint already disabled
// gives the same event.
func (s *Service) notifyDisabled(ctx context.Context, d hookrun.Delivery, cause hookrun.DisableCause) {
	ep, err := s.store.GetEndpoint(ctx, d.TenantID, d.EndpointID)
	if err != nil {
		slog.ErrorContext(ctx, "read disabled endpoint; the tenant is not notified", "tenant_id", d.TenantID, "endpoint_id", d.EndpointID, "error", err.Error())
		return
	}
	_ = s.notify(ctx, hookrun.NewEndpointDisabled(ep, cause, ep.InactiveSince))
}
