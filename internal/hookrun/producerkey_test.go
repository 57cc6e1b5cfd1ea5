package hookrun

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNewProducerKey(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	key, k, err := NewProducerKey(" billing ", []string{"acme", "globex"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeProducerKey(key) || LooksLikeAPIKey(key) || !ValidProducerKeyID(k.ID) || k.Name != "billing" ||
		k.CreatedAt != now.UTC() || k.Hash != HashAPIKey(key) || k.Revoked {
		t.Errorf("NewProducerKey = %q, %+v", key, k)
	}
	if k.Prefix != key[5:13] || k.Last4 != key[len(key)-4:] {
		t.Errorf("prefix %q, last4 %q of %q, want the 8 characters after hkrp_ and the last 4", k.Prefix, k.Last4, key)
	}
	b, _ := json.Marshal(k)
	if strings.Contains(string(b), k.Hash) || strings.Contains(string(b), key) {
		t.Errorf("JSON %s carries the hash or the key", b)
	}
	if _, all, err := NewProducerKey("", nil, now); err != nil || all.Tenants != nil {
		t.Errorf("NewProducerKey(every tenant) = %+v, %v", all, err)
	}
}

func TestValidateProducerTenants(t *testing.T) {
	many := make([]string, MaxProducerTenants+1)
	for i := range many {
		many[i] = "t" + strings.Repeat("a", 2) + NewID("")[:6]
	}
	for _, tt := range []struct {
		name    string
		tenants []string
		ok      bool
	}{
		{"every tenant", nil, true},
		{"some", []string{"acme", "globex"}, true},
		{"empty list", []string{}, false},
		{"invalid id", []string{"Acme"}, false},
		{"twice", []string{"acme", "acme"}, false},
		{"too many", many, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateProducerTenants("tenants", tt.tenants)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateProducerTenants(%v) = %v, want ok %v", tt.tenants, err, tt.ok)
			}
			if err != nil && (ErrorCode(err) != CodeInvalidArgument || !strings.HasPrefix(ErrorMessage(err), "tenants:")) {
				t.Errorf("error %v: want INVALID_ARGUMENT about tenants", err)
			}
		})
	}
}

func TestMayProduce(t *testing.T) {
	if !MayProduce(nil, "acme") || !MayProduce([]string{"acme"}, "acme") || MayProduce([]string{"globex"}, "acme") {
		t.Error("MayProduce: nil allows every tenant, a list only its own")
	}
}

func TestValidProducerKeyID(t *testing.T) {
	for id, want := range map[string]bool{
		NewID(ProducerKeyIDPrefix): true,
		NewID(APIKeyIDPrefix):      false,
		"pkey_abc":                 false,
	} {
		if got := ValidProducerKeyID(id); got != want {
			t.Errorf("ValidProducerKeyID(%q) = %v, want %v", id, got, want)
		}
	}
}
