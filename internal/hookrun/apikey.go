package hookrun

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// APIKeyPrefix starts every tenant API key, so leaked keys are easy to spot
// by secret scanners and a key is never confused with another credential.
const APIKeyPrefix = "hkr_"

// NewAPIKey returns a new tenant API key and its hash. Only the hash is ever
// stored; the key is shown to the caller once.
func NewAPIKey() (key, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key)
}

// HashAPIKey returns the lowercase hex SHA-256 of key. Keys carry 256 bits
// of randomness, so a fast unsalted hash is enough: there is nothing to
// brute-force. Lookups go by hash, so no key is ever compared as a string.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// LooksLikeAPIKey reports whether s has the shape of a tenant API key, so
// the admin token and tenant keys can be told apart without a lookup.
func LooksLikeAPIKey(s string) bool {
	return strings.HasPrefix(s, APIKeyPrefix) && len(s) == len(APIKeyPrefix)+43
}
