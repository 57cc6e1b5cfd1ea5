package wire

import "time"

// MaxTaskEventData is the largest event data a retry task carries itself;
// a larger event is read back from storage (Cloud Tasks bodies stop at
// 100 KB).
const MaxTaskEventData = 64 << 10

// RetryTask is the body of the Cloud Task that makes one scheduled retry,
// POSTed to the dispatcher's /tasks/deliver.
type RetryTask struct {
	TenantID   string `json:"tenant_id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Chain      string `json:"chain,omitempty"`
	Attempt    int    `json:"attempt"`
	// Event is absent when too large to carry; its ID and TenantID are
	// the task's, not repeated inside it.
	Event *Event `json:"event,omitempty"`
}

// NewRetryTask returns the task that makes attempt n, in chain, of e to
// endpointID; it carries e unless e's data is over MaxTaskEventData.
func NewRetryTask(e Event, endpointID, chain string, n int) RetryTask {
	t := RetryTask{TenantID: e.TenantID, EventID: e.ID, EndpointID: endpointID, Chain: chain, Attempt: n}
	if len(e.Data) <= MaxTaskEventData {
		t.Event = &e
	}
	return t
}

// CarriedEvent returns the event the task carries, with the task's tenant
// and event IDs, and false when it carries none.
func (t RetryTask) CarriedEvent() (Event, bool) {
	if t.Event == nil {
		return Event{}, false
	}
	e := *t.Event
	e.ID, e.TenantID = t.EventID, t.TenantID
	return e, true
}

// RetireSecretTask is the body of the Cloud Task that ingest schedules at
// the end of a rotation's grace period, for the dispatcher's
// POST /tasks/retire-secret to disable the old secret version.
type RetireSecretTask struct {
	TenantID   string    `json:"tenant_id"`
	EndpointID string    `json:"endpoint_id"`
	Version    string    `json:"version"`
	At         time.Time `json:"at"`
}
