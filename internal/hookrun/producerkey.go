package hookrun

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// ProducerKeyPrefix starts every producer key: a credential the operator
// gives a producer (a SaaS backend) to send events of many tenants. Its
// own prefix keeps it apart from tenant API keys ("hkr_") and portal
// links ("hkp_"), for secret scanners and for hookrun itself.
const ProducerKeyPrefix = "hkrp_"

// ProducerKeyIDPrefix starts the ID of a producer key, which names it in
// the API without being a credential.
const ProducerKeyIDPrefix = "pkey_"

// MaxProducerTenants bounds the tenants a producer credential may be
// limited to; a producer of more tenants is given every tenant.
const MaxProducerTenants = 100

// ProducerKey is what hookrun keeps of a producer key: its hash, the
// tenants it may send events of, and what lets a person recognise it. The
// key itself is shown once, at creation. A producer key may only send
// events; it reads and changes nothing.
type ProducerKey struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Tenants limits the key to these tenants; absent (nil), it may send
	// events of every tenant.
	Tenants []string `json:"tenants,omitempty"`
	// Prefix is the 8 characters after "hkrp_", Last4 the last 4, as for
	// tenant API keys.
	Prefix    string    `json:"prefix"`
	Last4     string    `json:"last4"`
	CreatedAt time.Time `json:"create_time"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoke_time,omitzero"`
	// Hash is the key's SHA-256 (HashAPIKey), the only form it is stored
	// in. It is never shown.
	Hash string `json:"-"`
}

// NewProducerKey validates name and tenants (nil: every tenant) and
// returns a new producer key created now: the key, to show once, and its
// record.
func NewProducerKey(name string, tenants []string, now time.Time) (key string, k ProducerKey, err error) {
	name, err = CleanText("name", name, 100)
	if err != nil {
		return "", ProducerKey{}, err
	}
	if err := ValidateProducerTenants("tenants", tenants); err != nil {
		return "", ProducerKey{}, err
	}
	key, hash := newKey(ProducerKeyPrefix)
	prefix, last4 := shownParts(key, ProducerKeyPrefix)
	return key, ProducerKey{
		ID:        NewID(ProducerKeyIDPrefix),
		Name:      name,
		Tenants:   slices.Clone(tenants),
		Prefix:    prefix,
		Last4:     last4,
		CreatedAt: now.UTC(),
		Hash:      hash,
	}, nil
}

// ValidateProducerTenants checks the tenants a producer credential is
// limited to: nil means every tenant; otherwise 1 to MaxProducerTenants
// valid tenant IDs, none twice. An empty list is refused rather than read
// as "every tenant", which it could be mistaken for.
func ValidateProducerTenants(field string, tenants []string) error {
	if tenants == nil {
		return nil
	}
	if len(tenants) == 0 || len(tenants) > MaxProducerTenants {
		return Errorf(CodeInvalidArgument, "%s: leave it out for every tenant, or list 1 to %d tenant ids", field, MaxProducerTenants)
	}
	for i, id := range tenants {
		if ValidateTenantID(id) != nil {
			return Errorf(CodeInvalidArgument, "%s: %q is not a valid tenant id", field, id)
		}
		if slices.Contains(tenants[:i], id) {
			return Errorf(CodeInvalidArgument, "%s: %q is listed twice", field, id)
		}
	}
	return nil
}

// MayProduce reports whether a producer credential limited to tenants
// (nil: every tenant) may send events of tenantID.
func MayProduce(tenants []string, tenantID string) bool {
	return tenants == nil || slices.Contains(tenants, tenantID)
}

var producerKeyIDPattern = regexp.MustCompile(`^pkey_[a-z2-7]{26}$`)

// ValidProducerKeyID reports whether id has the shape of a producer key
// ID, so a malformed one is not found without a lookup.
func ValidProducerKeyID(id string) bool { return producerKeyIDPattern.MatchString(id) }

// LooksLikeProducerKey reports whether s has the shape of a producer key,
// so it is told apart from other credentials without a lookup.
func LooksLikeProducerKey(s string) bool {
	return strings.HasPrefix(s, ProducerKeyPrefix) && len(s) == len(ProducerKeyPrefix)+keyLen
}
