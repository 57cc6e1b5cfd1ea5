package ingest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func TestSourceBindings(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.createTenant(t, "acme")
	globex := e.createTenant(t, "globex")
	const path = "/v1/tenants/acme/source-bindings"

	w := e.do(t, http.MethodPost, path, acme, `{"match":{"storage":{"bucket":"acme-uploads"}}}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	b := decode[hookrun.SourceBinding](t, w)
	if b.TenantID != "acme" || b.TypeRule != hookrun.TypeDerived || b.Match.Storage == nil || b.Match.Storage.Bucket != "acme-uploads" || !hookrun.ValidSourceBindingID(b.ID) {
		t.Errorf("created %+v, want acme's derived binding of acme-uploads", b)
	}
	w = e.do(t, http.MethodPost, path, adminToken, `{"match":{"cloudevents":{"source":"https://billing.example.com","type_prefix":"invoice."}},"event_type_rule":"fixed","event_type":"billing.invoice"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create with the admin token: %d %s", w.Code, w.Body)
	}

	list := decode[struct {
		SourceBindings []hookrun.SourceBinding `json:"source_bindings"`
	}](t, e.do(t, http.MethodGet, path, acme, ""))
	if len(list.SourceBindings) != 2 || list.SourceBindings[0].ID != b.ID {
		t.Errorf("list = %+v, want both, oldest first", list.SourceBindings)
	}
	if got := decode[hookrun.SourceBinding](t, e.do(t, http.MethodGet, path+"/"+b.ID, acme, "")); got.ID != b.ID {
		t.Errorf("get = %+v", got)
	}

	// One tenant cannot take another's bucket, nor learn whose it is.
	w = e.do(t, http.MethodPost, "/v1/tenants/globex/source-bindings", globex, `{"match":{"storage":{"bucket":"acme-uploads"}}}`)
	wantError(t, w, http.StatusConflict, hookrun.CodeAlreadyExists, "bound to another tenant")
	if strings.Contains(w.Body.String(), "acme\"") || strings.Contains(w.Body.String(), "acme ") {
		t.Errorf("the refusal names the other tenant: %s", w.Body)
	}
	wantError(t, e.do(t, http.MethodPost, path, acme, `{"match":{"storage":{"bucket":"acme-uploads"}},"event_type_rule":"fixed","event_type":"a.b"}`),
		http.StatusConflict, hookrun.CodeAlreadyExists, b.ID)
	// Nor read or delete it.
	wantError(t, e.do(t, http.MethodGet, path+"/"+b.ID, globex, ""), http.StatusForbidden, hookrun.CodePermissionDenied, "")
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/globex/source-bindings/"+b.ID, globex, ""), http.StatusNotFound, hookrun.CodeNotFound, b.ID)
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/globex/source-bindings/"+b.ID, globex, ""), http.StatusNotFound, hookrun.CodeNotFound, b.ID)

	for _, bad := range []struct{ body, msg string }{
		{`{}`, "exactly one"},
		{`{"match":{"storage":{"bucket":"Acme"}}}`, "bucket name"},
		{`{"match":{"storage":{"bucket":"acme-x"}},"event_type_rule":"fixed"}`, "event_type"},
		{`{"match":{"storage":{"bucket":"acme-x"},"audit_log":{"service_name":"a.com"}}}`, "exactly one"},
		{`{"match":{"storage":{"bucket":"acme-x","prefix":"a/"}}}`, "prefix"},
	} {
		wantError(t, e.do(t, http.MethodPost, path, acme, bad.body), http.StatusBadRequest, hookrun.CodeInvalidArgument, bad.msg)
	}
	wantError(t, e.do(t, http.MethodDelete, path+"/nope", acme, ""), http.StatusNotFound, hookrun.CodeNotFound, "src_")

	if w := e.do(t, http.MethodDelete, path+"/"+b.ID, acme, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	wantError(t, e.do(t, http.MethodGet, path+"/"+b.ID, acme, ""), http.StatusNotFound, hookrun.CodeNotFound, b.ID)
	// The freed bucket is anyone's.
	if w := e.do(t, http.MethodPost, "/v1/tenants/globex/source-bindings", globex, `{"match":{"storage":{"bucket":"acme-uploads"}}}`); w.Code != http.StatusCreated {
		t.Errorf("bind the freed bucket: %d %s", w.Code, w.Body)
	}
}

func TestSourceBindingsAreBounded(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	for i := range hookrun.MaxSourceBindings {
		body := fmt.Sprintf(`{"match":{"storage":{"bucket":"acme-%d"}}}`, i)
		if w := e.do(t, http.MethodPost, "/v1/tenants/acme/source-bindings", key, body); w.Code != http.StatusCreated {
			t.Fatalf("binding %d: %d %s", i, w.Code, w.Body)
		}
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/source-bindings", key, `{"match":{"storage":{"bucket":"acme-more"}}}`),
		httpapi.Status(hookrun.CodeFailedPrecondition), hookrun.CodeFailedPrecondition, "delete one first")
}
