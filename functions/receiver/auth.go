package receiver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// Senders the receiver tells apart, by the signature header a request
// carries: Webhook.Sender, the hand-off's AttrSender, and the "sender" of
// the request's log line.
const (
	SenderStandardWebhooks = "standard_webhooks" // hookrun, Svix and others: webhook-signature
	SenderSlack            = "slack"             // X-Slack-Signature
	SenderGitHub           = "github"            // X-Hub-Signature-256
	SenderStripe           = "stripe"            // Stripe-Signature
	SenderSharedSecret     = "shared_secret"     // SHARED_SECRET_HEADER
)

// signatureVerifier checks one sender's signature over a request's raw
// body. Its errors wrap verify.ErrUnverified and hold no header value.
type signatureVerifier interface {
	VerifyAt(h http.Header, body []byte, now time.Time) error
}

var (
	_ signatureVerifier = (*verify.Verifier)(nil)
	_ signatureVerifier = (*verify.Slack)(nil)
	_ signatureVerifier = (*verify.GitHub)(nil)
	_ signatureVerifier = (*verify.Stripe)(nil)
)

// scheme is a sender whose secret is configured.
type scheme struct {
	sender   string
	header   string // the signature header that tells this sender's requests
	verifier signatureVerifier
}

// senderSchemes are the schemes of the senders other than Standard
// Webhooks, in the order a request's headers are matched: the sender, the
// signature header that tells its requests, the variable of its secrets,
// and its verifier of them.
var senderSchemes = []struct {
	sender, header, variable string
	secrets                  func(Config) string
	verifier                 func(secrets []string) signatureVerifier
}{
	{SenderSlack, verify.HeaderSlackSignature, "SLACK_SIGNING_SECRET",
		func(c Config) string { return c.SlackSigningSecret },
		func(s []string) signatureVerifier { v, _ := verify.NewSlack(s...); return v }},
	{SenderGitHub, verify.HeaderGitHubSignature, "GITHUB_WEBHOOK_SECRET",
		func(c Config) string { return c.GitHubWebhookSecret },
		func(s []string) signatureVerifier { v, _ := verify.NewGitHub(s...); return v }},
	{SenderStripe, verify.HeaderStripeSignature, "STRIPE_WEBHOOK_SECRET",
		func(c Config) string { return c.StripeWebhookSecret },
		func(s []string) signatureVerifier { v, _ := verify.NewStripe(s...); return v }},
}

// newSchemes returns the signature schemes whose secrets c holds, in the
// order a request's headers are matched. Its errors name the variable,
// never a secret.
func newSchemes(c Config) ([]scheme, error) {
	var schemes []scheme
	if strings.TrimSpace(c.Secret) != "" {
		v, err := verify.NewVerifier(c.Secret)
		if err != nil {
			return nil, fmt.Errorf("WEBHOOK_SECRET: %w", err)
		}
		v.Tolerance = c.withDefaults().Tolerance
		schemes = append(schemes, scheme{SenderStandardWebhooks, verify.HeaderSignature, v})
	}
	// Each sender's secrets are space-separated, several while one is
	// rotated; its verifier takes any of them, and fails only with none.
	for _, s := range senderSchemes {
		if secrets := strings.Fields(s.secrets(c)); len(secrets) > 0 {
			schemes = append(schemes, scheme{s.sender, s.header, s.verifier(secrets)})
		}
	}
	return schemes, nil
}

// unsetSecret names the variable whose secrets a request's signature
// header asks for when it is not set, "" otherwise, so that the tenant's
// log says what to configure.
func (rc *Receiver) unsetSecret(h http.Header) string {
	for _, s := range senderSchemes {
		if h.Get(s.header) != "" && strings.TrimSpace(s.secrets(rc.cfg)) == "" {
			return s.variable
		}
	}
	return ""
}

// Reasons a request is refused besides a signature's. Like verify's
// errors they never hold a header value, so they are safe to log.
var (
	errNoSignature     = errors.New("no signature header of a configured sender")
	errNoSharedSecret  = errors.New("shared-secret header is missing")
	errBadSharedSecret = errors.New("shared-secret header does not match")
)

// schemeOf returns the scheme a request with headers h is checked by: the
// first configured one whose signature header it carries. Without one, a
// configured shared secret decides (nil); with no shared secret and a
// single scheme, that scheme does, and refuses the request for its
// missing headers; with several, the request is refused (nil).
func (rc *Receiver) schemeOf(h http.Header) *scheme {
	for i := range rc.schemes {
		if h.Get(rc.schemes[i].header) != "" {
			return &rc.schemes[i]
		}
	}
	if rc.cfg.SharedSecretHeader == "" && len(rc.schemes) == 1 {
		return &rc.schemes[0]
	}
	return nil
}

// authenticate checks r and its body by s, or by the shared secret when s
// is nil, and returns the sender it verified. A request that fails is
// refused outright: there is no falling back from a bad signature to
// another scheme or to the shared secret.
func (rc *Receiver) authenticate(r *http.Request, s *scheme, body []byte) (string, error) {
	switch {
	case s != nil:
		if err := s.verifier.VerifyAt(r.Header, body, rc.now()); err != nil {
			return "", err
		}
		return s.sender, nil
	case rc.cfg.SharedSecretHeader == "":
		return "", errNoSignature
	}
	got := r.Header.Get(rc.cfg.SharedSecretHeader)
	if got == "" {
		return "", errNoSharedSecret
	}
	if !equalSecret(got, rc.sharedSecret) {
		return "", errBadSharedSecret
	}
	return SenderSharedSecret, nil
}

// delivery returns the ID that sender repeats on every retry of one
// delivery, which duplicates are dropped by, and the event type, from a
// verified request's headers h and body p.
func delivery(sender string, h http.Header, p payload) (id, typ string) {
	switch sender {
	case SenderGitHub:
		return h.Get(verify.HeaderGitHubDelivery), h.Get(verify.HeaderGitHubEvent)
	case SenderStripe:
		return p.id, p.typ // the event's ID: evt_…
	case SenderSlack:
		// Events API callbacks; Slack's retries of one carry its
		// event_id again, with X-Slack-Retry-Num. Commands and
		// interactions have none, and Slack does not retry them.
		return p.eventID, p.typ
	default:
		return h.Get(verify.HeaderID), p.typ
	}
}

// equalSecret compares got with the SHA-256 of the expected secret in
// constant time. Hashing first hides the secret's length too, which a
// plain constant-time compare of unequal lengths gives away.
func equalSecret(got string, want [sha256.Size]byte) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}
