package receiver

import (
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

var errProcessOff = hookrun.Errorf(hookrun.CodeNotFound, "POST %s is off: set PROCESS_AUTH (oidc, or none for local runs)", ProcessPath)

// processLimit bounds a push envelope: the body in base64 (a third
// larger) plus room for the attributes and the envelope itself.
func (rc *Receiver) processLimit() int64 { return rc.cfg.MaxBody/3*4 + 4 + 64<<10 }

// process handles POST /process, the consumer end of the hand-off: a
// Pub/Sub push subscription (wrapped payloads, the default) or the
// receiver's Cloud Task delivers one handed-off webhook, and handleWebhook
// runs. A 2xx acknowledges it; a 5xx makes Pub/Sub or Cloud Tasks retry.
//
// A push repeated within DEDUPE_WINDOW (the same webhook-id, or message ID
// without one) is acknowledged without running handleWebhook again, on
// this instance.
func (rc *Receiver) process(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch {
	case rc.cfg.ProcessAuth == ProcessOff:
		httpapi.WriteError(w, r, errProcessOff)
		return
	case r.Method != http.MethodPost:
		methodNotAllowed(w, r, http.MethodPost)
		return
	case rc.cfg.ProcessAuth == ProcessOIDC:
		if err := rc.verifier.Verify(ctx, r.Header.Get("Authorization")); err != nil {
			slog.WarnContext(ctx, "push refused", "reason", err.Error())
			httpapi.WriteError(w, r, errUnauthenticated)
			return
		}
	}
	var env pushEnvelope
	if err := httpapi.DecodeJSONLenient(w, r, rc.processLimit(), &env); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	m := env.Message
	wh := Webhook{
		ID:          m.Attributes[AttrWebhookID],
		Type:        m.Attributes[AttrEventType],
		ContentType: m.Attributes[AttrContentType],
		Body:        m.Data,
	}
	key := wh.ID
	if key == "" && m.MessageID != "" {
		key = "message:" + m.MessageID
	}
	httpapi.AddLogAttrs(ctx, slog.String("webhook_id", wh.ID), slog.String("message_id", m.MessageID))
	c, err := rc.once(rc.processed, key, func() error { return rc.handle(ctx, wh) })
	switch {
	case c == duplicate:
		httpapi.AddLogAttrs(ctx, slog.String("outcome", "duplicate"))
		w.WriteHeader(http.StatusNoContent)
	case c == inFlight:
		httpapi.WriteError(w, r, errInFlight)
	case err != nil:
		slog.ErrorContext(ctx, "webhook handling failed", "webhook_id", wh.ID, "error", err.Error())
		httpapi.WriteError(w, r, errRetry)
	default:
		httpapi.AddLogAttrs(ctx, slog.String("outcome", "handled"))
		w.WriteHeader(http.StatusNoContent)
	}
}
