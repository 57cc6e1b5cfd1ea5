package receiver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

var (
	errUnauthenticated = errorf(http.StatusUnauthorized, "unauthenticated")
	errNotJSON         = errorf(http.StatusBadRequest, "Content-Type must be application/json")
	errInvalidJSON     = errorf(http.StatusBadRequest, "body is not valid JSON")
	errBadWebhookID    = errorf(http.StatusBadRequest, "the delivery ID (webhook-id, X-GitHub-Delivery, or the event's id) must be 1 to %d visible ASCII characters", maxWebhookID)
	errInFlight        = errorf(http.StatusServiceUnavailable, "this delivery is being handled right now: retry later")
	errRetry           = errorf(http.StatusServiceUnavailable, "could not take the webhook now: retry later")
	errCannotHandOff   = errorf(http.StatusRequestEntityTooLarge, "webhook too large to hand off")
)

// errUnfinished stands for the outcome of a function that panicked.
var errUnfinished = errors.New("did not return")

// maxWebhookID bounds a delivery ID, which becomes a message attribute.
const maxWebhookID = 256

// receive handles a POSTed webhook: checks, authentication, challenges,
// dedupe, then hand-off or inline handling.
func (rc *Receiver) receive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ct := r.Header.Get("Content-Type")
	isJSON := isJSONType(ct)
	s := rc.schemeOf(r.Header)
	// Standard Webhooks senders send JSON. Slack and GitHub may send forms,
	// shared-secret senders anything, so their content type is theirs.
	if !isJSON && s != nil && s.sender == SenderStandardWebhooks {
		writeError(w, r, errNotJSON)
		return
	}
	body, err := readBody(w, r, rc.cfg.MaxBody)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p payload
	if isJSON {
		p = parsePayload(body)
	}

	sender, err := rc.authenticate(r, s, body)
	if err != nil {
		// The reason is for the tenant's log; the sender learns nothing.
		tried := SenderSharedSecret
		if s != nil {
			tried = s.sender
		}
		attrs := []any{"reason", err.Error(), "sender", tried}
		if v := rc.unsetSecret(r.Header); v != "" {
			attrs = append(attrs, "hint", "the request is signed by a sender whose secret is not set: set "+v)
		}
		slog.WarnContext(ctx, "webhook refused", attrs...)
		writeError(w, r, errUnauthenticated)
		return
	}
	id, typ := delivery(sender, r.Header, p)
	addLogAttrs(ctx, slog.String("webhook_id", truncate(id, maxWebhookID)), slog.String("sender", sender))
	if n := r.Header.Get(verify.HeaderSlackRetryNum); sender == SenderSlack && n != "" {
		addLogAttrs(ctx, slog.String("retry_num", truncate(n, 8)))
	}
	switch {
	case isJSON && !p.valid:
		writeError(w, r, errInvalidJSON)
		return
	case p.hookrunChallenge != "":
		// hookrun's ownership check: echo the challenge to prove this
		// receiver wants the endpoint's webhooks.
		answerChallenge(w, r, "hookrun", p.hookrunChallenge)
		return
	case p.slackChallenge != "":
		answerChallenge(w, r, "slack", p.slackChallenge)
		return
	case sender == SenderGitHub && typ == githubPingEvent:
		answerPing(w, r)
		return
	case id != "" && !validWebhookID(id):
		writeError(w, r, errBadWebhookID)
		return
	}
	rc.accept(w, r, Webhook{ID: id, Sender: sender, Type: typ, ContentType: ct, Body: body})
}

// accept hands wh off (or handles it inline) unless its webhook-id was
// handed off within the window, and answers the sender.
func (rc *Receiver) accept(w http.ResponseWriter, r *http.Request, wh Webhook) {
	ctx := r.Context()
	c, err := rc.once(rc.accepted, wh.deliveryKey(), func() error { return rc.take(ctx, wh) })
	switch {
	case c == duplicate:
		addLogAttrs(ctx, slog.String("outcome", "duplicate"))
		w.WriteHeader(rc.ackStatus())
	case c == inFlight:
		writeError(w, r, errInFlight)
	case errors.Is(err, errTooLarge):
		slog.ErrorContext(ctx, "webhook hand-off refused", "webhook_id", wh.ID, "error", err.Error())
		writeError(w, r, errCannotHandOff)
	case err != nil:
		msg := "webhook hand-off failed"
		if rc.handoff == nil {
			msg = "webhook handling failed"
		}
		slog.ErrorContext(ctx, msg, "webhook_id", wh.ID, "error", err.Error())
		writeError(w, r, errRetry)
	default:
		w.WriteHeader(rc.ackStatus())
	}
}

// once runs fn unless ids has key (an empty key always runs), and records
// key when fn succeeded. A failed or panicking fn leaves key unrecorded,
// so the retry runs it again.
func (rc *Receiver) once(ids *recentIDs, key string, fn func() error) (c claim, err error) {
	if key == "" {
		return claimed, fn()
	}
	if c := ids.begin(key, rc.now()); c != claimed {
		return c, nil
	}
	err = errUnfinished
	defer func() { ids.finish(key, err == nil, rc.now()) }()
	err = fn()
	return claimed, err
}

// take hands wh off, or handles it inline when there is no hand-off.
func (rc *Receiver) take(ctx context.Context, wh Webhook) error {
	if rc.handoff == nil {
		addLogAttrs(ctx, slog.String("outcome", "handled"))
		return rc.handle(ctx, wh)
	}
	addLogAttrs(ctx, slog.String("outcome", "handed_off"))
	ctx, cancel := context.WithTimeout(ctx, rc.cfg.HandoffTimeout)
	defer cancel()
	return rc.handoff.Send(ctx, wh)
}

// ackStatus is the answer to a webhook taken (or a duplicate of one): 202
// when it was queued for later, 204 when it was handled inline.
func (rc *Receiver) ackStatus() int {
	if rc.handoff != nil {
		return http.StatusAccepted
	}
	return http.StatusNoContent
}

// readBody reads the body up to limit bytes, refusing a larger one by its
// Content-Length before reading, or while reading when the length is
// unknown.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "body is larger than %d bytes", limit)
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	var (
		body []byte
		err  error
	)
	if r.ContentLength >= 0 {
		// net/http stops the body at Content-Length: read it in one go.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(rd, body)
	} else {
		body, err = io.ReadAll(rd)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, wrapError(http.StatusBadRequest, err, "could not read the body")
	}
	return body, nil
}

// isJSONType reports whether a Content-Type is JSON: application/json or
// a +json type such as application/cloudevents+json.
func isJSONType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// validWebhookID accepts what fits a message attribute and a log line.
func validWebhookID(id string) bool {
	if len(id) == 0 || len(id) > maxWebhookID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
