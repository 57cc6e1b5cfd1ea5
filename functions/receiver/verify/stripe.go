package verify

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Stripe signs each event with the endpoint's signing secret (whsec_…,
// used as it is, not decoded): Stripe-Signature is "t={timestamp}," then
// one or more "v1={hex HMAC-SHA256 of "{timestamp}.{body}"}" (several while
// a secret is rolled), and possibly other schemes, which are ignored
// (https://docs.stripe.com/webhooks#verify-manually).
const (
	HeaderStripeSignature = "Stripe-Signature"
	// StripeTolerance is how far the signature's t may be from now:
	// the default of Stripe's libraries, 300 seconds.
	StripeTolerance = 300 * time.Second
)

// Stripe verifies events signed by Stripe. It is safe for concurrent use.
type Stripe struct {
	keys [][]byte
}

// NewStripe returns a Stripe verifier for the endpoint's whsec_ signing
// secret, or several while one is rolled: any of them verifies. It fails
// only with ErrNoSecret.
func NewStripe(secrets ...string) (*Stripe, error) {
	keys, err := rawKeys(secrets)
	if err != nil {
		return nil, err
	}
	return &Stripe{keys: keys}, nil
}

// VerifyAt checks an event's headers and raw body at now. Its errors wrap
// ErrUnverified and a reason, and repeat no header value.
func (s *Stripe) VerifyAt(h http.Header, body []byte, now time.Time) error {
	ts, sigs := parseStripeSignature(lookup(h, HeaderStripeSignature))
	if ts == "" || len(sigs) == 0 {
		return unverified(HeaderStripeSignature+" t and v1", ErrMissingHeaders)
	}
	sec, err := fresh(ts, now, StripeTolerance)
	if err != nil {
		return unverified(HeaderStripeSignature+" t", err)
	}
	if !signedBy(s.keys, strconv.FormatInt(sec, 10)+".", body, sigs) {
		return unverified(HeaderStripeSignature+" v1", ErrNoMatch)
	}
	return nil
}

// parseStripeSignature returns the first t and the v1 MACs of a
// Stripe-Signature header; a v1 that is not hex is left out.
func parseStripeSignature(header string) (ts string, sigs [][]byte) {
	for item := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		switch {
		case !ok:
		case k == "t" && ts == "":
			ts = v
		case k == "v1":
			if mac := hexMAC(v, ""); mac != nil {
				sigs = append(sigs, mac)
			}
		}
	}
	return ts, sigs
}
