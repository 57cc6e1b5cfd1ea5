package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrNoSecret means a sender scheme was given no secret: the receiver is
// misconfigured (answer 500, not 401).
var ErrNoSecret = errors.New("no secret given")

// unverified is the error of a request that did not verify: ErrUnverified,
// then what it is about (header names, never values), then the reason.
func unverified(what string, reason error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnverified, what, reason)
}

// rawKeys returns the HMAC keys of secrets, used as they are: Slack,
// GitHub and Stripe key their HMAC with the secret's bytes, not a decoding
// of them. Empty secrets are left out.
func rawKeys(secrets []string) ([][]byte, error) {
	var keys [][]byte
	for _, s := range secrets {
		if s != "" {
			keys = append(keys, []byte(s))
		}
	}
	if len(keys) == 0 {
		return nil, ErrNoSecret
	}
	return keys, nil
}

// fresh parses ts, Unix seconds, and checks that it is within tolerance
// of now either way. Its errors are the bare reasons.
func fresh(ts string, now time.Time, tolerance time.Duration) (int64, error) {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, ErrInvalidTimestamp
	}
	sent := time.Unix(sec, 0)
	if now.Sub(sent) > tolerance {
		return 0, ErrTimestampTooOld
	}
	if sent.Sub(now) > tolerance {
		return 0, ErrTimestampTooNew
	}
	return sec, nil
}

// signedBy reports whether any of got is the HMAC-SHA256 of prefix and
// body under any of keys. Each comparison takes constant time.
func signedBy(keys [][]byte, prefix string, body []byte, got [][]byte) bool {
	if len(got) == 0 {
		return false
	}
	for _, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(prefix))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, g := range got {
			if hmac.Equal(g, want) {
				return true
			}
		}
	}
	return false
}

// hexMAC decodes the hex MAC of a signature that must start with prefix
// ("v0=", "sha256="); nil when it does not or is not hex.
func hexMAC(sig, prefix string) []byte {
	h, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return nil
	}
	mac, err := hex.DecodeString(h)
	if err != nil {
		return nil
	}
	return mac
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
