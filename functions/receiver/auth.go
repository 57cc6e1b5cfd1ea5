package receiver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// How a request was authenticated, for the request's log line.
const (
	authStandardWebhooks = "standard_webhooks"
	authSharedSecret     = "shared_secret"
)

// Reasons a shared-secret request is refused. Like verify's errors they
// never hold a header value, so they are safe to log.
var (
	errNoSharedSecret  = errors.New("shared-secret header is missing")
	errBadSharedSecret = errors.New("shared-secret header does not match")
)

// signedMode reports whether r is checked as Standard Webhooks: always
// when that is the only mode, and with both configured when the request
// carries a webhook-signature. Otherwise the shared-secret header decides.
func (rc *Receiver) signedMode(r *http.Request) bool {
	if rc.verifier == nil {
		return false
	}
	return rc.cfg.SharedSecretHeader == "" || r.Header.Get(verify.HeaderSignature) != ""
}

// authenticate checks r and its body by the mode signedMode chose and
// returns that mode. A request that fails is refused outright: there is no
// falling back from a bad signature to the shared secret.
func (rc *Receiver) authenticate(r *http.Request, body []byte) (string, error) {
	if rc.signedMode(r) {
		if err := rc.verifier.VerifyAt(r.Header, body, rc.now()); err != nil {
			return "", err
		}
		return authStandardWebhooks, nil
	}
	got := r.Header.Get(rc.cfg.SharedSecretHeader)
	if got == "" {
		return "", errNoSharedSecret
	}
	if !equalSecret(got, rc.sharedSecret) {
		return "", errBadSharedSecret
	}
	return authSharedSecret, nil
}

// equalSecret compares got with the SHA-256 of the expected secret in
// constant time. Hashing first hides the secret's length too, which a
// plain constant-time compare of unequal lengths gives away.
func equalSecret(got string, want [sha256.Size]byte) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}
