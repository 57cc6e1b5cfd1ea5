package signature

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock, as the specification recommends, to stop replays of old messages.
const DefaultTolerance = 5 * time.Minute

// Verification errors. They say what is wrong without echoing any header
// value, so they are safe to log; receivers should answer 401 without detail.
var (
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp = errors.New("webhook-timestamp is not a Unix time in seconds")
	ErrTimestampTooOld  = errors.New("webhook-timestamp is too old")
	ErrTimestampTooNew  = errors.New("webhook-timestamp is too far in the future")
	ErrNoMatch          = errors.New("no webhook-signature matches")
)

// Verify checks a received webhook against any of keys (several during a
// secret rotation) and the timestamp tolerance around now. It accepts a
// header with several space-separated signatures and compares in constant
// time.
func Verify(keys [][]byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	sent := time.Unix(sec, 0)
	if now.Sub(sent) > tolerance {
		return ErrTimestampTooOld
	}
	if sent.Sub(now) > tolerance {
		return ErrTimestampTooNew
	}
	for _, key := range keys {
		want := NewSigner(key).Sign(id, sec, body)
		wantMAC, _ := base64.StdEncoding.DecodeString(want[3:])
		for sig := range strings.FieldsSeq(sigs) {
			version, b64, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue // other schemes (v1a…) are not ours to check
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				continue
			}
			if hmac.Equal(got, wantMAC) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
