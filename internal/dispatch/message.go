package dispatch

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

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
// tenant_id, event_id and event_type; other publishers may use those (with
// the CloudEvents attributes ce-type and ce-id as fallbacks), or publish
// without tenant_id for a source binding to route (boundEvent). err is a
// failure to read the bindings, for Pub/Sub to redeliver the message.
func (s *Service) toEvent(ctx context.Context, env *wire.PushEnvelope) (hookrun.Event, *rejection, error) {
	m := &env.Message
	a := m.Attributes
	tenantID := a[wire.AttrTenantID]
	if tenantID == "" {
		return s.boundEvent(ctx, m)
	}
	if err := hookrun.ValidateTenantID(tenantID); err != nil {
		return hookrun.Event{}, &rejection{reason: fmt.Sprintf("tenant_id %q is not a valid tenant id", tenantID)}, nil
	}
	e, rej := attributedEvent(m, tenantID)
	return e, rej, nil
}

// attributedEvent is the event of a message with hookrun's attributes.
func attributedEvent(m *wire.Message, tenantID string) (hookrun.Event, *rejection) {
	a := m.Attributes
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

	id, ok := a[wire.AttrEventID], false
	if id != "" {
		if hookrun.ValidateEventID(id) != nil {
			return hookrun.Event{}, &rejection{tenantID: tenantID, reason: fmt.Sprintf("event_id %q is not a valid event id", id)}
		}
	} else if id, ok = eventIDOf(m, a[wire.AttrCEID]); !ok {
		return hookrun.Event{}, &rejection{tenantID: tenantID, reason: fmt.Sprintf("message id %q does not make a valid event id: set the event_id attribute", m.MessageID)}
	}

	if !isJSON(m.Data) {
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

// eventIDOf returns the ID of the event a message without an event_id
// attribute carries: its CloudEvents id when that is a valid event ID,
// otherwise "msg-" and the message ID, which is unique per topic and
// stable across redeliveries, so it keeps fan-out idempotent. ok is false
// when that is no valid event ID either (Pub/Sub's are digits).
func eventIDOf(m *wire.Message, ceID string) (id string, ok bool) {
	if ceID != "" && hookrun.ValidateEventID(ceID) == nil {
		return ceID, true
	}
	id = "msg-" + m.MessageID
	return id, hookrun.ValidateEventID(id) == nil
}

// isJSON reports whether data is JSON in UTF-8, as event data must be.
//
// The syntax is checked by encoding/json/v2's implementation, 5 times
// faster than json.Valid on a 1 KiB event, told to accept what json.Valid
// accepts: the same name twice in an object, and escapes of lone
// surrogates (FuzzIsJSON).
func isJSON(data []byte) bool {
	return jsontext.Value(data).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) && utf8.Valid(data)
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
