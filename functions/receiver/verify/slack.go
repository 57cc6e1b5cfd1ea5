package verify

import (
	"net/http"
	"time"
)

// Slack signs every request to an app (events, its url_verification
// challenge included, slash commands, interactivity) with the app's
// signing secret: X-Slack-Signature is "v0=" and the hex HMAC-SHA256 of
// "v0:{X-Slack-Request-Timestamp}:{body}"
// (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	HeaderSlackSignature = "X-Slack-Signature"
	HeaderSlackTimestamp = "X-Slack-Request-Timestamp"
	// HeaderSlackRetryNum is set on Slack's retries of an event, which
	// carry the event_id of the first attempt.
	HeaderSlackRetryNum = "X-Slack-Retry-Num"
	// SlackTolerance is how far X-Slack-Request-Timestamp may be from
	// now: Slack's documented five minutes.
	SlackTolerance = 5 * time.Minute
)

// Slack verifies requests signed by Slack. It is safe for concurrent use.
type Slack struct {
	keys [][]byte
}

// NewSlack returns a Slack verifier for the app's signing secret, or
// several while it is regenerated: any of them verifies. It fails only
// with ErrNoSecret.
func NewSlack(signingSecrets ...string) (*Slack, error) {
	keys, err := rawKeys(signingSecrets)
	if err != nil {
		return nil, err
	}
	return &Slack{keys: keys}, nil
}

// VerifyAt checks a request's headers and raw body at now. Its errors wrap
// ErrUnverified and a reason, and repeat no header value.
func (s *Slack) VerifyAt(h http.Header, body []byte, now time.Time) error {
	ts, sig := lookup(h, HeaderSlackTimestamp), lookup(h, HeaderSlackSignature)
	if ts == "" || sig == "" {
		return unverified(HeaderSlackTimestamp+", "+HeaderSlackSignature, ErrMissingHeaders)
	}
	if _, err := fresh(ts, now, SlackTolerance); err != nil {
		return unverified(HeaderSlackTimestamp, err)
	}
	// The timestamp is signed as sent, not as parsed.
	if !signedBy(s.keys, "v0:"+ts+":", body, [][]byte{hexMAC(sig, "v0=")}) {
		return unverified(HeaderSlackSignature, ErrNoMatch)
	}
	return nil
}
