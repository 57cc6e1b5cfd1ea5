// Package verify checks that a webhook request really comes from hookrun, for
// tenants who write their own handler instead of deploying the sample
// receiver. hookrun signs every delivery by the Standard Webhooks
// specification (https://www.standardwebhooks.com): an HMAC-SHA256 of
// "webhook-id.webhook-timestamp.body" keyed with the endpoint's whsec_
// secret, sent in the webhook-signature header.
//
// Verify the raw body, exactly as received, before parsing it: re-encoded
// JSON does not verify. Answer 401 when Verify fails, without saying why.
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	…
//	if err := verify.Verify(os.Getenv("WEBHOOK_SECRET"), r.Header, body); err != nil {
//		http.Error(w, "unauthenticated", http.StatusUnauthorized)
//		return
//	}
//
// Other Standard Webhooks senders (Svix and its users, among others) verify
// the same way.
package verify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/signature"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock,
// either way. It bounds how long a captured request can be replayed.
const Tolerance = signature.DefaultTolerance

// Header names of the Standard Webhooks specification. HeaderID is the same
// on every retry of one message to one endpoint, so it is the key to drop
// duplicates by.
const (
	HeaderID        = signature.HeaderID
	HeaderTimestamp = signature.HeaderTimestamp
	HeaderSignature = signature.HeaderSignature
)

// ErrInvalidSecret means the secret given to Verify is not one or more
// whsec_ secrets: the receiver is misconfigured (answer 500, not 401). The
// error never repeats the secret.
var ErrInvalidSecret = signature.ErrInvalidSecret

// ErrUnverified is wrapped by every error that means the request is not a
// genuine, fresh webhook: answer 401. errors.Is also matches the reason, one
// of the errors below, which is safe to log: none repeats a header value.
var ErrUnverified = errors.New("webhook not verified")

// The reasons a request is not verified; each comes wrapped with
// ErrUnverified.
var (
	// ErrMissingHeaders: webhook-id, webhook-timestamp or webhook-signature
	// is missing or empty.
	ErrMissingHeaders = signature.ErrMissingHeaders
	// ErrInvalidTimestamp: webhook-timestamp is not Unix seconds.
	ErrInvalidTimestamp = signature.ErrInvalidTimestamp
	// ErrTimestampTooOld: the message was signed more than Tolerance ago,
	// so it may be a replay.
	ErrTimestampTooOld = signature.ErrTimestampTooOld
	// ErrTimestampTooNew: the message claims to be signed more than
	// Tolerance in the future. Check this machine's clock.
	ErrTimestampTooNew = signature.ErrTimestampTooNew
	// ErrNoMatch: no v1 signature in webhook-signature matches any secret,
	// because the body, id or timestamp was altered or the secret is not
	// the endpoint's.
	ErrNoMatch = signature.ErrNoMatch
)

// Verify checks a received webhook's headers and raw body against secret.
// While a secret is rotated, secret may hold several whsec_ secrets
// separated by spaces: any of them verifies. webhook-signature may carry
// several signatures (hookrun signs with both the old and the new secret
// during a rotation); any match verifies. Signatures are compared in
// constant time, and webhook-timestamp must be within Tolerance of now.
//
// Header names are matched without regard to case, so headers need not be
// in http.Header's canonical form.
func Verify(secret string, headers http.Header, body []byte) error {
	return VerifyAt(secret, headers, body, time.Now())
}

// VerifyAt is Verify with the receiver's clock reading now, for tests.
func VerifyAt(secret string, headers http.Header, body []byte, now time.Time) error {
	keys, err := parseSecrets(secret)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set(HeaderID, lookup(headers, HeaderID))
	h.Set(HeaderTimestamp, lookup(headers, HeaderTimestamp))
	h.Set(HeaderSignature, lookup(headers, HeaderSignature))
	if err := signature.Verify(keys, h, body, now, Tolerance); err != nil {
		return fmt.Errorf("%w: %w", ErrUnverified, err)
	}
	return nil
}

func parseSecrets(secret string) ([][]byte, error) {
	secrets := strings.Fields(secret)
	if len(secrets) == 0 {
		return nil, fmt.Errorf("no secret given: %w", ErrInvalidSecret)
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		key, err := signature.ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// lookup returns the values of the header name, joined by spaces when it
// came in several lines, whatever the case of its key in h.
func lookup(h http.Header, name string) string {
	values := h.Values(name)
	if len(values) == 0 {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				values = append(values, v...)
			}
		}
	}
	return strings.Join(values, " ")
}
