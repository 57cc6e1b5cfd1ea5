package ingest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A portal session is a signed, expiring cookie: nothing is stored for it,
// so any instance holding the same HOOKRUN_PORTAL_KEY accepts it. It names
// one tenant; every portal page checks it against the tenant of its URL.

// portalSessionLifetime is how long a browser stays in a portal once its
// link is opened: a working day, after which the SaaS hands out a new link.
const portalSessionLifetime = 8 * time.Hour

// portalCookieName names the session cookie; its path is /portal/, so the
// API never sees it (the API authenticates by bearer token only).
const portalCookieName = "hookrun_portal"

// portalSession is a browser's session in one tenant's portal.
type portalSession struct {
	TenantID string
	Expire   time.Time
	// ID is random per session; the CSRF token is derived from it.
	ID string
}

// portalSigner signs and checks session cookies and derives their CSRF
// tokens, with HMAC-SHA256 under the portal key.
type portalSigner struct{ key []byte }

// newPortalSigner uses key, or a random key of this process when key is
// empty (Config.PortalKey).
func newPortalSigner(key string) portalSigner {
	if key != "" {
		return portalSigner{key: []byte(key)}
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return portalSigner{key: b}
}

// mac is the HMAC of a purpose and a value, so a signature made for one
// purpose (a cookie) is never valid for another (a CSRF token).
func (p portalSigner) mac(purpose, value string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(purpose + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession starts a session of tenantID at now.
func newPortalSession(tenantID string, now time.Time) portalSession {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return portalSession{TenantID: tenantID, Expire: now.Add(portalSessionLifetime).Truncate(time.Second), ID: base64.RawURLEncoding.EncodeToString(b[:])}
}

// Purposes of sealed sessions: a portal cookie never opens the operator
// console, nor a console cookie a portal.
const (
	portalPurpose  = "session"
	consolePurpose = "console-session"
)

// seal encodes a portal session as its cookie value.
func (p portalSigner) seal(s portalSession) string { return p.sealFor(portalPurpose, s) }

// open returns the portal session a cookie value holds if its signature
// is good and it has not expired at now.
func (p portalSigner) open(value string, now time.Time) (portalSession, bool) {
	return p.openFor(portalPurpose, value, now)
}

// sealFor encodes s as a cookie value for purpose:
// tenant.expiry.id.signature. None of the parts contains a dot (tenant IDs
// and base64url do not).
func (p portalSigner) sealFor(purpose string, s portalSession) string {
	v := s.TenantID + "." + strconv.FormatInt(s.Expire.Unix(), 10) + "." + s.ID
	return v + "." + p.mac(purpose, v)
}

// openFor returns the session a cookie value sealed for purpose holds.
func (p portalSigner) openFor(purpose, value string, now time.Time) (portalSession, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 || !hmac.Equal([]byte(value[i+1:]), []byte(p.mac(purpose, value[:i]))) {
		return portalSession{}, false
	}
	parts := strings.Split(value[:i], ".")
	if len(parts) != 3 {
		return portalSession{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return portalSession{}, false
	}
	return portalSession{TenantID: parts[0], Expire: time.Unix(exp, 0).UTC(), ID: parts[2]}, true
}

// csrfToken is the token every portal form carries in a hidden field: a
// cross-site page cannot read it, so it cannot forge the form.
func (p portalSigner) csrfToken(s portalSession) string { return p.mac("csrf", s.ID) }

// checkCSRF reports whether a posted form carries the session's token.
func (p portalSigner) checkCSRF(s portalSession, r *http.Request) bool {
	return hmac.Equal([]byte(r.PostFormValue("csrf_token")), []byte(p.csrfToken(s)))
}

// sessionCookie is the cookie that carries s. HttpOnly: no script reads it
// (the portal's one script, static/localtime.js, has no need to). Secure
// unless the request came over plain http (the local stack). SameSite=Lax,
// unless the portal may be embedded: a cross-site iframe is sent only
// SameSite=None cookies, which browsers take only when Secure, and
// partitioned (CHIPS) per embedding site where third-party cookies are
// blocked.
func (s *Service) sessionCookie(r *http.Request, sess portalSession) *http.Cookie {
	c := &http.Cookie{
		Name: portalCookieName, Value: s.portal.seal(sess), Path: "/portal/",
		Expires: sess.Expire, MaxAge: int(portalSessionLifetime / time.Second),
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	}
	if len(s.frameAncestors) > 0 {
		c.SameSite, c.Secure, c.Partitioned = http.SameSiteNoneMode, true, true
	}
	return c
}

// isHTTPS reports whether the browser reached the service over https:
// directly, or through Cloud Run's front end, which terminates TLS and
// says so in X-Forwarded-Proto.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// requestSession returns the request's portal session if it has a valid one.
func (s *Service) requestSession(r *http.Request) (portalSession, bool) {
	c, err := r.Cookie(portalCookieName)
	if err != nil {
		return portalSession{}, false
	}
	return s.portal.open(c.Value, s.now())
}

// errNoPortalSession is a portal page opened without a valid session.
var errNoPortalSession = hookrun.Errorf(hookrun.CodeUnauthenticated, "no portal session, or it expired: open a new portal link")
