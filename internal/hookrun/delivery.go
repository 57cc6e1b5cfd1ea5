package hookrun

import "time"

// DeliveryState is where the delivery of one event to one endpoint stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: matched, no attempt recorded yet.
	DeliveryPending DeliveryState = "pending"
	// DeliverySucceeded: an attempt got a 2xx. Redeliveries skip it.
	DeliverySucceeded DeliveryState = "succeeded"
	// DeliveryFailed: the last attempt failed. Scheduled retries (Cloud
	// Tasks) build on this state.
	DeliveryFailed DeliveryState = "failed"
)

// Delivery is the story of one event to one endpoint: its state and the
// outcome of the last attempt. Every attempt is kept as an Attempt.
type Delivery struct {
	TenantID       string        `json:"tenant_id"`
	EventID        string        `json:"event_id"`
	EndpointID     string        `json:"endpoint_id"`
	EventType      string        `json:"event_type"`
	WebhookID      string        `json:"webhook_id"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"`
	LastStatusCode int           `json:"last_status_code,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	UpdatedAt      time.Time     `json:"update_time"`
}

// DeliveryID is the document ID of the delivery of eventID to endpointID.
func DeliveryID(eventID, endpointID string) string { return eventID + ":" + endpointID }

// Attempt is one HTTP request to an endpoint and what came of it.
type Attempt struct {
	Number     int           `json:"number"`
	StartedAt  time.Time     `json:"start_time"`
	StatusCode int           `json:"status_code,omitempty"` // 0 when no response arrived
	Latency    time.Duration `json:"latency"`
	Error      string        `json:"error,omitempty"`
	// ResponseBody is the first bytes of the response, for debugging a
	// receiver; never the request, which may carry the signature.
	ResponseBody string `json:"response_body,omitempty"`
}

// Succeeded reports whether the attempt got a 2xx answer.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// RejectedMessage is a message on the events topic that hookrun could not
// turn into an event (no tenant, no type, not JSON, unknown tenant…). It is
// kept with its reason so nothing published is silently dropped.
type RejectedMessage struct {
	MessageID  string            `json:"message_id"`
	Reason     string            `json:"reason"`
	TenantID   string            `json:"tenant_id,omitempty"`
	Attributes map[string]string `json:"attributes"`
	// Data is at most the first MaxRejectedData bytes of the message.
	Data        []byte    `json:"data"`
	PublishedAt time.Time `json:"publish_time"`
	RejectedAt  time.Time `json:"reject_time"`
}

// MaxRejectedData bounds how much of a rejected message is kept.
const MaxRejectedData = 16 << 10
