package ingest

import (
	"context"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func (s *Service) catalogueRoutes() []route {
	return []route{
		{"GET /v1/tenants/{tenant}/event-types", s.getCatalogue},
		{"PUT /v1/tenants/{tenant}/event-types", s.putCatalogue},
	}
}

// CatalogueStore keeps tenants' event-type catalogues.
type CatalogueStore interface {
	// GetCatalogue returns a tenant's catalogue; none is empty.
	GetCatalogue(ctx context.Context, tenantID string) (hookrun.Catalogue, error)
	// SetCatalogue replaces it; an empty one removes it.
	SetCatalogue(ctx context.Context, tenantID string, c hookrun.Catalogue) error
}

type catalogueJSON struct {
	EventTypes []string `json:"event_types"`
}

// catalogue returns a tenant's catalogue, cached like the tenant: a change
// reaches every ingest instance within KeyCacheTTL.
func (s *Service) catalogue(ctx context.Context, tenantID string) (hookrun.Catalogue, error) {
	return s.catalogues.Get(ctx, tenantID, func(ctx context.Context) (hookrun.Catalogue, error) {
		return s.store.GetCatalogue(ctx, tenantID)
	})
}

func (s *Service) getCatalogue(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	c, err := s.store.GetCatalogue(r.Context(), t.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, catalogueJSON{EventTypes: append([]string{}, c...)})
	return nil
}

// putCatalogue handles PUT …/event-types {"event_types": [...]}: the
// tenant's catalogue, or none with an empty list (setCatalogue).
func (s *Service) putCatalogue(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req catalogueJSON
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	c, err := s.setCatalogue(r.Context(), t, req.EventTypes)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, catalogueJSON{EventTypes: append([]string{}, c...)})
	return nil
}

// setCatalogue replaces tenant t's catalogue with types (none: no
// catalogue), for the API and the portal alike. It is refused while an
// endpoint subscribes to a pattern the new catalogue would not match.
func (s *Service) setCatalogue(ctx context.Context, t hookrun.Tenant, types []string) (hookrun.Catalogue, error) {
	c, err := hookrun.NewCatalogue(types)
	if err != nil {
		return nil, err
	}
	eps, err := s.store.ListEndpoints(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, ep := range eps {
		ps, err := hookrun.ParsePatterns(ep.EventTypes)
		if err != nil {
			return nil, err
		}
		if err := c.CheckPatterns(ps); err != nil {
			return nil, hookrun.Errorf(hookrun.CodeFailedPrecondition, "endpoint %s: %s; change the endpoint first", ep.ID, hookrun.ErrorMessage(err))
		}
	}
	if err := s.store.SetCatalogue(ctx, t.ID, c); err != nil {
		return nil, err
	}
	s.catalogues.Delete(t.ID)
	return c, nil
}

// checkSubscription refuses endpoint patterns outside the tenant's
// catalogue.
func (s *Service) checkSubscription(ctx context.Context, tenantID string, eventTypes []string) error {
	c, err := s.catalogue(ctx, tenantID)
	if err != nil || len(c) == 0 {
		return err
	}
	ps, err := hookrun.ParsePatterns(eventTypes)
	if err != nil {
		return err
	}
	return c.CheckPatterns(ps)
}
