package verify_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// newWebhookSecret returns a new whsec_ secret, as hookrun makes them: 32
// random bytes.
func newWebhookSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// sign returns the webhook-signature a sender computes by the
// specification (specSign); hookrun's dispatcher signing the same is
// checked in hookrun's internal/receivertest.
func sign(t testing.TB, secret, id string, ts int64, body []byte) string {
	t.Helper()
	keys, ok := specKeys(secret)
	if !ok || len(keys) != 1 {
		t.Fatalf("sign: want one valid secret")
	}
	return specSign(keys[0], id, ts, body)
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(verify.HeaderID, id)
	h.Set(verify.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(verify.HeaderSignature, sig)
	return h
}

func TestVerifyAt(t *testing.T) {
	oldSecret, newSecret := newWebhookSecret(), newWebhookSecret()
	body := []byte(`{"id":"evt_1","type":"user.created","data":{"name":"Ada"}}`)
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	const id = "msg_1"
	sig := func(secret string, ts int64) string { return sign(t, secret, id, ts, body) }
	tolerance := int64(verify.Tolerance / time.Second)

	tests := []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		want   error // nil, or the reason; every reason must also be ErrUnverified
	}{
		{"valid", newSecret, headers(id, ts, sig(newSecret, ts)), body, nil},
		{"secret without whsec_ prefix", strings.TrimPrefix(newSecret, "whsec_"), headers(id, ts, sig(newSecret, ts)), body, nil},
		{"rotation: two signatures, receiver has the new secret", newSecret,
			headers(id, ts, sig(oldSecret, ts)+" "+sig(newSecret, ts)), body, nil},
		{"rotation: two signatures, receiver still has the old secret", oldSecret,
			headers(id, ts, sig(oldSecret, ts)+" "+sig(newSecret, ts)), body, nil},
		{"rotation: receiver holds both secrets, sender signs with the new", oldSecret + " " + newSecret,
			headers(id, ts, sig(newSecret, ts)), body, nil},
		{"rotation: receiver holds both secrets, sender signs with the old", oldSecret + "  " + newSecret,
			headers(id, ts, sig(oldSecret, ts)), body, nil},
		{"within tolerance, old", newSecret, headers(id, ts-tolerance+1, sig(newSecret, ts-tolerance+1)), body, nil},
		{"within tolerance, future", newSecret, headers(id, ts+tolerance-1, sig(newSecret, ts+tolerance-1)), body, nil},
		{"tampered body", newSecret, headers(id, ts, sig(newSecret, ts)), []byte(`{"id":"evt_1","type":"user.deleted"}`), verify.ErrNoMatch},
		{"body with a byte appended", newSecret, headers(id, ts, sig(newSecret, ts)), append(body[:len(body):len(body)], '\n'), verify.ErrNoMatch},
		{"tampered id", newSecret, headers("msg_2", ts, sig(newSecret, ts)), body, verify.ErrNoMatch},
		{"tampered timestamp", newSecret, headers(id, ts-1, sig(newSecret, ts)), body, verify.ErrNoMatch},
		{"wrong secret", oldSecret, headers(id, ts, sig(newSecret, ts)), body, verify.ErrNoMatch},
		{"tampered signature", newSecret, headers(id, ts, flipChar(sig(newSecret, ts))), body, verify.ErrNoMatch},
		{"only other signature schemes", newSecret, headers(id, ts, "v1a,"+sig(newSecret, ts)[3:]+" v2,abc"), body, verify.ErrNoMatch},
		{"expired", newSecret, headers(id, ts-tolerance-1, sig(newSecret, ts-tolerance-1)), body, verify.ErrTimestampTooOld},
		{"future-dated", newSecret, headers(id, ts+tolerance+1, sig(newSecret, ts+tolerance+1)), body, verify.ErrTimestampTooNew},
		{"timestamp in milliseconds", newSecret, headers(id, ts*1000, sig(newSecret, ts*1000)), body, verify.ErrTimestampTooNew},
		{"timestamp not a number", newSecret, func() http.Header {
			h := headers(id, ts, sig(newSecret, ts))
			h.Set(verify.HeaderTimestamp, "2027-01-15T08:00:00Z")
			return h
		}(), body, verify.ErrInvalidTimestamp},
		{"no headers", newSecret, http.Header{}, body, verify.ErrMissingHeaders},
		{"no signature", newSecret, headers(id, ts, ""), body, verify.ErrMissingHeaders},
		{"no id", newSecret, headers("", ts, sig(newSecret, ts)), body, verify.ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify.VerifyAt(tt.secret, tt.h, tt.body, now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyAt = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, verify.ErrUnverified) {
				t.Fatalf("VerifyAt = %v, want %v wrapped with ErrUnverified", err, tt.want)
			}
			if errors.Is(err, verify.ErrInvalidSecret) {
				t.Errorf("VerifyAt = %v: a bad request must not look like a bad secret", err)
			}
		})
	}
}

