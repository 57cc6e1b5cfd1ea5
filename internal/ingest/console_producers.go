package ingest

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The console's Producer keys page: list, create (shown once), and
// revoke after a confirmation. Its actions call what the API's handlers
// call (newProducerKey, revokeProducer).

// producerKeysView is the Producer keys page's data.
type producerKeysView struct {
	consoleView
	Keys []hookrun.ProducerKey
	// Next is the next page's token ("" on the last page).
	Next string
	// Created is the key just created, shown once.
	Created *createProducerKeyResponse
	// Revoke is the key whose revocation waits for confirmation.
	Revoke *hookrun.ProducerKey
	// Name and Tenants are what the create form was given, kept on a
	// refusal.
	Name, Tenants string
}

// consoleProducerKeys handles GET /console/producer-keys?page_token=….
func (s *Service) consoleProducerKeys(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	return s.renderProducerKeys(w, r, cr, http.StatusOK, producerKeysView{})
}

func (s *Service) renderProducerKeys(w http.ResponseWriter, r *http.Request, cr consoleRequest, status int, v producerKeysView) error {
	ks, next, err := s.store.ListProducerKeys(r.Context(), consolePageSize, r.URL.Query().Get("page_token"))
	if err != nil {
		return err
	}
	v.Title, v.CSRF, v.Keys, v.Next = "Producer keys", cr.csrf, ks, next
	s.renderConsole(w, r, status, "producerkeys", v)
	return nil
}

// consoleCreateProducerKey handles the create form: a name, and the
// tenants separated by spaces or commas (none: every tenant). The answer
// is the page itself, so the key shows once and in no URL.
func (s *Service) consoleCreateProducerKey(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	name, tenants := r.PostFormValue("name"), r.PostFormValue("tenants")
	req := createProducerKeyRequest{Name: name}
	if fields := strings.FieldsFunc(tenants, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }); len(fields) > 0 {
		req.Tenants = fields
	}
	created, err := s.newProducerKey(r.Context(), req)
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		v := producerKeysView{Name: name, Tenants: tenants}
		v.Error = hookrun.ErrorMessage(err)
		return s.renderProducerKeys(w, r, cr, status, v)
	}
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("producer_key_id", created.ID))
	return s.renderProducerKeys(w, r, cr, http.StatusCreated, producerKeysView{Created: &created})
}

// consoleConfirmRevokeProducer handles GET
// /console/producer-keys/{key}/revoke: the page asks before a key stops
// working, with a second form to post.
func (s *Service) consoleConfirmRevokeProducer(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	k, err := s.producerKey(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	return s.renderProducerKeys(w, r, cr, http.StatusOK, producerKeysView{Revoke: &k})
}

// consoleRevokeProducer handles the confirmed revocation, then shows the
// list again (a redirect, so reloading does not post twice).
func (s *Service) consoleRevokeProducer(w http.ResponseWriter, r *http.Request, _ consoleRequest) error {
	k, err := s.revokeProducer(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("producer_key_id", k.ID))
	http.Redirect(w, r, "/console/producer-keys", http.StatusSeeOther)
	return nil
}
