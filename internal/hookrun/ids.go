package hookrun

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
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

// madeEventPrefix begins the IDs ingest makes for events sent without
// one (NewEventID).
const madeEventPrefix = "evt_"

// NewEventID returns the ID ingest makes for an event sent without one,
// at time now: like NewID("evt_"), 26 characters, of which the first 48
// bits are now in milliseconds and the other 80 random. Such an ID is new
// by construction, so ingest records it after its answer without a claim;
// MadeEventTime tells, for an ID a producer sends back, when it was made.
func NewEventID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(now.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	return madeEventPrefix + idEncoding.EncodeToString(b[:])
}

// MadeEventTime returns when NewEventID made id, if id has the shape of
// one. Any ID of that shape decodes to some time, so a caller only
// trusts a time close to now: a random 128-bit ID lands within a minute
// of now less than once in a billion.
func MadeEventTime(id string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(id, madeEventPrefix)
	if !ok || len(rest) != 26 {
		return time.Time{}, false
	}
	b, err := idEncoding.DecodeString(rest)
	if err != nil || len(b) != 16 {
		return time.Time{}, false
	}
	var ms [8]byte
	copy(ms[2:], b[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))), true
}

// Tenant and event IDs are checked on every event, by ingest and again by
// the dispatcher, so by hand rather than by regular expression (a tenth of
// the time); FuzzIDs checks each against its syntax as one.

// validTenantID reports whether id matches ^[a-z][a-z0-9-]{1,38}[a-z0-9]$.
func validTenantID(id string) bool {
	if len(id) < 3 || len(id) > 40 || !isLower(id[0]) || id[len(id)-1] == '-' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// validEventID reports whether id matches ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$.
// Event IDs are chosen by producers for idempotency. They become part of
// Firestore document IDs, so '/' is excluded and so are the reserved
// "__x__" names.
func validEventID(id string) bool {
	if len(id) < 1 || len(id) > 128 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c|0x20) || isDigit(c) }

// ValidateTenantID checks a tenant ID: 3 to 40 characters of lowercase
// letters, digits and '-', starting with a letter, not ending with '-'.
func ValidateTenantID(id string) error {
	if !validTenantID(id) {
		return Errorf(CodeInvalidArgument, "id: %q is not a valid tenant id: use 3-40 lowercase letters, digits or '-', starting with a letter", id)
	}
	return nil
}

// ValidateEventID checks a producer-chosen event ID: 1 to 128 characters of
// letters, digits, '.', '_', ':' or '-', starting with a letter or digit.
func ValidateEventID(id string) error {
	if !validEventID(id) {
		return Errorf(CodeInvalidArgument, "id: %q is not a valid event id: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", id)
	}
	return nil
}
