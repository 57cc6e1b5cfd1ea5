package ingest

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The portal's Sources page: the tenant's source bindings. Its actions
// call what the API's handlers call (addSourceBinding,
// removeSourceBinding), so one tenant per source and the bound per tenant
// hold here unchanged.

// sourcesView is the Sources page's data.
type sourcesView struct {
	Title    string
	Tenant   hookrun.Tenant
	CSRF     string
	Bindings []hookrun.SourceBinding
	// Created is the binding just created; Delete the one whose deletion
	// waits for confirmation.
	Created, Delete *hookrun.SourceBinding
	// Error is why the last action failed; Form what it was given.
	Error string
	Form  sourceForm
}

// sourceForm is the create form as typed: the kind of match chosen and
// the fields of every kind (only the chosen kind's are read).
type sourceForm struct {
	Kind, Bucket, Source, Type, TypePrefix, ServiceName, MethodName, Rule, EventType string
}

// readSourceForm reads the create form of r.
func readSourceForm(r *http.Request) sourceForm {
	v := r.PostFormValue
	return sourceForm{
		Kind: v("kind"), Bucket: v("bucket"), Source: v("source"), Type: v("type"), TypePrefix: v("type_prefix"),
		ServiceName: v("service_name"), MethodName: v("method_name"), Rule: v("event_type_rule"), EventType: v("event_type"),
	}
}

// request is the API request the form stands for; an unknown kind makes
// a match of nothing, which NewSourceBinding refuses.
func (f sourceForm) request() createSourceBindingRequest {
	req := createSourceBindingRequest{TypeRule: hookrun.EventTypeRule(f.Rule), EventType: f.EventType}
	switch f.Kind {
	case "storage":
		req.Match.Storage = &hookrun.StorageMatch{Bucket: f.Bucket}
	case "cloudevents":
		req.Match.CloudEvents = &hookrun.CloudEventsMatch{Source: f.Source, Type: f.Type, TypePrefix: f.TypePrefix}
	case "audit_log":
		req.Match.AuditLog = &hookrun.AuditLogMatch{ServiceName: f.ServiceName, MethodName: f.MethodName}
	}
	return req
}

// renderSources renders the page with the tenant's bindings, oldest first.
func (s *Service) renderSources(w http.ResponseWriter, r *http.Request, pr portalRequest, status int, v sourcesView) error {
	bs, err := s.store.ListSourceBindings(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	v.Title, v.Tenant, v.CSRF, v.Bindings = "Sources", pr.tenant, pr.csrf, bs
	if v.Form.Kind == "" {
		v.Form.Kind = "storage"
	}
	s.renderPortal(w, r, status, "sources", v)
	return nil
}

// portalSources handles GET /portal/tenants/{tenant}/source-bindings.
func (s *Service) portalSources(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	return s.renderSources(w, r, pr, http.StatusOK, sourcesView{})
}

// portalCreateSource handles the create form; a refusal shows the form
// again with the reason and what was typed.
func (s *Service) portalCreateSource(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	f := readSourceForm(r)
	b, err := s.addSourceBinding(r.Context(), t, f.request())
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		return s.renderSources(w, r, pr, status, sourcesView{Error: hookrun.ErrorMessage(err), Form: f})
	}
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("source_binding_id", b.ID))
	return s.renderSources(w, r, pr, http.StatusCreated, sourcesView{Created: &b})
}

// portalConfirmDeleteSource handles GET …/source-bindings/{binding}/delete:
// the page asks before the source's events stop reaching the tenant.
func (s *Service) portalConfirmDeleteSource(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	bs, err := s.store.ListSourceBindings(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(bs, func(b hookrun.SourceBinding) bool { return b.ID == r.PathValue("binding") })
	if i < 0 {
		return sourceBindingNotFound(r.PathValue("binding"))
	}
	return s.renderSources(w, r, pr, http.StatusOK, sourcesView{Delete: &bs[i]})
}

// portalDeleteSource handles the confirmed deletion, then shows the list
// again (a redirect, so reloading does not post twice).
func (s *Service) portalDeleteSource(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	if err := s.removeSourceBinding(r.Context(), t, r.PathValue("binding")); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/tenants/"+t.ID+"/source-bindings", http.StatusSeeOther)
	return nil
}
