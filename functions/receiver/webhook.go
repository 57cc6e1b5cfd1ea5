package receiver

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Webhook is one authenticated delivery.
type Webhook struct {
	// ID is the webhook-id header: the same on every retry of one event to
	// one endpoint, so use it to drop duplicates. Empty when a
	// shared-secret sender sends none.
	ID string
	// Type is the "type" field of a JSON object body, if it has one
	// (hookrun: "user.created", say).
	Type string
	// ContentType is the request's Content-Type.
	ContentType string
	// Body is the raw body as received, byte for byte. From hookrun it is
	// JSON: {"id","type","timestamp","data"}.
	Body []byte
}

// ─────────────────────────────────────────────────────────────────────────
// handleWebhook is where YOUR logic goes.
//
// It runs once the webhook is authenticated, and never for ownership
// challenges or for a duplicate the receiver already handed off:
//
//   - With a hand-off configured (HANDOFF_TOPIC or HANDOFF_TASKS_QUEUE) the
//     sender gets its 2xx as soon as the webhook is queued, and this runs
//     later in POST /process, called by the Pub/Sub push subscription or
//     the Cloud Task. Take the time you need, up to the subscription's ack
//     deadline (10 s by default, up to 600 s) or the task's dispatch
//     deadline.
//   - With no hand-off it runs inline, before the sender gets its answer:
//     keep it well under the sender's timeout (hookrun: 15 s).
//
// Return nil when the webhook is dealt with, including when you decided to
// ignore it. Return an error only when it should be retried: inline, the
// sender retries; in /process, Pub/Sub or Cloud Tasks does. Delivery is
// at least once, so make the work idempotent by wh.ID.
// ─────────────────────────────────────────────────────────────────────────
func handleWebhook(ctx context.Context, wh Webhook) error {
	var payload struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(wh.Body, &payload) // a body from hookrun is JSON; log what we can anyway
	slog.InfoContext(ctx, "webhook received", "webhook_id", wh.ID, "event_id", payload.ID, "event_type", wh.Type, "bytes", len(wh.Body))
	return nil
}
