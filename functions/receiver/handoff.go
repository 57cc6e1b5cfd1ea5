package receiver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

// Handoff queues a verified webhook for handleWebhook to run outside the
// sender's request, in POST /process or any other consumer.
type Handoff interface {
	// Send returns nil only once the webhook is durably queued: the
	// receiver acknowledges the sender on nil and answers 503 otherwise,
	// so the sender retries. An error may hide a webhook that was queued
	// after all (the answer was lost); consumers tolerate duplicates.
	// Send must be safe for concurrent use.
	Send(ctx context.Context, wh Webhook) error
}

// Attributes of a handed-off message, which POST /process reads back.
const (
	AttrWebhookID   = "webhook_id"
	AttrSender      = "sender"
	AttrEventType   = "event_type"
	AttrContentType = "content_type"
)

// maxAttr bounds attribute values well under Pub/Sub's 1024 bytes; longer
// event types and content types are left out rather than failing a
// hand-off that the sender would retry forever.
const maxAttr = 256

// attributes are the message attributes of wh.
func attributes(wh Webhook) map[string]string {
	a := make(map[string]string, 4)
	add := func(k, v string) {
		if v != "" && len(v) <= maxAttr && utf8.ValidString(v) {
			a[k] = v
		}
	}
	add(AttrWebhookID, wh.ID)
	add(AttrSender, wh.Sender)
	add(AttrEventType, wh.Type)
	add(AttrContentType, wh.ContentType)
	return a
}

// publisher is what the Pub/Sub hand-off needs (pubsubPublisher, clients.go).
type publisher interface {
	// Publish returns the message ID once Pub/Sub stored the message.
	Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error)
}

var _ publisher = (*pubsubPublisher)(nil)

// topicHandoff publishes the raw body with the webhook's attributes, and
// the trace context of its publish span (TraceAttrPrefix).
type topicHandoff struct {
	pub   publisher
	topic string // projects/P/topics/T
}

func (h topicHandoff) Send(ctx context.Context, wh Webhook) error {
	attrs := attributes(wh)
	ctx, span := startHandoff(ctx, h.topic[strings.LastIndex(h.topic, "/")+1:]+" publish", []attribute.KeyValue{
		attribute.String("messaging.system", "gcp_pubsub"),
		attribute.String("messaging.destination.name", h.topic),
		attribute.String("messaging.operation.type", "send"),
		attribute.Int("messaging.message.body.size", len(wh.Body)),
	}, attrs, TraceAttrPrefix)
	id, err := h.pub.Publish(ctx, wh.Body, attrs)
	if err != nil {
		return endSpan(span, fmt.Errorf("hand off webhook %q: %w", wh.ID, err), "publish failed")
	}
	span.SetAttributes(attribute.String("messaging.message.id", id))
	return endSpan(span, nil, "")
}

// scheduler is what the Cloud Tasks hand-off needs (tasksQueue, clients.go).
type scheduler interface {
	// Schedule creates task taskID POSTing body now. A task of that name
	// that exists, or existed recently, is success: the first one stands.
	// A body over maxTaskBody is refused with errTooLarge. The task's
	// request carries header (the trace context) besides its own.
	Schedule(ctx context.Context, taskID string, body []byte, header map[string]string) error
}

var _ scheduler = (*tasksQueue)(nil)

// errTooLarge is a body that no hand-off can carry: retrying cannot help.
var errTooLarge = errors.New("webhook too large to hand off")

// taskHandoff creates one Cloud Task per webhook, named from its delivery
// key (Webhook.deliveryKey): Cloud Tasks refuses a second task of that name for a while
// after the first, so duplicates collapse across instances too. The task
// body is the same envelope a Pub/Sub push sends, so POST /process reads
// both. The task's request carries the trace context of its span in
// traceparent and tracestate headers, which POST /process continues.
type taskHandoff struct {
	sched scheduler
	queue string // projects/P/locations/L/queues/Q
}

func (h taskHandoff) Send(ctx context.Context, wh Webhook) error {
	id := wh.deliveryKey()
	if id == "" { // no delivery ID to collapse duplicates by
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = "anon-" + hex.EncodeToString(b[:])
	}
	body, err := json.Marshal(pushEnvelope{Message: pushMessage{Data: wh.Body, Attributes: attributes(wh), MessageID: id}})
	if err != nil {
		return fmt.Errorf("hand off webhook %q: %w", wh.ID, err)
	}
	header := map[string]string{}
	ctx, span := startHandoff(ctx, h.queue[strings.LastIndex(h.queue, "/")+1:]+" send", []attribute.KeyValue{
		attribute.String("messaging.destination.name", h.queue),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.message.id", id),
		attribute.Int("messaging.message.body.size", len(wh.Body)),
	}, header, "")
	if err := h.sched.Schedule(ctx, taskID(id), body, header); err != nil {
		return endSpan(span, fmt.Errorf("hand off webhook %q: %w", wh.ID, err), "create task failed")
	}
	return endSpan(span, nil, "")
}

// taskID is the Cloud Tasks task ID of a webhook-id: its hex SHA-256, as
// Cloud Tasks recommends (it slows down on sequential prefixes), then the
// ID's first characters with those a task ID cannot hold made "-", for
// people reading the queue. The hash alone keeps IDs apart.
func taskID(webhookID string) string {
	sum := sha256.Sum256([]byte(webhookID))
	readable := []byte(webhookID[:min(len(webhookID), 100)])
	for i, c := range readable {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			readable[i] = '-'
		}
	}
	return hex.EncodeToString(sum[:]) + "_" + string(readable)
}

// pushEnvelope is the JSON body of a Pub/Sub push request (wrapped, the
// default), and of the receiver's Cloud Tasks. Pub/Sub documents it at
// https://cloud.google.com/pubsub/docs/push#receive_push; it may gain
// fields, which POST /process ignores.
type pushEnvelope struct {
	Message      pushMessage `json:"message"`
	Subscription string      `json:"subscription,omitempty"`
}

type pushMessage struct {
	Data       []byte            `json:"data"` // base64 in JSON
	Attributes map[string]string `json:"attributes,omitempty"`
	MessageID  string            `json:"messageId,omitempty"`
}
