package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/codes"
)

var errProcessOff = errorf(http.StatusNotFound, "POST %s is off: set PROCESS_AUTH (oidc, or none for local runs)", ProcessPath)

// processLimit bounds a push envelope: the body in base64 (a third
// larger) plus room for the attributes and the envelope itself.
func (rc *Receiver) processLimit() int64 { return rc.cfg.MaxBody/3*4 + 4 + 64<<10 }

// process handles POST /process, the consumer end of the hand-off: a
// Pub/Sub push subscription (wrapped payloads, the default) or the
// receiver's Cloud Task delivers one handed-off webhook, and handleWebhook
// runs. A 2xx acknowledges it; a 5xx makes Pub/Sub or Cloud Tasks retry.
//
// A push repeated within DEDUPE_WINDOW (the same delivery ID and sender,
// or message ID without one) is acknowledged without running handleWebhook again, on
// this instance.
func (rc *Receiver) process(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch {
	case rc.cfg.ProcessAuth == ProcessOff:
		writeError(w, r, errProcessOff)
		return
	case r.Method != http.MethodPost:
		methodNotAllowed(w, r, http.MethodPost)
		return
	case rc.cfg.ProcessAuth == ProcessOIDC:
		if err := rc.pushVerifier.Verify(ctx, r.Header.Get("Authorization")); err != nil {
			slog.WarnContext(ctx, "push refused", "reason", err.Error())
			writeError(w, r, errUnauthenticated)
			return
		}
	}
	env, err := decodePush(w, r, rc.processLimit())
	if err != nil {
		writeError(w, r, err)
		return
	}
	m := env.Message
	ctx, span := startProcess(ctx, env.Subscription, m.MessageID, m.Attributes)
	defer span.End()
	wh := Webhook{
		ID:          m.Attributes[AttrWebhookID],
		Sender:      m.Attributes[AttrSender],
		Type:        m.Attributes[AttrEventType],
		ContentType: m.Attributes[AttrContentType],
		Body:        m.Data,
	}
	key := wh.deliveryKey()
	if key == "" && m.MessageID != "" {
		key = "message:" + m.MessageID
	}
	addLogAttrs(ctx, slog.String("webhook_id", wh.ID), slog.String("message_id", m.MessageID))
	c, err := rc.once(rc.processed, key, func() error { return rc.handle(ctx, wh) })
	switch {
	case c == duplicate:
		addLogAttrs(ctx, slog.String("outcome", "duplicate"))
		w.WriteHeader(http.StatusNoContent)
	case c == inFlight:
		writeError(w, r, errInFlight)
	case err != nil:
		span.RecordError(err)
		span.SetStatus(codes.Error, "webhook handling failed")
		slog.ErrorContext(ctx, "webhook handling failed", "webhook_id", wh.ID, "error", err.Error())
		writeError(w, r, errRetry)
	default:
		addLogAttrs(ctx, slog.String("outcome", "handled"))
		w.WriteHeader(http.StatusNoContent)
	}
}

// decodePush reads a push envelope: one JSON value in UTF-8 (no
// Content-Type, or a JSON one), at most limit bytes. Unknown fields are
// ignored: Pub/Sub adds some over time.
func decodePush(w http.ResponseWriter, r *http.Request, limit int64) (pushEnvelope, error) {
	var env pushEnvelope
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return env, errNotJSON
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return env, errorf(http.StatusBadRequest, "Content-Type: charset %q is not supported: send JSON in UTF-8 (charset=utf-8, or none)", cs)
		}
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		return env, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch err := dec.Decode(&env); {
	case err == nil:
	case errors.Is(err, io.EOF):
		return env, errorf(http.StatusBadRequest, "body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return env, errorf(http.StatusBadRequest, "body is not valid JSON: it ends early")
	case errors.As(err, &syntax):
		return env, errorf(http.StatusBadRequest, "body is not valid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		return env, errorf(http.StatusBadRequest, "body must be a JSON object, not %s", typ.Value)
	case errors.As(err, &typ):
		return env, errorf(http.StatusBadRequest, "%s: must not be %s", typ.Field, typ.Value)
	default:
		return env, errorf(http.StatusBadRequest, "body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return env, errorf(http.StatusBadRequest, "body must hold a single JSON object")
	}
	// encoding/json would replace invalid UTF-8 in strings with U+FFFD,
	// silently.
	if !utf8.Valid(body) {
		return env, errorf(http.StatusBadRequest, "body: invalid UTF-8: send JSON in UTF-8")
	}
	return env, nil
}
