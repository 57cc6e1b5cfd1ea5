package receivertest_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
	"github.com/hookrun/hookrun/internal/signature"
)

// What the dispatcher signs (internal/signature), the receiver's verify
// package accepts, and with any other secret it does not. The receiver's
// module tests verify against the specification alone; this is where the
// two implementations meet.
func TestDispatcherSignatureVerifies(t *testing.T) {
	oldSecret, newSecret := signature.NewSecret(), signature.NewSecret()
	body := []byte(`{"id":"evt_1","type":"user.created","timestamp":"2026-11-23T10:00:00Z","data":{"name":"Zoë"}}`)
	now := time.Unix(1_800_000_000, 0)
	sign := func(secret string) string {
		key, err := signature.ParseSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		return signature.NewSigner(key).Sign("msg_1", now.Unix(), body)
	}
	tests := []struct {
		name, secret, sig string
		want              error
	}{
		{"one secret", newSecret, sign(newSecret), nil},
		{"rotation: dispatcher signs with both", oldSecret, sign(oldSecret) + " " + sign(newSecret), nil},
		{"rotation: receiver holds both", oldSecret + " " + newSecret, sign(newSecret), nil},
		{"another secret", oldSecret, sign(newSecret), verify.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(signature.HeaderID, "msg_1")
			h.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			h.Set(signature.HeaderSignature, tt.sig)
			err := verify.VerifyAt(tt.secret, h, body, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("VerifyAt = %v, want %v", err, tt.want)
			}
		})
	}
	if verify.HeaderID != signature.HeaderID || verify.HeaderTimestamp != signature.HeaderTimestamp || verify.HeaderSignature != signature.HeaderSignature {
		t.Error("verify and signature name the headers differently")
	}
	if verify.Tolerance != signature.DefaultTolerance {
		t.Errorf("verify.Tolerance %v, signature.DefaultTolerance %v: receivers would refuse what senders think fresh", verify.Tolerance, signature.DefaultTolerance)
	}
}
