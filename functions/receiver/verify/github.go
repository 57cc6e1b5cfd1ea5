package verify

import (
	"net/http"
	"time"
)

// GitHub signs each webhook delivery with the webhook's secret:
// X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the body
// (https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries).
// There is no timestamp: X-GitHub-Delivery, the same on a redelivery, is
// what duplicates and replays are dropped by.
const (
	HeaderGitHubSignature = "X-Hub-Signature-256"
	HeaderGitHubDelivery  = "X-GitHub-Delivery"
	// HeaderGitHubEvent names the event: "ping" when a webhook is
	// created, "push", "issues"…
	HeaderGitHubEvent = "X-GitHub-Event"
)

// GitHub verifies deliveries signed by GitHub. It is safe for concurrent
// use.
type GitHub struct {
	keys [][]byte
}

// NewGitHub returns a GitHub verifier for the webhook's secret, or
// several while it is changed: any of them verifies. It fails only with
// ErrNoSecret.
func NewGitHub(secrets ...string) (*GitHub, error) {
	keys, err := rawKeys(secrets)
	if err != nil {
		return nil, err
	}
	return &GitHub{keys: keys}, nil
}

// VerifyAt checks a delivery's headers and raw body; now is unused, GitHub
// signing no time, and taken only to verify like the other schemes. Its
// errors wrap ErrUnverified and a reason, and repeat no header value.
func (g *GitHub) VerifyAt(h http.Header, body []byte, _ time.Time) error {
	sig := lookup(h, HeaderGitHubSignature)
	if sig == "" {
		return unverified(HeaderGitHubSignature, ErrMissingHeaders)
	}
	if !signedBy(g.keys, "", body, [][]byte{hexMAC(sig, "sha256=")}) {
		return unverified(HeaderGitHubSignature, ErrNoMatch)
	}
	return nil
}
