package hookrun

import (
	"crypto/rand"
	"encoding/base32"
	"regexp"
)

// idEncoding is lowercase base32 without padding: IDs stay URL-, Firestore-
// and Secret Manager-safe and read well in logs.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix followed by 26 characters of 128-bit randomness,
// for example "ep_k5vq...".
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + idEncoding.EncodeToString(b[:])
}

var (
	tenantIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)
	// Event IDs are chosen by producers for idempotency. They become part of
	// Firestore document IDs, so '/' is excluded and so are the reserved
	// "__x__" names.
	eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

// ValidateTenantID checks a tenant ID: 3 to 40 characters of lowercase
// letters, digits and '-', starting with a letter, not ending with '-'.
func ValidateTenantID(id string) error {
	if !tenantIDPattern.MatchString(id) {
		return Errorf(CodeInvalidArgument, "id: %q is not a valid tenant id: use 3-40 lowercase letters, digits or '-', starting with a letter", id)
	}
	return nil
}

// ValidateEventID checks a producer-chosen event ID: 1 to 128 characters of
// letters, digits, '.', '_', ':' or '-', starting with a letter or digit.
func ValidateEventID(id string) error {
	if !eventIDPattern.MatchString(id) {
		return Errorf(CodeInvalidArgument, "id: %q is not a valid event id: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", id)
	}
	return nil
}
