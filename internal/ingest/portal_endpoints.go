package ingest

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The portal's Endpoints page: the list with each endpoint's status and
// why, a form to create one and a button to disable or enable each. The
// actions call what the API's handlers call (addEndpoint, changeEndpoint),
// so the endpoint rules (hookrun.Endpoint.Apply) hold here unchanged.

// endpointsView is the Endpoints page's data.
type endpointsView struct {
	Title     string
	Tenant    hookrun.Tenant
	CSRF      string
	Endpoints []hookrun.Endpoint
	// Catalogue is the tenant's event types, offered as checkboxes.
	Catalogue []string
	Form      endpointForm
	// Error is why the last action failed, shown above the form.
	Error string
	// Created is the endpoint just created, with its secret shown once.
	Created *createEndpointResponse
}

// endpointForm is the create or edit form as posted, to show it again
// after a refusal.
type endpointForm struct {
	URL, Description, Patterns string
	Types                      []string
	// Timeout and RateLimit are on the edit form only.
	Timeout, RateLimit string
}

// Selected reports whether the form picked the catalogue's type t.
func (f endpointForm) Selected(t string) bool { return slices.Contains(f.Types, t) }

// eventTypes is what the form subscribes to: the types picked and the
// patterns typed (comma- or space-separated). The endpoint rules refuse
// none, saying to use "*" for every type.
func (f endpointForm) eventTypes() []string {
	types := slices.Clone(f.Types)
	return append(types, splitTypes(f.Patterns)...)
}

// splitTypes splits the event types or patterns typed into a form field,
// separated by commas, spaces or lines.
func splitTypes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// renderEndpoints renders the page with the tenant's current endpoints.
func (s *Service) renderEndpoints(w http.ResponseWriter, r *http.Request, pr portalRequest, status int, v endpointsView) error {
	eps, err := s.store.ListEndpoints(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	cat, err := s.catalogue(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	v.Title, v.Tenant, v.CSRF, v.Endpoints, v.Catalogue = "Endpoints", pr.tenant, pr.csrf, eps, cat
	s.renderPortal(w, r, status, "endpoints", v)
	return nil
}

// portalEndpoints handles GET /portal/tenants/{tenant}/endpoints.
func (s *Service) portalEndpoints(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	return s.renderEndpoints(w, r, pr, http.StatusOK, endpointsView{})
}

// portalCreateEndpoint handles the create form. The answer is the page
// itself rather than a redirect: it shows the new signing secret once and
// keeps it out of any URL. A refusal the user can fix (a bad URL, an
// unknown type) shows the form again with the reason.
func (s *Service) portalCreateEndpoint(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	f := endpointForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: r.PostFormValue("description"),
		Patterns: r.PostFormValue("patterns"), Types: r.PostForm["event_type"]}
	created, err := s.addEndpoint(r.Context(), t, createEndpointRequest{URL: f.URL, Description: f.Description, EventTypes: f.eventTypes()})
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		return s.renderEndpoints(w, r, pr, status, endpointsView{Form: f, Error: hookrun.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("endpoint_id", created.ID))
	return s.renderEndpoints(w, r, pr, http.StatusCreated, endpointsView{Created: &created})
}

// portalSetEnabled handles the Disable and Enable buttons, then shows the
// list again (a redirect, so reloading does not post twice).
func (s *Service) portalSetEnabled(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	enabled := r.PostFormValue("enabled") == "true"
	_, err = s.changeEndpoint(r.Context(), t, r.PathValue("endpoint"), patchEndpointRequest{EndpointUpdate: hookrun.EndpointUpdate{Enabled: &enabled}}, "the tenant in the portal")
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/tenants/"+t.ID+"/endpoints", http.StatusSeeOther)
	return nil
}
