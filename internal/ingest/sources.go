package ingest

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// A tenant's source bindings (hookrun.SourceBinding) route the messages
// Google services and CloudEvents publishers put on the events topic to
// it. The dispatcher reads them, cached for its endpoint cache's TTL, so
// a change takes effect within HOOKRUN_ENDPOINT_CACHE_TTL (10 s by
// default) without a redeploy.
func (s *Service) sourceBindingRoutes() []route {
	return []route{
		{"POST /v1/tenants/{tenant}/source-bindings", s.createSourceBinding},
		{"GET /v1/tenants/{tenant}/source-bindings", s.listSourceBindings},
		{"GET /v1/tenants/{tenant}/source-bindings/{binding}", s.getSourceBinding},
		{"DELETE /v1/tenants/{tenant}/source-bindings/{binding}", s.deleteSourceBinding},
	}
}

// SourceBindingStore keeps tenants' source bindings.
type SourceBindingStore interface {
	// CreateSourceBinding stores b, atomically refusing what
	// hookrun.CheckNewSourceBinding refuses beside the bindings that
	// hold b's claim (CodeAlreadyExists).
	CreateSourceBinding(ctx context.Context, b hookrun.SourceBinding) error
	// ListSourceBindings returns a tenant's bindings, oldest first.
	ListSourceBindings(ctx context.Context, tenantID string) ([]hookrun.SourceBinding, error)
	// DeleteSourceBinding deletes one of a tenant's bindings; one that is
	// not the tenant's is CodeNotFound.
	DeleteSourceBinding(ctx context.Context, tenantID, id string) error
}

type createSourceBindingRequest struct {
	Match     hookrun.SourceMatch   `json:"match"`
	TypeRule  hookrun.EventTypeRule `json:"event_type_rule"`
	EventType string                `json:"event_type"`
}

type listSourceBindingsResponse struct {
	SourceBindings []hookrun.SourceBinding `json:"source_bindings"`
}

// createSourceBinding handles POST /v1/tenants/{tenant}/source-bindings
// {"match": {…}, "event_type_rule", "event_type"}.
func (s *Service) createSourceBinding(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req createSourceBindingRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	b, err := s.addSourceBinding(r.Context(), t, req)
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("source_binding_id", b.ID))
	httpapi.WriteJSON(w, http.StatusCreated, b)
	return nil
}

// addSourceBinding creates a source binding of tenant t, for the API and
// the portal alike.
func (s *Service) addSourceBinding(ctx context.Context, t hookrun.Tenant, req createSourceBindingRequest) (hookrun.SourceBinding, error) {
	b, err := hookrun.NewSourceBinding(t.ID, req.Match, req.TypeRule, req.EventType, s.now())
	if err != nil {
		return hookrun.SourceBinding{}, err
	}
	// Two concurrent requests may both pass the bound; that is harmless.
	bs, err := s.store.ListSourceBindings(ctx, t.ID)
	if err != nil {
		return hookrun.SourceBinding{}, err
	}
	if len(bs) >= hookrun.MaxSourceBindings {
		return hookrun.SourceBinding{}, hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q already has %d source bindings, the most allowed: delete one first", t.ID, len(bs))
	}
	if err := s.store.CreateSourceBinding(ctx, b); err != nil {
		return hookrun.SourceBinding{}, err
	}
	return b, nil
}

// listSourceBindings handles GET /v1/tenants/{tenant}/source-bindings:
// every binding, oldest first (there are at most
// hookrun.MaxSourceBindings).
func (s *Service) listSourceBindings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	bs, err := s.store.ListSourceBindings(r.Context(), t.ID)
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []hookrun.SourceBinding{}
	}
	httpapi.WriteJSON(w, http.StatusOK, listSourceBindingsResponse{SourceBindings: bs})
	return nil
}

// getSourceBinding handles GET /v1/tenants/{tenant}/source-bindings/{binding}.
func (s *Service) getSourceBinding(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id := r.PathValue("binding")
	bs, err := s.store.ListSourceBindings(r.Context(), t.ID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.ID == id {
			httpapi.WriteJSON(w, http.StatusOK, b)
			return nil
		}
	}
	return sourceBindingNotFound(id)
}

// deleteSourceBinding handles DELETE
// /v1/tenants/{tenant}/source-bindings/{binding}. The dispatcher stops
// routing by it within its cache's TTL.
func (s *Service) deleteSourceBinding(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	if err := s.removeSourceBinding(r.Context(), t, r.PathValue("binding")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeSourceBinding deletes source binding id of tenant t, for the API
// and the portal alike.
func (s *Service) removeSourceBinding(ctx context.Context, t hookrun.Tenant, id string) error {
	if !hookrun.ValidSourceBindingID(id) {
		return sourceBindingNotFound(id)
	}
	httpapi.AddLogAttrs(ctx, slog.String("source_binding_id", id))
	return s.store.DeleteSourceBinding(ctx, t.ID, id)
}

func sourceBindingNotFound(id string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "source binding %q not found: source binding ids look like src_…", id)
}