// flipChar changes one base64 character of the MAC in the middle, where
// every bit counts (the last character carries ignored padding bits).
func flipChar(sig string) string {
	const i = len("v1,") + 10
	c := byte('A')
	if sig[i] == 'A' {
		c = 'B'
	}
	return sig[:i] + string(c) + sig[i+1:]
}

func TestVerifyUsesTheClock(t *testing.T) {
	secret := newWebhookSecret()
	body := []byte(`{"type":"ping"}`)
	now := time.Now().Unix()
	if err := verify.Verify(secret, headers("msg_1", now, sign(t, secret, "msg_1", now, body)), body); err != nil {
		t.Errorf("Verify of a fresh signature = %v, want nil", err)
	}
	old := now - 3600
	err := verify.Verify(secret, headers("msg_1", old, sign(t, secret, "msg_1", old, body)), body)
	if !errors.Is(err, verify.ErrTimestampTooOld) {
		t.Errorf("Verify of an hour-old signature = %v, want ErrTimestampTooOld", err)
	}
}

// Headers from frameworks that do not canonicalize keys, or built from a
// map of lowercase names, must verify too.
func TestVerifyHeaderKeysAnyCase(t *testing.T) {
	secret := newWebhookSecret()
	body := []byte(`{"type":"ping"}`)
	now := time.Unix(1_800_000_000, 0)
	sig := sign(t, secret, "msg_1", now.Unix(), body)
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, h := range []http.Header{
		{"webhook-id": {"msg_1"}, "webhook-timestamp": {ts}, "webhook-signature": {sig}},
		{"WEBHOOK-ID": {"msg_1"}, "Webhook-Timestamp": {ts}, "webhook-Signature": {"v1,bm90IHRoaXMgb25l", sig}},
	} {
		if err := verify.VerifyAt(secret, h, body, now); err != nil {
			t.Errorf("VerifyAt(%v) = %v, want nil", h, err)
		}
	}
}

func TestVerifyInvalidSecret(t *testing.T) {
	good := newWebhookSecret()
	body := []byte(`{}`)
	now := time.Unix(1_800_000_000, 0)
	h := headers("msg_1", now.Unix(), sign(t, good, "msg_1", now.Unix(), body))
	for _, secret := range []string{"", "   ", "whsec_", "whsec_not base64!", good + " whsec_%%%secret-value%%%"} {
		err := verify.VerifyAt(secret, h, body, now)
		if !errors.Is(err, verify.ErrInvalidSecret) {
			t.Errorf("VerifyAt(secret %q) = %v, want ErrInvalidSecret", secret, err)
		}
		if errors.Is(err, verify.ErrUnverified) {
			t.Errorf("VerifyAt(secret %q) = %v: a misconfigured receiver must not look like a bad request", secret, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret-value") {
			t.Errorf("VerifyAt error %q repeats the secret", err)
		}
	}
}

// Nothing in an error may echo what the sender sent: errors get logged.
func TestVerifyErrorsEchoNoHeader(t *testing.T) {
	secret := newWebhookSecret()
	now := time.Unix(1_800_000_000, 0)
	h := headers("msg_secret-id", now.Unix(), "v1,c2VjcmV0LXNpZ25hdHVyZQ==")
	err := verify.VerifyAt(secret, h, []byte(`{}`), now)
	if err == nil {
		t.Fatal("VerifyAt of a made-up signature = nil")
	}
	for _, s := range []string{"msg_secret-id", "c2VjcmV0", strconv.FormatInt(now.Unix(), 10)} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats header value %q", err, s)
		}
	}
}

func BenchmarkVerify1KiB(b *testing.B) {
	secret := newWebhookSecret()
	body := []byte(strings.Repeat("x", 1024))
	now := time.Unix(1_800_000_000, 0)
	h := headers("msg_1", now.Unix(), sign(b, secret, "msg_1", now.Unix(), body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := verify.VerifyAt(secret, h, body, now); err != nil {
			b.Fatal(err)
		}
	}
}
