package ingest

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func (s *Service) tenantRoutes() []route {
	return []route{
		{"POST /v1/tenants", s.createTenant},
	}
}

// TenantStore keeps tenants and their API keys.
type TenantStore interface {
	// CreateTenant stores t and its first API key hash together, or neither.
	CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error
	GetTenant(ctx context.Context, id string) (hookrun.Tenant, error)
	// TenantForKey returns the tenant an API key hash belongs to.
	TenantForKey(ctx context.Context, keyHash string) (string, error)
}

type createTenantRequest struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	RetryPolicy hookrun.RetryPolicy `json:"retry_policy"`
}

type createTenantResponse struct {
	hookrun.Tenant
	// APIKey is shown once: only its hash is stored.
	APIKey string `json:"api_key"`
}

func (s *Service) createTenant(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if !c.admin {
		return hookrun.Errorf(hookrun.CodePermissionDenied, "only the admin token may create tenants")
	}
	var req createTenantRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	t, err := hookrun.NewTenant(req.ID, req.Name, s.now())
	if err != nil {
		return err
	}
	if err := req.RetryPolicy.Validate(); err != nil {
		return err
	}
	t.RetryPolicy = req.RetryPolicy
	key, hash := hookrun.NewAPIKey()
	if err := s.store.CreateTenant(r.Context(), t, hash); err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", t.ID))
	httpapi.WriteJSON(w, http.StatusCreated, createTenantResponse{Tenant: t, APIKey: key})
	return nil
}

// tenant returns an active tenant's record, cached briefly.
func (s *Service) tenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	return s.tenants.Get(ctx, id, func(ctx context.Context) (hookrun.Tenant, error) {
		return s.store.GetTenant(ctx, id)
	})
}
