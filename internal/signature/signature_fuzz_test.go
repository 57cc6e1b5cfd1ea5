package signature_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/signature"
)

// specMAC is the Standard Webhooks MAC of a message computed straight from
// the specification, the oracle Signer and Verify are checked against.
func specMAC(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return m.Sum(nil)
}

// rawHeaders are the three signature headers as received, unparsed.
func rawHeaders(id, ts, sigs string) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, ts)
	h.Set(signature.HeaderSignature, sigs)
	return h
}

// FuzzVerify feeds Verify what a receiver gets: any key, headers and body.
// Whatever arrives, only a v1 signature made with the key over the id,
// timestamp and body verifies; what Signer signs verifies, and the same
// signature over another body or with another key does not.
func FuzzVerify(f *testing.F) {
	specKey, err := signature.ParseSecret(specSecret)
	if err != nil {
		f.Fatalf("ParseSecret: %v", err)
	}
	ts := strconv.Itoa(specTimestamp)
	for _, s := range []struct {
		id, ts, sigs string
		body         string
	}{
		{specID, ts, specSignature, specPayload},
		{specID, ts, "v1a,abc " + specSignature, specPayload},
		{specID, ts, "v1,AAAA v2,xyz v1," + strings.Repeat("=", 44), specPayload},
		{specID, "+" + ts, specSignature, specPayload},
		{specID, "0" + ts, specSignature, specPayload},
		{specID, "1614265331", specSignature, specPayload},
		{specID, "1614264000", specSignature, specPayload},
		{specID, "9223372036854775807", specSignature, specPayload},
		{specID, "-9223372036854775808", specSignature, specPayload},
		{specID, "1.6e9", specSignature, specPayload},
		{"", ts, specSignature, specPayload},
		{specID, ts, "", specPayload},
		{specID, ts, "v1," + specSignature[3:] + "\n", specPayload},
		{"msg with spaces", ts, "v1,,,", ""},
	} {
		f.Add(specKey, s.id, s.ts, s.sigs, []byte(s.body))
	}
	f.Add([]byte{}, specID, ts, specSignature, []byte(specPayload))
	now := time.Unix(specTimestamp, 0)
	tolerance := int64(signature.DefaultTolerance / time.Second)

	f.Fuzz(func(t *testing.T, key []byte, id, ts, sigs string, body []byte) {
		keys := [][]byte{key}
		err := signature.Verify(keys, rawHeaders(id, ts, sigs), body, now, signature.DefaultTolerance)
		switch {
		case err == nil:
			sec, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || sec < now.Unix()-tolerance || sec > now.Unix()+tolerance {
				t.Fatalf("verified with webhook-timestamp %q, now %d", ts, now.Unix())
			}
			want := specMAC(key, id, sec, body)
			found := false
			for sig := range strings.FieldsSeq(sigs) {
				if v, b64, ok := strings.Cut(sig, ","); ok && v == "v1" {
					got, derr := base64.StdEncoding.DecodeString(b64)
					found = found || (derr == nil && hmac.Equal(got, want))
				}
			}
			if !found {
				t.Fatalf("verified webhook-signature %q, which holds no v1 MAC of id %q, timestamp %d and the body", sigs, id, sec)
			}
		case !errors.Is(err, signature.ErrMissingHeaders) && !errors.Is(err, signature.ErrInvalidTimestamp) &&
			!errors.Is(err, signature.ErrTimestampTooOld) && !errors.Is(err, signature.ErrTimestampTooNew) &&
			!errors.Is(err, signature.ErrNoMatch):
			t.Fatalf("Verify = %v, want one of the documented reasons", err)
		}

		if id == "" {
			return // nothing signs without an id
		}
		sig := signature.NewSigner(key).Sign(id, now.Unix(), body)
		if want := "v1," + base64.StdEncoding.EncodeToString(specMAC(key, id, now.Unix(), body)); sig != want {
			t.Fatalf("Sign = %q, want %q", sig, want)
		}
		nowTS := strconv.FormatInt(now.Unix(), 10)
		// Beside whatever else the header holds (other schemes, rotation).
		if err := signature.Verify(keys, rawHeaders(id, nowTS, sigs+" "+sig), body, now, signature.DefaultTolerance); err != nil {
			t.Fatalf("Verify of what Sign signed, beside %q: %v", sigs, err)
		}
		tampered := append(bytes.Clone(body), ' ')
		if err := signature.Verify(keys, rawHeaders(id, nowTS, sig), tampered, now, signature.DefaultTolerance); !errors.Is(err, signature.ErrNoMatch) {
			t.Fatalf("Verify of a changed body = %v, want ErrNoMatch", err)
		}
		other := []byte{1}
		if len(key) > 0 {
			other = bytes.Clone(key)
			other[0] ^= 1
		}
		if err := signature.Verify([][]byte{other}, rawHeaders(id, nowTS, sig), body, now, signature.DefaultTolerance); !errors.Is(err, signature.ErrNoMatch) {
			t.Fatalf("Verify with another key = %v, want ErrNoMatch", err)
		}
	})
}

// FuzzParseSecret feeds ParseSecret the secrets operators and receivers
// configure.
func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{
		specSecret, strings.TrimPrefix(specSecret, "whsec_"), "whsec_", "", "whsec_AA==", "whsec_A", "whsec_!!!!",
		"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8G\nKYqr",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := signature.ParseSecret(s)
		if err != nil {
			if !errors.Is(err, signature.ErrInvalidSecret) {
				t.Fatalf("ParseSecret = %v, want ErrInvalidSecret", err)
			}
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("ParseSecret's error %q repeats the secret", err)
			}
			return
		}
		if len(key) == 0 {
			t.Fatalf("ParseSecret(%q) = an empty key", s)
		}
		enc := base64.StdEncoding.EncodeToString(key)
		for _, canonical := range []string{signature.SecretPrefix + enc, enc} {
			if again, err := signature.ParseSecret(canonical); err != nil || !bytes.Equal(again, key) {
				t.Fatalf("ParseSecret(%q) = %x, %v; want the key %x of %q", canonical, again, err, key, s)
			}
		}
	})
}
