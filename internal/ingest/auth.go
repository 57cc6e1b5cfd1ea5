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

// caller is who made a request: the operator (admin token) or a tenant.
type caller struct {
	admin    bool
	tenantID string
}

var errUnauthenticated = hookrun.Errorf(hookrun.CodeUnauthenticated,
	"missing or invalid credentials: send \"Authorization: Bearer <admin token or tenant API key>\"")

// authenticate identifies the caller. Every failure looks the same to the
// client, so it cannot tell an unknown key from a revoked one.
func (s *Service) authenticate(r *http.Request) (caller, error) {
	// The auth scheme is case-insensitive (RFC 9110, section 11.1).
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, errUnauthenticated
	}
	if s.isAdmin(token) {
		httpapi.AddLogAttrs(r.Context(), slog.String("caller", "admin"))
		return caller{admin: true}, nil
	}
	if !hookrun.LooksLikeAPIKey(token) {
		return caller{}, errUnauthenticated
	}
	hash := hookrun.HashAPIKey(token)
	tenantID, err := s.keys.Get(r.Context(), hash, func(ctx context.Context) (string, error) {
		return s.store.TenantForKey(ctx, hash)
	})
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return caller{}, errUnauthenticated
	}
	if err != nil {
		return caller{}, err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("caller", "tenant"))
	return caller{tenantID: tenantID}, nil
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
