package ingest_test

import (
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func TestEventCatalogue(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	ep := e.createEndpoint(t, "acme", key, "https://a.example/h") // user.*

	// A catalogue the existing endpoint would not match is refused.
	w := e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", key, `{"event_types":["invoice.paid"]}`)
	wantError(t, w, httpapi.Status(hookrun.CodeFailedPrecondition), hookrun.CodeFailedPrecondition, ep.ID)

	w = e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", key, `{"event_types":["user.created","invoice.paid","user.created"]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("put catalogue: %d %s", w.Code, w.Body)
	}
	got := decode[struct {
		EventTypes []string `json:"event_types"`
	}](t, e.do(t, http.MethodGet, "/v1/tenants/acme/event-types", key, ""))
	if len(got.EventTypes) != 2 {
		t.Errorf("catalogue = %v, want 2 types", got.EventTypes)
	}

	// Events of unknown types are refused; known ones accepted.
	wantError(t, e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.deleted","data":{}}`),
		http.StatusBadRequest, hookrun.CodeInvalidArgument, "catalogue")
	if w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`); w.Code != http.StatusAccepted {
		t.Errorf("known type: %d %s", w.Code, w.Body)
	}
	// Endpoints may only subscribe to patterns matching the catalogue.
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://b.example/h","event_types":["order.*"]}`),
		http.StatusBadRequest, hookrun.CodeInvalidArgument, "order.*")
	wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+ep.ID, key, `{"event_types":["order.*"]}`),
		http.StatusBadRequest, hookrun.CodeInvalidArgument, "order.*")
	wantError(t, e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", key, `{"event_types":["Bad Type"]}`),
		http.StatusBadRequest, hookrun.CodeInvalidArgument, "event_types")

	// An empty list removes the catalogue.
	e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", key, `{"event_types":[]}`)
	if w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"order.shipped","data":{}}`); w.Code != http.StatusAccepted {
		t.Errorf("after removing the catalogue: %d %s", w.Code, w.Body)
	}
}
