package ingest

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// A tenant's API keys live under /v1/tenants/{tenant}/api-keys (routes in
// tenantRoutes). The admin token and the tenant's own keys may create,
// list and revoke them. A key is shown once, at creation; afterwards only
// its ID, name, the 8 characters after "hkr_" and its last 4 are.

type createAPIKeyRequest struct {
	Name string `json:"name"`
}

type createAPIKeyResponse struct {
	hookrun.APIKey
	// Key is shown once: only its hash is stored.
	Key string `json:"api_key"`
}

// createAPIKey handles POST /v1/tenants/{tenant}/api-keys with an optional
// body {"name"}.
func (s *Service) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req createAPIKeyRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	created, err := s.newAPIKey(r.Context(), t, req.Name)
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("api_key_id", created.ID))
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

// newAPIKey creates an API key of tenant t named name, for the API and the
// portal alike, and returns it with the key, shown this once.
func (s *Service) newAPIKey(ctx context.Context, t hookrun.Tenant, name string) (createAPIKeyResponse, error) {
	key, k, err := hookrun.NewTenantAPIKey(t.ID, name, s.now())
	if err != nil {
		return createAPIKeyResponse{}, err
	}
	// The bound keeps a tenant's key list short enough to list at once.
	// Two concurrent requests may both pass it; that is harmless.
	ks, err := s.store.ListAPIKeys(ctx, t.ID)
	if err != nil {
		return createAPIKeyResponse{}, err
	}
	active := 0
	for _, k := range ks {
		if !k.Revoked {
			active++
		}
	}
	if active >= hookrun.MaxActiveAPIKeys {
		return createAPIKeyResponse{}, hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q already has %d active API keys, the most allowed: revoke one first", t.ID, active)
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return createAPIKeyResponse{}, err
	}
	return createAPIKeyResponse{APIKey: k, Key: key}, nil
}

type listAPIKeysResponse struct {
	APIKeys []hookrun.APIKey `json:"api_keys"`
}

// listAPIKeys handles GET /v1/tenants/{tenant}/api-keys: every key, revoked
// ones included, oldest first, without the key or its hash.
func (s *Service) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	ks, err := s.store.ListAPIKeys(r.Context(), t.ID)
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []hookrun.APIKey{}
	}
	httpapi.WriteJSON(w, http.StatusOK, listAPIKeysResponse{APIKeys: ks})
	return nil
}

// revokeAPIKey handles DELETE /v1/tenants/{tenant}/api-keys/{key}, {key}
// being the key's ID. A revoked key authenticates nothing: the answer is
// the same 401 as for an unknown key. This instance forgets the key at
// once; other instances may still accept it for up to KeyCacheTTL (10 s by
// default), the time they cache a key's lookup. Revoking a revoked key
// succeeds again.
func (s *Service) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	k, err := s.revokeKey(r.Context(), t, r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("api_key_id", k.ID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeKey revokes the API key id of tenant t, for the API and the
// portal alike, and forgets it in this instance's cache at once.
func (s *Service) revokeKey(ctx context.Context, t hookrun.Tenant, id string) (hookrun.APIKey, error) {
	if !hookrun.ValidAPIKeyID(id) {
		return hookrun.APIKey{}, hookrun.Errorf(hookrun.CodeNotFound, "api key %q not found: key ids look like key_…", id)
	}
	k, err := s.store.RevokeAPIKey(ctx, t.ID, id, s.now())
	if err != nil {
		return hookrun.APIKey{}, err
	}
	s.keys.Delete(k.Hash)
	return k, nil
}
