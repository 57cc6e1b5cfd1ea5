package hookrun

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNewTenantAPIKey(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	key, k, err := NewTenantAPIKey("acme", "  deploys ", now)
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeAPIKey(key) || !ValidAPIKeyID(k.ID) || k.TenantID != "acme" || k.Name != "deploys" || k.Revoked ||
		k.CreatedAt != now.UTC() || k.Hash != HashAPIKey(key) {
		t.Errorf("NewTenantAPIKey = %q, %+v", key, k)
	}
	if k.Prefix != key[4:12] || k.Last4 != key[len(key)-4:] {
		t.Errorf("prefix %q, last4 %q of %q, want the 8 characters after hkr_ and the last 4", k.Prefix, k.Last4, key)
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), k.Hash) || strings.Contains(string(b), key) {
		t.Errorf("JSON %s carries the hash or the key", b)
	}
	key2, k2, _ := NewTenantAPIKey("acme", "", now)
	if key2 == key || k2.ID == k.ID {
		t.Error("two keys share a key or an ID")
	}
	if _, _, err := NewTenantAPIKey("acme", strings.Repeat("n", 101), now); ErrorCode(err) != CodeInvalidArgument || !strings.Contains(ErrorMessage(err), "name:") {
		t.Errorf("long name: %v, want INVALID_ARGUMENT about name", err)
	}
}

func TestValidAPIKeyID(t *testing.T) {
	for id, want := range map[string]bool{
		NewID(APIKeyIDPrefix):            true,
		"key_":                           false,
		"key_abc":                        false,
		"ep_" + NewID("")[:26]:           false,
		"key_" + strings.Repeat("A", 26): false,
		"key_" + strings.Repeat("a", 27): false,
	} {
		if got := ValidAPIKeyID(id); got != want {
			t.Errorf("ValidAPIKeyID(%q) = %v, want %v", id, got, want)
		}
	}
}
