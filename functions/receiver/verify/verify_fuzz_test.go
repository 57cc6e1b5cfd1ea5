package verify_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// specSign is the webhook-signature of a message computed straight from
// the Standard Webhooks specification: "v1," and the base64 HMAC-SHA256 of
// "id.timestamp.body". It is this package's oracle, written without
// hookrun's signing code, as a tenant's sender would.
func specSign(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// specKeys are the HMAC keys of a WEBHOOK_SECRET as the specification
// reads it: space-separated secrets, each base64 after an optional whsec_.
// ok is false when any of them is not.
func specKeys(secret string) (keys [][]byte, ok bool) {
	for s := range strings.FieldsSeq(secret) {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, false
		}
		keys = append(keys, key)
	}
	return keys, len(keys) > 0
}

// reasons are every documented error of Verify.
var reasons = []error{verify.ErrInvalidSecret, verify.ErrNoSecret, verify.ErrUnverified, verify.ErrMissingHeaders, verify.ErrInvalidTimestamp,
	verify.ErrTimestampTooOld, verify.ErrTimestampTooNew, verify.ErrNoMatch}

// FuzzVerify feeds Verify any secret, headers and body. Whatever arrives,
// Verify never panics, its errors are the documented ones and repeat no
// secret or header, and it accepts only a v1 signature made with one of
// the secrets over the id, timestamp and body. What a sender signs by the
// specification verifies, beside anything else in the header, with the
// headers in any case and over several lines; with another body it does
// not.
func FuzzVerify(f *testing.F) {
	const (
		id     = "msg_2r9QY3cHbYkCzpGkGzT8xk4Zw1H"
		ts     = "1800000000"
		body   = `{"id":"evt_1","type":"user.created","data":{"name":"Ada"}}`
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	sig := specSign(key, id, 1_800_000_000, []byte(body))
	for _, s := range [][5]string{
		{secret, id, ts, sig, body},
		{strings.TrimPrefix(secret, "whsec_"), id, ts, sig, body},
		{"whsec_AAAA " + secret, id, ts, "v1,bm9wZQ== " + sig, body},
		{secret + " whsec_!!", id, ts, sig, body},
		{"", id, ts, sig, body},
		{"   ", id, ts, sig, body},
		{secret, id, "+" + ts, sig, body},
		{secret, id, "1799999000", sig, body},
		{secret, id, "99999999999999999999", sig, body},
		{secret, "", ts, sig, body},
		{secret, id, ts, "", body},
		{secret, id, ts, "v1a," + sig[3:], body},
		{secret, id, ts, sig, body + " "},
		{"whsec_c2VjcmV0", "webhook-signature", "0", "v1,,v1", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], []byte(s[4]))
	}
	now := time.Unix(1_800_000_000, 0)
	tolerance := int64(verify.Tolerance / time.Second)

	f.Fuzz(func(t *testing.T, secret, id, ts, sigs string, body []byte) {
		h := http.Header{}
		h.Set(verify.HeaderID, id)
		h.Set(verify.HeaderTimestamp, ts)
		h.Set(verify.HeaderSignature, sigs)
		err := verify.VerifyAt(secret, h, body, now)
		keys, secretOK := specKeys(secret)
		switch {
		case err == nil:
			sec, perr := strconv.ParseInt(ts, 10, 64)
			if !secretOK || perr != nil || sec < now.Unix()-tolerance || sec > now.Unix()+tolerance {
				t.Fatalf("verified with secret %q, webhook-timestamp %q at %d", secret, ts, now.Unix())
			}
			if !holdsSignature(sigs, keys, id, sec, body) {
				t.Fatalf("verified webhook-signature %q, which holds no v1 signature by the secrets over id %q, timestamp %d and the body", sigs, id, sec)
			}
		case errors.Is(err, verify.ErrInvalidSecret):
			if secretOK || errors.Is(err, verify.ErrUnverified) {
				t.Fatalf("secret %q: %v", secret, err)
			}
		case !errors.Is(err, verify.ErrUnverified):
			t.Fatalf("Verify = %v, want ErrInvalidSecret or ErrUnverified", err)
		}
		if err != nil {
			checkQuiet(t, err)
		}

		if !secretOK || id == "" {
			return
		}
		// The sender signs with the last secret, as after a rotation.
		sig := specSign(keys[len(keys)-1], id, now.Unix(), body)
		nowTS := strconv.FormatInt(now.Unix(), 10)
		lines := http.Header{"webhook-id": {id}, "WEBHOOK-TIMESTAMP": {nowTS}, "Webhook-Signature": {sigs, sig}}
		if err := verify.VerifyAt(secret, lines, body, now); err != nil {
			t.Fatalf("signature by the specification, beside %q, does not verify: %v", sigs, err)
		}
		tampered := append(bytes.Clone(body), '\n')
		h.Set(verify.HeaderTimestamp, nowTS)
		h.Set(verify.HeaderSignature, sig)
		if err := verify.VerifyAt(secret, h, tampered, now); !errors.Is(err, verify.ErrNoMatch) && !holdsSignature(sig, keys, id, now.Unix(), tampered) {
			t.Fatalf("signature over another body: %v, want ErrNoMatch", err)
		}
	})
}

