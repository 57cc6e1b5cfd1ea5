package wire

import "time"

// PushEnvelope is the JSON body Pub/Sub POSTs to a push subscription's
// endpoint. Pub/Sub also sends snake_case duplicates of some fields
// (message_id, publish_time); they are ignored.
type PushEnvelope struct {
	Message      Message `json:"message"`
	Subscription string  `json:"subscription"`
	// DeliveryAttempt counts deliveries of the message; Pub/Sub sets it
	// only on subscriptions with a dead-letter policy.
	DeliveryAttempt int `json:"deliveryAttempt,omitempty"`
}

// Message is a Pub/Sub message inside a PushEnvelope.
type Message struct {
	Data        []byte            `json:"data"` // base64 in JSON
	Attributes  map[string]string `json:"attributes"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
}

// AttrDeadLetterSourceSubscription is the attribute Pub/Sub adds to a
// message its dead-letter policy forwards: the subscription that gave up
// on it.
const AttrDeadLetterSourceSubscription = "CloudPubSubDeadLetterSourceSubscription"
