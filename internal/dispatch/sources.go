package dispatch

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// sourced is what the dispatcher reads of a message without a tenant_id
// attribute, for a source binding to route.
type sourced struct {
	msg hookrun.SourceMessage
	// ceID is the CloudEvents id, if any; data is the event's data.
	ceID   string
	data   json.RawMessage
	isJSON bool
}

// readSourced reads a message as a CloudEvent (structured or binary) or
// a Cloud Storage notification; a rejection says what it is not.
func readSourced(m *wire.Message) (sourced, *rejection) {
	ce, ok, err := wire.CloudEventOf(m.Attributes, m.Data)
	if err != nil {
		return sourced{}, &rejection{reason: err.Error()}
	}
	if ok {
		src := sourced{msg: hookrun.SourceMessage{CESource: ce.Source, CEType: ce.Type}, ceID: ce.ID, data: ce.Data, isJSON: ce.DataIsJSON && isJSON(ce.Data)}
		if bucket, event, ok := ce.StorageEvent(); ok {
			src.msg.Bucket, src.msg.StorageEvent = bucket, event
		}
		if service, method, ok := ce.AuditLog(); ok {
			src.msg.AuditService, src.msg.AuditMethod = service, method
		}
		return src, nil
	}
	n, ok, err := wire.StorageNotificationOf(m.Attributes, m.Data)
	if err != nil {
		return sourced{}, &rejection{reason: err.Error()}
	}
	if ok {
		return sourced{msg: hookrun.SourceMessage{Bucket: n.Bucket, StorageEvent: n.EventType}, data: n.Data, isJSON: isJSON(n.Data)}, nil
	}
	return sourced{}, &rejection{reason: "no tenant: set the tenant_id attribute, or publish a CloudEvent or a Cloud Storage notification that a source binding matches"}
}

// boundEvent is the event of a message without a tenant_id attribute: the
// source binding that matches it names the tenant and makes the type. err
// is a failure to read the bindings.
func (s *Service) boundEvent(ctx context.Context, m *wire.Message) (hookrun.Event, *rejection, error) {
	src, rej := readSourced(m)
	if rej != nil {
		return hookrun.Event{}, rej, nil
	}
	b, ok, err := s.sourceBinding(ctx, src.msg)
	if err != nil {
		return hookrun.Event{}, nil, err
	}
	if !ok {
		return hookrun.Event{}, &rejection{reason: "no tenant: no source binding matches " + src.msg.String()}, nil
	}
	eventType, err := b.EventTypeOf(src.msg)
	if err != nil {
		return hookrun.Event{}, &rejection{tenantID: b.TenantID, reason: err.Error()}, nil
	}
	if !src.isJSON {
		return hookrun.Event{}, &rejection{tenantID: b.TenantID, reason: "event data is not JSON in UTF-8"}, nil
	}
	id, ok := eventIDOf(m, src.ceID)
	if !ok {
		return hookrun.Event{}, &rejection{tenantID: b.TenantID, reason: fmt.Sprintf("message id %q does not make a valid event id", m.MessageID)}, nil
	}
	return hookrun.Event{
		ID:         id,
		TenantID:   b.TenantID,
		Type:       eventType,
		Data:       src.data,
		Source:     hookrun.SourcePubSub,
		ReceivedAt: m.PublishTime.UTC(),
	}, nil, nil
}

// sourceBinding returns the binding that matches m, looking its claims up
// most specific first, each cached for Config.EndpointCacheTTL: a new or
// deleted binding takes effect within it.
func (s *Service) sourceBinding(ctx context.Context, m hookrun.SourceMessage) (hookrun.SourceBinding, bool, error) {
	for _, claim := range m.Claims() {
		bs, err := s.sources.Get(ctx, claim, func(ctx context.Context) ([]hookrun.SourceBinding, error) {
			return s.store.SourceBindings(ctx, claim)
		})
		if err != nil {
			return hookrun.SourceBinding{}, false, fmt.Errorf("source bindings of %s: %w", claim, err)
		}
		if b, ok := hookrun.MatchSourceBinding(bs, m); ok {
			return b, true, nil
		}
	}
	return hookrun.SourceBinding{}, false, nil
}
