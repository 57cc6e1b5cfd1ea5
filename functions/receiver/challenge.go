package receiver

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// Event types of the ownership challenges sent in a POST body, and of
// GitHub's ping (in X-GitHub-Event), sent when a webhook is created.
const (
	hookrunChallengeType = "webhook.verification" // {"type", "data": {"challenge"}}
	slackChallengeType   = "url_verification"     // {"type", "challenge"}
	githubPingEvent      = "ping"
)

// payload is what the receiver reads of a JSON body.
type payload struct {
	valid            bool   // the body is JSON
	typ              string // its "type", when it is an object with one
	id               string // its "id": a Stripe event's evt_…
	eventID          string // its "event_id": a Slack event callback's
	hookrunChallenge string
	slackChallenge   string
}

// parsePayload reads the type and any challenge of body. A body that is
// JSON but not an object, or has a "type" that is not a string, is valid
// with no type.
func parsePayload(body []byte) payload {
	var v struct {
		Type      string          `json:"type"`
		ID        string          `json:"id"`
		EventID   string          `json:"event_id"`
		Challenge string          `json:"challenge"`
		Data      json.RawMessage `json:"data"`
	}
	err := json.Unmarshal(body, &v)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		return payload{}
	}
	p := payload{valid: true, typ: v.Type, id: v.ID, eventID: v.EventID}
	switch v.Type {
	case hookrunChallengeType:
		var d struct {
			Challenge string `json:"challenge"`
		}
		if json.Unmarshal(v.Data, &d) == nil {
			p.hookrunChallenge = d.Challenge
		}
	case slackChallengeType:
		p.slackChallenge = v.Challenge
	}
	return p
}

// answerChallenge echoes challenge as hookrun and Slack both accept it:
// {"challenge": "…"}. Challenges are answered, never handed off.
func answerChallenge(w http.ResponseWriter, r *http.Request, kind, challenge string) {
	addLogAttrs(r.Context(), slog.String("outcome", "challenge"), slog.String("challenge", kind))
	writeJSON(w, http.StatusOK, map[string]string{"challenge": challenge})
}

// answerPing answers GitHub's ping, sent when a webhook is created or
// from its settings' "Redeliver": 204 once verified, and it is not
// handed off.
func answerPing(w http.ResponseWriter, r *http.Request) {
	addLogAttrs(r.Context(), slog.String("outcome", "ping"))
	w.WriteHeader(http.StatusNoContent)
}

var errForbidden = errorf(http.StatusForbidden, "forbidden")

// subscribeChallenge answers Meta's (Facebook, Instagram, WhatsApp)
// verification request, GET ?hub.mode=subscribe&hub.verify_token=…&
// hub.challenge=…: the challenge as plain text when the token is
// VERIFY_TOKEN, 403 otherwise.
func (rc *Receiver) subscribeChallenge(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("hub.mode") {
		if rc.cfg.VerifyToken == "" {
			methodNotAllowed(w, r, rc.webhookMethods()...)
			return
		}
		writeError(w, r, errorf(http.StatusBadRequest, "GET answers only Meta-style verification: hub.mode=subscribe, hub.verify_token and hub.challenge are required"))
		return
	}
	ctx := r.Context()
	challenge := q.Get("hub.challenge")
	switch {
	case rc.cfg.VerifyToken == "":
		slog.WarnContext(ctx, "verification refused", "reason", "VERIFY_TOKEN is not set")
	case q.Get("hub.mode") != "subscribe":
		slog.WarnContext(ctx, "verification refused", "reason", "hub.mode is not subscribe")
	case !equalSecret(q.Get("hub.verify_token"), rc.verifyToken):
		slog.WarnContext(ctx, "verification refused", "reason", "hub.verify_token does not match VERIFY_TOKEN")
	case challenge == "":
		writeError(w, r, errorf(http.StatusBadRequest, "hub.challenge is empty"))
		return
	default:
		addLogAttrs(ctx, slog.String("outcome", "challenge"), slog.String("challenge", "meta"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, challenge)
		return
	}
	writeError(w, r, errForbidden)
}
