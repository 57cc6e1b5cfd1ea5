package ingest

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The portal's API keys and Event types pages. Their actions call what the
// API's handlers call (newAPIKey, revokeKey, setCatalogue), so the rules
// (at most MaxActiveAPIKeys, a catalogue every endpoint still fits) hold
// here unchanged.

// apiKeysView is the API keys page's data.
type apiKeysView struct {
	Title  string
	Tenant hookrun.Tenant
	CSRF   string
	Keys   []apiKeyRow
	// Created is the key just created, shown once.
	Created *createAPIKeyResponse
	// Revoke is the key whose revocation waits for confirmation.
	Revoke *apiKeyRow
	// Error is why the last action failed; Name is the name it was given.
	Error, Name string
}

// apiKeyRow is a key as the page lists it.
type apiKeyRow struct {
	hookrun.APIKey
	Created, RevokedAt time.Time
}

// renderAPIKeys renders the page with the tenant's keys, newest first.
func (s *Service) renderAPIKeys(w http.ResponseWriter, r *http.Request, pr portalRequest, status int, v apiKeysView) error {
	ks, err := s.store.ListAPIKeys(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	slices.Reverse(ks)
	for _, k := range ks {
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, Created: k.CreatedAt, RevokedAt: k.RevokedAt})
	}
	v.Title, v.Tenant, v.CSRF = "API keys", pr.tenant, pr.csrf
	s.renderPortal(w, r, status, "apikeys", v)
	return nil
}

// portalAPIKeys handles GET /portal/tenants/{tenant}/api-keys.
func (s *Service) portalAPIKeys(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	return s.renderAPIKeys(w, r, pr, http.StatusOK, apiKeysView{})
}

// portalCreateAPIKey handles the create form. The answer is the page
// itself rather than a redirect: it shows the key once and keeps it out of
// any URL.
func (s *Service) portalCreateAPIKey(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	name := r.PostFormValue("name")
	created, err := s.newAPIKey(r.Context(), t, name)
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		return s.renderAPIKeys(w, r, pr, status, apiKeysView{Error: hookrun.ErrorMessage(err), Name: name})
	}
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("api_key_id", created.ID))
	return s.renderAPIKeys(w, r, pr, http.StatusCreated, apiKeysView{Created: &created})
}

// portalConfirmRevoke handles GET …/api-keys/{key}/revoke: the page asks
// before a key stops working, with a second form to post.
func (s *Service) portalConfirmRevoke(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	ks, err := s.store.ListAPIKeys(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ks, func(k hookrun.APIKey) bool { return k.ID == r.PathValue("key") })
	if i < 0 {
		return hookrun.Errorf(hookrun.CodeNotFound, "api key %q not found", r.PathValue("key"))
	}
	return s.renderAPIKeys(w, r, pr, http.StatusOK, apiKeysView{Revoke: &apiKeyRow{APIKey: ks[i], Created: ks[i].CreatedAt}})
}

// portalRevokeAPIKey handles the confirmed revocation, then shows the list
// again (a redirect, so reloading does not post twice).
func (s *Service) portalRevokeAPIKey(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	k, err := s.revokeKey(r.Context(), t, r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("api_key_id", k.ID))
	http.Redirect(w, r, "/portal/tenants/"+t.ID+"/api-keys", http.StatusSeeOther)
	return nil
}

// catalogueView is the Event types page's data.
type catalogueView struct {
	Title  string
	Tenant hookrun.Tenant
	CSRF   string
	// Types is the catalogue as the textarea holds it, one type a line.
	Types string
	// Saved says the catalogue was just saved; Error why it was refused.
	Saved bool
	Error string
}

// portalCatalogue handles GET /portal/tenants/{tenant}/event-types.
func (s *Service) portalCatalogue(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	c, err := s.store.GetCatalogue(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	s.renderPortal(w, r, http.StatusOK, "eventtypes", catalogueView{Title: "Event types", Tenant: pr.tenant, CSRF: pr.csrf, Types: strings.Join(c, "\n")})
	return nil
}

// portalSetCatalogue handles the Event types form: the whole catalogue,
// one type a line (or separated by commas or spaces). A refusal shows the
// form again with the reason and what was typed.
func (s *Service) portalSetCatalogue(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	typed := r.PostFormValue("event_types")
	v := catalogueView{Title: "Event types", Tenant: pr.tenant, CSRF: pr.csrf, Types: typed}
	c, err := s.setCatalogue(r.Context(), t, splitTypes(typed))
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		v.Error = hookrun.ErrorMessage(err)
		s.renderPortal(w, r, status, "eventtypes", v)
		return nil
	}
	if err != nil {
		return err
	}
	v.Types, v.Saved = strings.Join(c, "\n"), true
	s.renderPortal(w, r, http.StatusOK, "eventtypes", v)
	return nil
}
