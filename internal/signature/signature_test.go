package signature_test

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookrun/hookrun/internal/signature"
)

// The example published with the Standard Webhooks specification and used by
// its reference libraries' tests.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesSpecificationExample(t *testing.T) {
	key, err := signature.ParseSecret(specSecret)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	s := signature.NewSigner(key)
	for i := 0; i < 3; i++ { // pooled state must reset between signatures
		if got := s.Sign(specID, specTimestamp, []byte(specPayload)); got != specSignature {
			t.Fatalf("Sign #%d = %q, want %q", i, got, specSignature)
		}
	}
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(signature.HeaderSignature, sig)
	return h
}

// Deliveries must verify with the public libraries unchanged.
func TestSignaturesVerifyWithPublicLibraries(t *testing.T) {
	secret := signature.NewSecret()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	body := bytes.Repeat([]byte(`{"a":"b"}`), 100)
	now := time.Now().Unix()
	h := headers("msg_123", now, signature.NewSigner(key).Sign("msg_123", now, body))

	sw, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook: %v", err)
	}
	if err := sw.Verify(body, h); err != nil {
		t.Errorf("standard-webhooks library rejects our signature: %v", err)
	}
	sv, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatalf("svix.NewWebhook: %v", err)
	}
	if err := sv.Verify(body, h); err != nil {
		t.Errorf("svix library rejects our signature: %v", err)
	}
}

func TestVerify(t *testing.T) {
	oldKey, _ := signature.ParseSecret(signature.NewSecret())
	newKey, _ := signature.ParseSecret(signature.NewSecret())
	body := []byte(`{"type":"user.created"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	sign := func(k []byte, ts int64) string { return signature.NewSigner(k).Sign("msg_1", ts, body) }

	tests := []struct {
		name string
		keys [][]byte
		h    http.Header
		body []byte
		want error
	}{
		{"valid", [][]byte{newKey}, headers("msg_1", ts, sign(newKey, ts)), body, nil},
		{"rotation: two signatures, receiver knows the new key", [][]byte{newKey},
			headers("msg_1", ts, sign(oldKey, ts)+" "+sign(newKey, ts)), body, nil},
		{"rotation: receiver still has the old key", [][]byte{oldKey},
			headers("msg_1", ts, sign(oldKey, ts)+" "+sign(newKey, ts)), body, nil},
		{"receiver holds both keys", [][]byte{oldKey, newKey}, headers("msg_1", ts, sign(newKey, ts)), body, nil},
		{"tampered body", [][]byte{newKey}, headers("msg_1", ts, sign(newKey, ts)), []byte(`{"type":"user.deleted"}`), signature.ErrNoMatch},
		{"other id", [][]byte{newKey}, headers("msg_2", ts, sign(newKey, ts)), body, signature.ErrNoMatch},
		{"wrong key", [][]byte{oldKey}, headers("msg_1", ts, sign(newKey, ts)), body, signature.ErrNoMatch},
		{"expired", [][]byte{newKey}, headers("msg_1", ts-301, sign(newKey, ts-301)), body, signature.ErrTimestampTooOld},
		{"future", [][]byte{newKey}, headers("msg_1", ts+301, sign(newKey, ts+301)), body, signature.ErrTimestampTooNew},
		{"within tolerance", [][]byte{newKey}, headers("msg_1", ts-299, sign(newKey, ts-299)), body, nil},
		{"missing signature", [][]byte{newKey}, headers("msg_1", ts, ""), body, signature.ErrMissingHeaders},
		{"garbage signature", [][]byte{newKey}, headers("msg_1", ts, "v1,!!!! v2,abc nonsense"), body, signature.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := signature.Verify(tt.keys, tt.h, tt.body, now, signature.DefaultTolerance)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRejectsBadTimestamp(t *testing.T) {
	h := http.Header{}
	h.Set(signature.HeaderID, "msg_1")
	h.Set(signature.HeaderTimestamp, "yesterday")
	h.Set(signature.HeaderSignature, "v1,abc")
	if err := signature.Verify(nil, h, nil, time.Now(), time.Minute); !errors.Is(err, signature.ErrInvalidTimestamp) {
		t.Errorf("Verify = %v, want ErrInvalidTimestamp", err)
	}
}

func TestParseSecret(t *testing.T) {
	for _, bad := range []string{"", "whsec_", "whsec_not base64!", "plain text"} {
		if _, err := signature.ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) succeeded, want error", bad)
		}
	}
	if _, err := signature.ParseSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Errorf("ParseSecret without prefix: %v", err)
	}
}

func BenchmarkSign1KiB(b *testing.B) {
	key, _ := signature.ParseSecret(specSecret)
	s := signature.NewSigner(key)
	body := bytes.Repeat([]byte("x"), 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = s.Sign("msg_2r9QY3cHbYkCzpGkGzT8xk4Zw1H", 1_800_000_000, body)
	}
}
