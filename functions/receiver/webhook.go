package receiver

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Webhook is one authenticated delivery.
type Webhook struct {
	// ID is what its sender repeats on every retry of one delivery, so use
	// it (with Sender) to drop duplicates: the webhook-id header (Standard
	// Webhooks, and shared-secret senders that send one), X-GitHub-Delivery,
	// the Stripe event's "id", the Slack event's "event_id". Empty when
	// there is none (a Slack command, a shared-secret sender's webhook
	// without webhook-id).
	ID string
	// Sender is the scheme that authenticated it: SenderStandardWebhooks,
	// SenderSlack, SenderGitHub, SenderStripe or SenderSharedSecret.
	Sender string
	// Type is the event type: the "type" field of a JSON object body, if
	// it has one (hookrun: "user.created"; Stripe:
	// "checkout.session.completed"), or GitHub's X-GitHub-Event ("push").
	Type string
	// ContentType is the request's Content-Type.
	ContentType string
	// Body is the raw body as received, byte for byte. From hookrun it is
	// JSON: {"id","type","timestamp","data"}.
	Body []byte
}

// deliveryKey is what duplicates of wh are dropped by: its ID, prefixed by
// the sender for Slack, GitHub and Stripe, whose IDs another sender could
// repeat. Empty without an ID.
func (wh Webhook) deliveryKey() string {
	switch {
	case wh.ID == "":
		return ""
	case wh.Sender == SenderSlack || wh.Sender == SenderGitHub || wh.Sender == SenderStripe:
		return wh.Sender + ":" + wh.ID
	default:
		return wh.ID
	}
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
	_ = json.Unmarshal(wh.Body, &payload) // hookrun's and Stripe's bodies are JSON; log what we can anyway
	slog.InfoContext(ctx, "webhook received", "webhook_id", wh.ID, "sender", wh.Sender, "event_id", payload.ID, "event_type", wh.Type, "bytes", len(wh.Body))
	return nil
}