// holdsSignature reports whether sigs holds a v1 signature, as its MAC's
// bytes, by any of keys over id, ts and body.
func holdsSignature(sigs string, keys [][]byte, id string, ts int64, body []byte) bool {
	for sig := range strings.FieldsSeq(sigs) {
		v, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if !ok || v != "v1" || err != nil {
			continue
		}
		for _, key := range keys {
			want, _ := base64.StdEncoding.DecodeString(specSign(key, id, ts, body)[3:])
			if hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// quietLeftover is what may be left of an error once the documented texts
// are taken out: where in the secret the problem is, or the names of the
// headers it is about, never a value.
var quietLeftover = regexp.MustCompile(`^(: )*(secret [0-9]+ of [0-9]+|[A-Za-z0-9-]+( t| v1| t and v1)?|webhook-id, webhook-timestamp, webhook-signature|X-Slack-Request-Timestamp, X-Slack-Signature)?(: )*$`)

// checkQuiet checks that err, which receivers log, is made of the
// documented texts only, so it repeats no secret or header.
func checkQuiet(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, r := range reasons {
		msg = strings.ReplaceAll(msg, r.Error(), "")
	}
	if !quietLeftover.MatchString(msg) {
		t.Fatalf("error %q says more than the documented reasons: %q", err, msg)
	}
}

// FuzzStripe feeds the Stripe verifier any Stripe-Signature header and
// body. It never panics, its errors are the documented ones, and it
// accepts only a header holding a t within StripeTolerance and a v1 made
// by the documented scheme over that t and the body. A header Stripe
// would send verifies after anything else in the header.
func FuzzStripe(f *testing.F) {
	const (
		secret = "whsec_test_secret_0123456789abcdef"
		body   = `{"id":"evt_1","type":"checkout.session.completed"}`
	)
	good := stripeSign(1_800_000_000, body, secret)
	for _, s := range [][2]string{
		{good, body}, {good, body + " "}, {"t=1800000000,v1=zz", body},
		{"t=1800000000,t=1,v1=" + good[len("t=1800000000,v1="):], body},
		{"t=+1800000000" + good[len("t=1800000000"):], body},
		{"t=-1,v1=,v1", ""}, {",,,=,t=,v1==", body}, {"", ""},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	now := time.Unix(1_800_000_000, 0)
	tolerance := int64(verify.StripeTolerance / time.Second)
	v, err := verify.NewStripe(secret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sigHeader string, body []byte) {
		h := http.Header{verify.HeaderStripeSignature: {sigHeader}}
		err := v.VerifyAt(h, body, now)
		if err != nil {
			if !errors.Is(err, verify.ErrUnverified) {
				t.Fatalf("VerifyAt = %v, want ErrUnverified", err)
			}
			checkQuiet(t, err)
		} else if !stripeHolds(sigHeader, secret, body, now.Unix(), tolerance) {
			t.Fatalf("verified Stripe-Signature %q, which holds no fresh v1 by the secret over the body", sigHeader)
		}
		h.Set(verify.HeaderStripeSignature, strings.ReplaceAll(sigHeader, "t=", "x=")+","+stripeSign(now.Unix(), string(body), secret))
		if sigHeader == "" {
			h.Set(verify.HeaderStripeSignature, stripeSign(now.Unix(), string(body), secret))
		}
		if err := v.VerifyAt(h, body, now); err != nil {
			t.Fatalf("Stripe's header after %q does not verify: %v", sigHeader, err)
		}
	})
}

// stripeHolds reports whether header's first t is within tolerance of now
// and one of its v1 values is the documented signature over t and body.
func stripeHolds(header, secret string, body []byte, now, tolerance int64) bool {
	var ts string
	var sigs []string
	for item := range strings.SplitSeq(header, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		switch {
		case ok && k == "t" && ts == "":
			ts = val
		case ok && k == "v1":
			sigs = append(sigs, strings.ToLower(val))
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < now-tolerance || sec > now+tolerance {
		return false
	}
	want := stripeSign(sec, string(body), secret)[len("t=,v1=")+len(strconv.FormatInt(sec, 10)):]
	return slices.Contains(sigs, want)
}
