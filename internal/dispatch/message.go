package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// rejection is why a message cannot become an event. Rejected messages are
// recorded and acknowledged: redelivering them would not help.
type rejection struct {
	reason   string
	tenantID string
}

// toEvent turns a pushed message into an event. Messages from ingest carry
// tenant_id, event_id and event_type; other publishers may use those or the
// CloudEvents attributes ce-type, ce-id and ce-source (mapped to a tenant
// by configuration).
func (s *Service) toEvent(env *wire.PushEnvelope) (hookrun.Event, *rejection) {
	m := &env.Message
	a := m.Attributes
	tenantID := a[wire.AttrTenantID]
	if tenantID == "" && a[wire.AttrCESource] != "" {
		tenantID = s.cfg.CESourceTenants[a[wire.AttrCESource]]
	}
	if tenantID == "" {
		return hookrun.Event{}, &rejection{reason: "no tenant: set the tenant_id attribute, or map the message's ce-source to a tenant (HOOKRUN_CE_SOURCE_TENANTS)"}
	}
	if err := hookrun.ValidateTenantID(tenantID); err != nil {
		return hookrun.Event{}, &rejection{reason: fmt.Sprintf("tenant_id %q is not a valid tenant id", tenantID)}
	}

	eventType := a[wire.AttrEventType]
	if eventType == "" {
		eventType = a[wire.AttrCEType]
	}
	if eventType == "" {
		return hookrun.Event{}, &rejection{tenantID: tenantID, reason: "no event type: set the event_type or ce-type attribute"}
	}
	if err := hookrun.ValidateEventType(eventType); err != nil {
		return hookrun.Event{}, &rejection{tenantID: tenantID, reason: fmt.Sprintf("event type %q is not valid: use lowercase dot-separated segments", eventType)}
	}

	source := a[wire.AttrSource]
	switch {
	case source == hookrun.SourceHookrun && hookrun.IsOperational(eventType):
	case source == hookrun.SourceHookrun || hookrun.IsOperational(eventType):
		// Only hookrun publishes operational events (ingest refuses
		// them from producers); an outside publisher's claim to be
		// hookrun is not taken either.
		return hookrun.Event{}, &rejection{tenantID: tenantID, reason: hookrun.ErrorMessage(hookrun.ErrReservedType(eventType))}
	case source != hookrun.SourceAPI:
		source = hookrun.SourcePubSub
	}

	id := a[wire.AttrEventID]
	if id != "" {
		if hookrun.ValidateEventID(id) != nil {
			return hookrun.Event{}, &rejection{tenantID: tenantID, reason: fmt.Sprintf("event_id %q is not a valid event id", id)}
		}
	} else if ce := a[wire.AttrCEID]; ce != "" && hookrun.ValidateEventID(ce) == nil {
		id = ce
	} else {
		// The message ID is unique per topic and stable across
		// redeliveries, so it keeps fan-out idempotent. Pub/Sub's are
		// digits; anything else must still make a valid event id.
		id = "msg-" + m.MessageID
		if hookrun.ValidateEventID(id) != nil {
			return hookrun.Event{}, &rejection{tenantID: tenantID, reason: fmt.Sprintf("message id %q does not make a valid event id: set the event_id attribute", m.MessageID)}
		}
	}

	if !json.Valid(m.Data) || !utf8.Valid(m.Data) {
		return hookrun.Event{}, &rejection{tenantID: tenantID, reason: "message data is not JSON in UTF-8"}
	}

	received := m.PublishTime
	if ts, ok := wire.ReceivedAt(a); ok {
		received = ts
	}
	return hookrun.Event{
		ID:         id,
		TenantID:   tenantID,
		Type:       eventType,
		Data:       m.Data,
		Source:     source,
		ReceivedAt: received.UTC(),
	}, nil
}

// recordRejected stores a rejected message and counts it.
func (s *Service) recordRejected(ctx context.Context, env *wire.PushEnvelope, r *rejection) error {
	if err := s.store.RecordRejected(ctx, r.record(env, s.now())); err != nil {
		return err
	}
	s.metrics.MessageRejected(ctx)
	return nil
}

func (r *rejection) record(env *wire.PushEnvelope, now time.Time) hookrun.RejectedMessage {
	data := env.Message.Data
	if len(data) > hookrun.MaxRejectedData {
		data = data[:hookrun.MaxRejectedData]
	}
	return hookrun.RejectedMessage{
		MessageID:   env.Message.MessageID,
		Reason:      r.reason,
		TenantID:    r.tenantID,
		Attributes:  env.Message.Attributes,
		Data:        data,
		PublishedAt: env.Message.PublishTime,
		RejectedAt:  now.UTC(),
	}
}
