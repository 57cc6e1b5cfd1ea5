package receiver

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Webhook is one verified delivery.
type Webhook struct {
	// ID is the webhook-id header: the same on every retry of one event to
	// one endpoint, so use it to drop duplicates.
	ID string
	// Body is the raw JSON body: {"id","type","timestamp","data"}.
	Body []byte
}

// handleWebhook is where YOUR logic goes. It runs after the signature was
// verified and before the sender gets its answer, so keep it fast: return
// an error only when the sender should retry.
func handleWebhook(ctx context.Context, wh Webhook) error {
	var payload struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	_ = json.Unmarshal(wh.Body, &payload) // a verified body from hookrun is JSON; log what we can anyway
	slog.InfoContext(ctx, "webhook received", "webhook_id", wh.ID, "event_id", payload.ID, "event_type", payload.Type, "bytes", len(wh.Body))
	return nil
}
