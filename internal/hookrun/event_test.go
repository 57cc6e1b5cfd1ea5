package hookrun

import (
	"testing"
	"time"
)

// An event read back from the store (times kept to the microsecond) has
// the body of the event as it was received (Pub/Sub's publish time may
// carry nanoseconds).
func TestWebhookBodyStoredPrecision(t *testing.T) {
	received := Event{ID: "e1", Type: "user.created", Data: []byte(`{}`), ReceivedAt: time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)}
	stored := received
	stored.ReceivedAt = received.ReceivedAt.Truncate(time.Microsecond)
	if a, b := WebhookBody(received), WebhookBody(stored); string(a) != string(b) {
		t.Errorf("body as received %s, as read back %s", a, b)
	}
}
