package wire

import "time"

// DeadLetter is the message the dispatcher publishes on the dead-letters
// topic when a delivery dies, for alerting and other consumers. It may be
// published twice (a crash between publishing and recording it);
// consumers deduplicate by tenant, event and endpoint.
type DeadLetter struct {
	TenantID   string    `json:"tenant_id"`
	EndpointID string    `json:"endpoint_id"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	WebhookID  string    `json:"webhook_id"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	DeadAt     time.Time `json:"dead_time"`
}

// Attributes returns the Pub/Sub attributes of d's message, for
// subscriptions that filter on them.
func (d DeadLetter) Attributes() map[string]string {
	return map[string]string{
		AttrTenantID: d.TenantID, AttrEventID: d.EventID, AttrEventType: d.EventType, AttrEndpoint: d.EndpointID,
	}
}
