package hookrun

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// Portal links: a SaaS company hands its logged-in customer a short-lived
// link into that tenant's portal (POST /v1/tenants/{tenant}/portal-sessions).
// The link carries a random token; hookrun keeps only its hash. It opens
// once: the first open claims it and starts a browser session, so a link
// that leaks afterwards (browser history, a proxy's log) is spent.

// DefaultPortalLinkTTL is how long a portal link stays unopened usable
// unless its request says: long enough to be redirected to or embedded,
// short enough that an unopened one does not linger.
const DefaultPortalLinkTTL = time.Hour

// MaxPortalLinkTTL bounds what a request may ask for.
const MaxPortalLinkTTL = 24 * time.Hour

// PortalTokenPrefix starts every portal link token, so a leaked one is easy
// to tell from an API key.
const PortalTokenPrefix = "hkp_"

// PortalLink is what hookrun keeps of a portal link.
type PortalLink struct {
	// TokenHash is the token's SHA-256 (HashPortalToken), the only form it
	// is stored in.
	TokenHash  string
	TenantID   string
	ExpireTime time.Time
	// Used is set by the first open (the store's ClaimPortalLink).
	Used bool
}

// NewPortalLink returns a new link into tenantID's portal that expires ttl
// after now: its token, to put in the URL once, and its record. A zero ttl
// means DefaultPortalLinkTTL.
func NewPortalLink(tenantID string, ttl Duration, now time.Time) (token string, l PortalLink, err error) {
	if ttl == 0 {
		ttl = Duration(DefaultPortalLinkTTL)
	}
	if ttl < Duration(time.Minute) || ttl > Duration(MaxPortalLinkTTL) {
		return "", PortalLink{}, Errorf(CodeInvalidArgument, "ttl %v: a portal link lives from 1m to %v", time.Duration(ttl), MaxPortalLinkTTL)
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = PortalTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, PortalLink{
		TokenHash:  HashPortalToken(token),
		TenantID:   tenantID,
		ExpireTime: now.Add(time.Duration(ttl)).UTC().Truncate(time.Second),
	}, nil
}

// HashPortalToken hashes a portal link's token as API keys are hashed
// (HashAPIKey): it carries 256 bits of randomness too.
func HashPortalToken(token string) string { return HashAPIKey(token) }

// Open is the rule for opening a link that the store has just claimed
// (Used as it was before the claim): a used or expired link starts no
// session. Both refusals are CodeFailedPrecondition, which the portal shows
// as 410 Gone.
func (l PortalLink) Open(now time.Time) error {
	switch {
	case l.Used:
		return Errorf(CodeFailedPrecondition, "this portal link was already opened: a link works once; ask for a new one")
	case !now.Before(l.ExpireTime):
		return Errorf(CodeFailedPrecondition, "this portal link expired at %s; ask for a new one", l.ExpireTime.Format(time.RFC3339))
	}
	return nil
}

// String never shows the hash.
func (l PortalLink) String() string {
	return fmt.Sprintf("portal link of tenant %s (expires %s, used %t)", l.TenantID, l.ExpireTime.Format(time.RFC3339), l.Used)
}
