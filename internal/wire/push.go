package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// MaxPushBody bounds a push request's body: Pub/Sub messages are at most
// 10 MB, base64 makes that 4/3 larger, plus the envelope.
const MaxPushBody = 14 << 20

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

// deliveryAttemptField is PushEnvelope.DeliveryAttempt's JSON name.
const deliveryAttemptField = "deliveryAttempt"

// WithDeliveryAttempt returns the push envelope body with deliveryAttempt
// set to what attempt returns for the message, as Pub/Sub sets it on a
// subscription with a dead-letter policy. A body that already has the field
// is returned unchanged and attempt is not called. Other fields, including
// ones PushEnvelope does not know, are kept.
func WithDeliveryAttempt(body []byte, attempt func(Message) int) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("push envelope: %w", err)
	}
	if _, ok := fields[deliveryAttemptField]; ok {
		return body, nil
	}
	var env PushEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("push envelope: %w", err)
	}
	fields[deliveryAttemptField] = json.RawMessage(strconv.Itoa(attempt(env.Message)))
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("push envelope: %w", err)
	}
	return out, nil
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
