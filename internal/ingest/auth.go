package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// caller is who made a request: the operator (admin token), a tenant (its
// API key) or a producer (a producer key, or an allowed service account's
// ID token).
type caller struct {
	admin    bool
	tenantID string
	// producer is set for a producer credential, which may only send
	// events (sendingTenant).
	producer *producer
}

// producer is who holds a producer credential, and what it may send.
type producer struct {
	// id names it in logs: the producer key's ID or the service
	// account's email, never the key or the token.
	id string
	// tenants are the tenants it may send events of; nil, every tenant.
	tenants []string
}

var errUnauthenticated = hookrun.Errorf(hookrun.CodeUnauthenticated,
	"missing or invalid credentials: send \"Authorization: Bearer <admin token, tenant API key or producer credential>\"")

// errProducerOnlySends refuses a producer credential on any route but
// sending events.
var errProducerOnlySends = hookrun.Errorf(hookrun.CodePermissionDenied,
	"a producer credential may only send events (POST /v1/tenants/{tenant}/events): use the admin token or the tenant's API key here")

// authenticate identifies the caller of a route that is not for sending
// events: the admin or a tenant; a producer credential is refused.
func (s *Service) authenticate(r *http.Request) (caller, error) {
	c, err := s.identify(r)
	if err != nil {
		return caller{}, err
	}
	if c.producer != nil {
		return caller{}, errProducerOnlySends
	}
	return c, nil
}

// identify identifies the caller by any credential. Every failure looks
// the same to the client, so it cannot tell an unknown key from a revoked
// one, or a forged token from an expired one.
func (s *Service) identify(r *http.Request) (caller, error) {
	// The auth scheme is case-insensitive (RFC 9110, section 11.1).
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, errUnauthenticated
	}
	ctx := r.Context()
	switch {
	case s.isAdmin(token):
		httpapi.AddLogAttrs(ctx, slog.String("caller", "admin"))
		return caller{admin: true}, nil
	case hookrun.LooksLikeAPIKey(token):
		return s.tenantCaller(ctx, token)
	case hookrun.LooksLikeProducerKey(token):
		return s.producerKeyCaller(ctx, token)
	case s.idTokens != nil && strings.Count(token, ".") == 2:
		return s.idTokenCaller(ctx, token)
	}
	return caller{}, errUnauthenticated
}

// tenantCaller looks a tenant API key up.
func (s *Service) tenantCaller(ctx context.Context, key string) (caller, error) {
	hash := hookrun.HashAPIKey(key)
	tenantID, err := s.keys.Get(ctx, hash, func(ctx context.Context) (string, error) {
		return s.store.TenantForKey(ctx, hash)
	})
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return caller{}, errUnauthenticated
	}
	if err != nil {
		return caller{}, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("caller", "tenant"))
	return caller{tenantID: tenantID}, nil
}

// producerKeyCaller looks a producer key up, cached as tenant keys are.
func (s *Service) producerKeyCaller(ctx context.Context, key string) (caller, error) {
	hash := hookrun.HashAPIKey(key)
	k, err := s.producerKeys.Get(ctx, hash, func(ctx context.Context) (hookrun.ProducerKey, error) {
		return s.store.ProducerKeyForHash(ctx, hash)
	})
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return caller{}, errUnauthenticated
	}
	if err != nil {
		return caller{}, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("caller", k.ID))
	return caller{producer: &producer{id: k.ID, tenants: k.Tenants}}, nil
}

// idTokenCaller verifies a Google-signed ID token of an allowed service
// account. Why a token was refused goes to the log, not to the client; a
// verifier that could not fetch Google's keys is a 503, not a 401.
func (s *Service) idTokenCaller(ctx context.Context, token string) (caller, error) {
	email, err := s.idTokens.ServiceAccount(ctx, token)
	if hookrun.ErrorCode(err) == hookrun.CodeUnavailable {
		return caller{}, err
	}
	if err != nil {
		httpapi.AddLogAttrs(ctx, slog.String("auth_error", err.Error()))
		return caller{}, errUnauthenticated
	}
	tenants, ok := s.producerAccounts[email]
	if !ok {
		// The verifier holds the same list; this is a second lock.
		return caller{}, errUnauthenticated
	}
	httpapi.AddLogAttrs(ctx, slog.String("caller", email))
	return caller{producer: &producer{id: email, tenants: tenants}}, nil
}

// isAdmin compares in constant time. Hashing first makes the comparison
// independent of the token's length too.
func (s *Service) isAdmin(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], s.adminHash[:]) == 1
}

// authorizeTenant allows the admin and the tenant's own keys on routes under
// /v1/tenants/{tenant}.
func (s *Service) authorizeTenant(r *http.Request, tenantID string) error {
	_, err := s.authorizeTenantCaller(r, tenantID)
	return err
}

// authorizeTenantCaller is authorizeTenant for handlers that treat the
// admin and the tenant differently. It is the one place that holds a
// disabled tenant to reading: its keys may call GET routes only, so they
// change nothing (endpoints, keys, catalogue, rotations, verifications,
// replays, redeliveries, its own name) until the operator enables it; the
// admin token may do everything. Other instances see a tenant disabled
// within KeyCacheTTL, as its events do.
func (s *Service) authorizeTenantCaller(r *http.Request, tenantID string) (caller, error) {
	c, err := s.authenticate(r)
	if err != nil {
		return caller{}, err
	}
	if c.admin {
		return c, nil
	}
	if c.tenantID != tenantID {
		return caller{}, hookrun.Errorf(hookrun.CodePermissionDenied, "this API key may not access tenant %q", tenantID)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if _, err := s.tenantMayChange(r.Context(), tenantID); err != nil {
			return caller{}, err
		}
	}
	return c, nil
}

// tenantMayChange returns the tenant if the tenant itself (its API keys,
// its portal sessions) may change anything: not while it is disabled.
func (s *Service) tenantMayChange(ctx context.Context, tenantID string) (hookrun.Tenant, error) {
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return hookrun.Tenant{}, err
	}
	if t.Status == hookrun.TenantDisabled {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodePermissionDenied, "tenant %q is disabled (%s): it may read but change nothing", tenantID, t.DisabledReason)
	}
	return t, nil
}

// authorizeAdmin allows only the admin token; what completes "only the
// admin token may …" in the refusal.
func (s *Service) authorizeAdmin(r *http.Request, what string) error {
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if !c.admin {
		return hookrun.Errorf(hookrun.CodePermissionDenied, "only the admin token may %s", what)
	}
	return nil
}
