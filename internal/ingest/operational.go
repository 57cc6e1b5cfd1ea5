package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// notify publishes an operational event (hookrun.OperationalTypes) about
// a change ingest made, to the events topic like a producer's event; the
// dispatcher records it on arrival and delivers it to the tenant's
// endpoints that subscribe to it. The change it reports is already
// stored, so a failed publish is logged, not answered with an error: the
// caller's retry would find nothing left to change and notify nothing.
func (s *Service) notify(ctx context.Context, e hookrun.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PublishTimeout)
	defer cancel()
	if _, err := s.pub.Start(ctx, e.Data, wire.Event(e).Attributes())(); err != nil {
		slog.ErrorContext(ctx, "publish operational event; the tenant is not notified", "tenant_id", e.TenantID,
			"event_id", e.ID, "event_type", e.Type, "error", err.Error())
	}
}

// statusChanged counts an endpoint disabled through the API at at, and
// notifies the tenant of it or of one enabled again: was is the endpoint
// before the change, now after it.
func (s *Service) statusChanged(ctx context.Context, was, now hookrun.Endpoint, at time.Time) {
	switch {
	case was.Status != hookrun.EndpointDisabled && now.Status == hookrun.EndpointDisabled:
		s.opMetrics.EndpointDisabled(ctx, hookrun.DisabledByAPI)
		s.notify(ctx, hookrun.NewEndpointDisabled(now, hookrun.DisabledByAPI, at))
	case was.Status == hookrun.EndpointDisabled && now.Status != hookrun.EndpointDisabled:
		s.notify(ctx, hookrun.NewEndpointEnabled(now, at))
	}
}
