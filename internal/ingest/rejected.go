package ingest

import (
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

type rejectedResponse struct {
	RejectedMessages []hookrun.RejectedMessage `json:"rejected_messages"`
	NextPageToken    string                    `json:"next_page_token,omitempty"`
}

// listRejected handles GET /v1/rejected-messages (admin; ?tenant_id=
// narrows it) and GET /v1/tenants/{tenant}/rejected-messages: messages on
// the events topic that could not become events, or that the dispatcher
// could not process at all, each with its reason.
func (s *Service) listRejected(w http.ResponseWriter, r *http.Request) error {
	tenantID := r.PathValue("tenant")
	if tenantID != "" {
		if _, err := s.tenantRoute(r); err != nil {
			return err
		}
	} else {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if !c.admin {
			return hookrun.Errorf(hookrun.CodePermissionDenied, "only the admin token may list every tenant's rejected messages; use /v1/tenants/{tenant}/rejected-messages")
		}
		tenantID = r.URL.Query().Get("tenant_id")
	}
	size, err := pageSize(r.URL.Query().Get("page_size"))
	if err != nil {
		return err
	}
	ms, next, err := s.store.ListRejected(r.Context(), tenantID, size, r.URL.Query().Get("page_token"))
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []hookrun.RejectedMessage{}
	}
	httpapi.WriteJSON(w, http.StatusOK, rejectedResponse{RejectedMessages: ms, NextPageToken: next})
	return nil
}
