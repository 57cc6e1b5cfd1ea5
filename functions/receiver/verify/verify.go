// Package verify checks that a webhook request really comes from its
// sender, for tenants who write their own handler instead of deploying the
// sample receiver, and for the sample receiver itself.
//
// hookrun signs every delivery by the Standard Webhooks specification
// (https://www.standardwebhooks.com): an HMAC-SHA256 of
// "webhook-id.webhook-timestamp.body" keyed with the endpoint's whsec_
// secret, sent in the webhook-signature header (Verify, Verifier). Other
// Standard Webhooks senders (Svix and its users, among others) verify the
// same way. Slack, GitHub and Stripe sign by schemes of their own, each an
// HMAC-SHA256 over the body too: NewSlack, NewGitHub and NewStripe.
//
// Verify the raw body, exactly as received, before parsing it: re-encoded
// JSON does not verify. Answer 401 when verification fails, without saying
// why.
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	…
//	if err := verify.Verify(os.Getenv("WEBHOOK_SECRET"), r.Header, body); err != nil {
//		http.Error(w, "unauthenticated", http.StatusUnauthorized)
//		return
//	}
package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock,
// either way, as the specification recommends. It bounds how long a
// captured request can be replayed.
const Tolerance = 5 * time.Minute

// Header names of the Standard Webhooks specification. HeaderID is the same
// on every retry of one message to one endpoint, so it is the key to drop
// duplicates by.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// ErrInvalidSecret means the secret given to Verify is not one or more
// whsec_ secrets: the receiver is misconfigured (answer 500, not 401). The
// error never repeats the secret.
var ErrInvalidSecret = errors.New("signing secret must be whsec_ followed by base64")

// ErrUnverified is wrapped by every error that means the request is not a
// genuine, fresh webhook: answer 401. errors.Is also matches the reason, one
// of the errors below, which is safe to log: none repeats a header value.
var ErrUnverified = errors.New("webhook not verified")

// The reasons a request is not verified, whatever the sender's scheme;
// each comes wrapped with ErrUnverified and the header it is about
// ("webhook not verified: webhook-timestamp: timestamp is too old").
var (
	// ErrMissingHeaders: a header the scheme needs (for Standard
	// Webhooks webhook-id, webhook-timestamp and webhook-signature) is
	// missing or empty.
	ErrMissingHeaders = errors.New("missing header")
	// ErrInvalidTimestamp: the timestamp is not Unix seconds.
	ErrInvalidTimestamp = errors.New("timestamp is not a Unix time in seconds")
	// ErrTimestampTooOld: the message was signed longer ago than the
	// scheme's tolerance, so it may be a replay.
	ErrTimestampTooOld = errors.New("timestamp is too old")
	// ErrTimestampTooNew: the message claims to be signed further in the
	// future than the scheme's tolerance. Check this machine's clock.
	ErrTimestampTooNew = errors.New("timestamp is too far in the future")
	// ErrNoMatch: no signature in the header matches any secret, because
	// the body, id or timestamp was altered or the secret is not the
	// sender's.
	ErrNoMatch = errors.New("no signature matches")
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
	v, err := NewVerifier(secret)
	if err != nil {
		return err
	}
	return v.VerifyAt(headers, body, now)
}

// Verifier is Verify for a server that takes many webhooks, such as the
// sample receiver: it parses the secrets once, and its Tolerance may be
// set. It is safe for concurrent use once set up.
type Verifier struct {
	keys [][]byte
	// Tolerance is how far webhook-timestamp may be from now; NewVerifier
	// sets the package's Tolerance.
	Tolerance time.Duration
}

// NewVerifier returns a Verifier for secret: one or more whsec_ secrets
// separated by spaces, as Verify takes it. Its error wraps
// ErrInvalidSecret and never repeats a secret.
func NewVerifier(secret string) (*Verifier, error) {
	secrets := strings.Fields(secret)
	if len(secrets) == 0 {
		return nil, fmt.Errorf("no secret given: %w", ErrInvalidSecret)
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), ErrInvalidSecret)
		}
		keys = append(keys, key)
	}
	return &Verifier{keys: keys, Tolerance: Tolerance}, nil
}

// Verify is the package's Verify with v's secrets and tolerance.
func (v *Verifier) Verify(headers http.Header, body []byte) error {
	return v.VerifyAt(headers, body, time.Now())
}

// VerifyAt is Verify with the receiver's clock reading now, for tests.
func (v *Verifier) VerifyAt(headers http.Header, body []byte, now time.Time) error {
	return v.check(lookup(headers, HeaderID), lookup(headers, HeaderTimestamp), lookup(headers, HeaderSignature), body, now)
}

// check returns why id, ts and sigs do not verify body, or nil.
func (v *Verifier) check(id, ts, sigs string, body []byte, now time.Time) error {
	if id == "" || ts == "" || sigs == "" {
		return unverified(HeaderID+", "+HeaderTimestamp+", "+HeaderSignature, ErrMissingHeaders)
	}
	sec, err := fresh(ts, now, v.Tolerance)
	if err != nil {
		return unverified(HeaderTimestamp, err)
	}
	var got [][]byte
	for sig := range strings.FieldsSeq(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue // other schemes (v1a…) are not ours to check
		}
		if mac, err := base64.StdEncoding.DecodeString(b64); err == nil {
			got = append(got, mac)
		}
	}
	if !signedBy(v.keys, id+"."+strconv.FormatInt(sec, 10)+".", body, got) {
		return unverified(HeaderSignature, ErrNoMatch)
	}
	return nil
}
