package wire

import (
	"encoding/json"
	"time"
)

// Pub/Sub attribute names on the events topic. Ingest publishes an event
// with the first five (Event.Attributes); other publishers, GCP services
// among them, may use tenant_id, event_id and event_type too, or the
// CloudEvents attributes instead.
const (
	AttrTenantID   = "tenant_id"
	AttrEventID    = "event_id"
	AttrEventType  = "event_type"
	AttrReceivedAt = "received_at" // RFC 3339 with nanoseconds
	AttrSource     = "hookrun_source"

	AttrCEType   = "ce-type"
	AttrCESource = "ce-source"
	AttrCEID     = "ce-id"

	// AttrChain starts a fresh attempt chain (a replay or redelivery) and
	// AttrEndpoint limits it to one endpoint. The dead-letter
	// announcement names its endpoint with AttrEndpoint too.
	AttrChain    = "hookrun_chain"
	AttrEndpoint = "hookrun_endpoint"

	// AttrCheckDeliveries, set (to "true") by ingest, says that an
	// earlier publish of the same event may have gone through: ingest
	// took the event's claim over from a request whose publish ended
	// without an answer (its lease ran out, or its publish failed, and a
	// failed publish may still have reached Pub/Sub). The dispatcher then
	// reads the event's earlier deliveries before sending, as it does for
	// every redelivery; an ingest message without it, on its first
	// delivery, is the event's first message, and is sent without that
	// read.
	AttrCheckDeliveries = "hookrun_check_deliveries"

	// AttrEndpointsChanged, set (to "true") by ingest, says that the
	// ingest instance that accepted the event changed one of the
	// tenant's endpoints (created, updated, disabled or deleted it)
	// within EndpointsChangedWindow before, while the dispatcher may
	// still serve an endpoint list older than the change
	// (HOOKRUN_ENDPOINT_CHANGE_DELAY). The dispatcher then uses a list no
	// older than the event's receive time, so that an event sent right
	// after an endpoint was created through the same instance reaches it.
	AttrEndpointsChanged = "hookrun_endpoints_changed"
)

// EndpointsChangedWindow is how long after its own write to a tenant's
// endpoints an ingest instance marks the tenant's events with
// AttrEndpointsChanged. It is longer than the dispatcher's longest
// HOOKRUN_ENDPOINT_CHANGE_DELAY (10 s) by more than the time between
// accepting an event and building its message (its claim), so that the
// mark, decided then, covers every event accepted within the delay after
// the write whatever the delay is set to. Marking more events than that
// costs only a read of the endpoint list's version each.
const EndpointsChangedWindow = time.Minute

// Event is an event as it travels between services: as the attributes and
// data of a Pub/Sub message, and inside a retry task. Its fields are
// hookrun.Event's, in the same order, so each converts to the other with a
// plain conversion; a field added to one must be added to the other.
//
// In JSON (a retry task's "event") it carries only type, data, source and
// received_at: the task names the tenant and the event once, beside the
// endpoint.
type Event struct {
	ID         string          `json:"-"`
	TenantID   string          `json:"-"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"received_at"`
}

// Attributes returns the Pub/Sub attributes that carry e's metadata; the
// message data is e.Data.
func (e Event) Attributes() map[string]string {
	return map[string]string{
		AttrTenantID:   e.TenantID,
		AttrEventID:    e.ID,
		AttrEventType:  e.Type,
		AttrReceivedAt: e.ReceivedAt.UTC().Format(time.RFC3339Nano),
		AttrSource:     e.Source,
	}
}

// RedeliveryAttributes returns the attributes of a message that sends e
// again in a fresh attempt chain: to every matching endpoint, or to
// endpointID only when it is set. The message data is e.Data.
func (e Event) RedeliveryAttributes(chain, endpointID string) map[string]string {
	a := e.Attributes()
	a[AttrChain] = chain
	if endpointID != "" {
		a[AttrEndpoint] = endpointID
	}
	return a
}

// ReceivedAt reads the time ingest accepted the event from a message's
// attributes; ok is false when the attribute is absent or malformed (an
// outside publisher's message), for the caller to fall back on the
// publish time.
func ReceivedAt(attrs map[string]string) (t time.Time, ok bool) {
	t, err := time.Parse(time.RFC3339Nano, attrs[AttrReceivedAt])
	return t, err == nil
}
