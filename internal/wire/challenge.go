package wire

import "encoding/json"

// ChallengeEventType is the type of the webhook that proves an endpoint's
// owner wants hookrun's webhooks at its URL: the ownership challenge, sent
// signed like any webhook when an endpoint is created or its URL changes.
const ChallengeEventType = "webhook.verification"

// Challenge is the data of a challenge webhook, {"challenge": "<random>"},
// and the answer that passes it: the endpoint answers 2xx with the same
// JSON (or the challenge alone as plain text).
type Challenge struct {
	Challenge string `json:"challenge"`
}

// ParseChallenge returns the challenge of a webhook body, and false when
// the body is not a challenge webhook.
func ParseChallenge(body []byte) (string, bool) {
	var v struct {
		Type string    `json:"type"`
		Data Challenge `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil || v.Type != ChallengeEventType {
		return "", false
	}
	return v.Data.Challenge, true
}
