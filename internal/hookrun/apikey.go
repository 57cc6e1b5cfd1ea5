package hookrun

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
)

// APIKeyPrefix starts every tenant API key, so leaked keys are easy to spot
// by secret scanners and a key is never confused with another credential.
const APIKeyPrefix = "hkr_"

// APIKeyIDPrefix starts the ID of an API key, which names it in the API
// without being a credential.
const APIKeyIDPrefix = "key_"

// MaxActiveAPIKeys bounds the keys a tenant may hold unrevoked: enough to
// rotate and to give each producer its own, few enough to list at once.
const MaxActiveAPIKeys = 20

// APIKey is what hookrun keeps of a tenant API key: its hash and what lets
// a person recognise it. The key itself is shown once, at creation.
type APIKey struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Name     string `json:"name,omitempty"`
	// Prefix is the 8 characters after "hkr_", Last4 the last 4: together
	// 72 of the key's 256 bits, enough to recognise it, too few to matter.
	Prefix    string    `json:"prefix"`
	Last4     string    `json:"last4"`
	CreatedAt time.Time `json:"create_time"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoke_time,omitzero"`
	// Hash is the key's SHA-256 (HashAPIKey), the only form it is stored
	// in. It is never shown.
	Hash string `json:"-"`
}

// NewTenantAPIKey validates name and returns a new key of tenantID created
// now: the key, to show once, and its record.
func NewTenantAPIKey(tenantID, name string, now time.Time) (key string, k APIKey, err error) {
	name, err = CleanText("name", name, 100)
	if err != nil {
		return "", APIKey{}, err
	}
	key, hash := NewAPIKey()
	prefix, last4 := shownParts(key, APIKeyPrefix)
	return key, APIKey{
		ID:        NewID(APIKeyIDPrefix),
		TenantID:  tenantID,
		Name:      name,
		Prefix:    prefix,
		Last4:     last4,
		CreatedAt: now.UTC(),
		Hash:      hash,
	}, nil
}

var apiKeyIDPattern = regexp.MustCompile(`^key_[a-z2-7]{26}$`)

// ValidAPIKeyID reports whether id has the shape of an API key ID, so a
// malformed one is not found without a lookup.
func ValidAPIKeyID(id string) bool { return apiKeyIDPattern.MatchString(id) }

// NewAPIKey returns a new tenant API key and its hash. Only the hash is ever
// stored; the key is shown to the caller once.
func NewAPIKey() (key, hash string) { return newKey(APIKeyPrefix) }

// newKey returns a new key made of prefix and 256 random bits, and its
// hash: tenant API keys and producer keys are made alike.
func newKey(prefix string) (key, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	key = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key)
}

// keyLen is the length of a key made by newKey, without its prefix.
const keyLen = 43

// shownParts returns what is shown of a key made by newKey: the 8
// characters after its prefix, and its last 4.
func shownParts(key, prefix string) (shown, last4 string) {
	return key[len(prefix) : len(prefix)+8], key[len(key)-4:]
}

// HashAPIKey returns the lowercase hex SHA-256 of key (a tenant API key or
// a producer key). Keys carry 256 bits
// of randomness, so a fast unsalted hash is enough: there is nothing to
// brute-force. Lookups go by hash, so no key is ever compared as a string.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// LooksLikeAPIKey reports whether s has the shape of a tenant API key, so
// the admin token and tenant keys can be told apart without a lookup.
func LooksLikeAPIKey(s string) bool {
	return strings.HasPrefix(s, APIKeyPrefix) && len(s) == len(APIKeyPrefix)+keyLen
}
