package signature

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// SecretPrefix starts every Standard Webhooks signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the key length of new secrets. The specification asks for
// 24 to 64 bytes; 32 matches the HMAC-SHA256 block of security.
const secretBytes = 32

// NewSecret returns a new random signing secret in whsec_ form.
func NewSecret() string {
	var b [secretBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// ErrInvalidSecret means a secret is not "whsec_" followed by base64.
var ErrInvalidSecret = errors.New("signing secret must be whsec_ followed by base64")

// ParseSecret returns the HMAC key of a whsec_ secret. As in the public
// Standard Webhooks libraries, the prefix is optional. The error never
// repeats the secret.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimPrefix(s, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, ErrInvalidSecret
	}
	return key, nil
}
