package ingest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
)

// FuzzPutCatalogue feeds PUT /v1/tenants/{tenant}/event-types any body,
// for a tenant with an endpoint subscribed to "user.*". The answer is 200,
// 400 or 413; a 200 stores the types sorted, without duplicates, each a
// valid event type, with one the endpoint's pattern matches (or none at
// all); any other answer stores nothing.
func FuzzPutCatalogue(f *testing.F) {
	for _, s := range []string{
		`{"event_types":["user.created","invoice.paid","user.created"]}`,
		`{"event_types":[]}`,
		`{"event_types":["invoice.paid"]}`,
		`{"event_types":["User.Created"]}`,
		`{"event_types":["user.` + strings.Repeat("x", 124) + `"]}`,
		`{"event_types":null}`,
		`{"event_types":"user.created"}`,
		`{"event_types":["user.created",1]}`,
		`{"types":["user.created"]}`,
		`{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		e.createEndpoint(t, "acme", key, "https://example.com/webhooks") // subscribed to "user.*"
		w := e.send(http.MethodPut, "/v1/tenants/acme/event-types", key, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		c, err := e.store.GetCatalogue(t.Context(), "acme")
		if err != nil {
			t.Fatalf("GetCatalogue: %v", err)
		}
		if w.Code != http.StatusOK {
			if c != nil {
				t.Fatalf("answered %d but stored the catalogue %q", w.Code, c)
			}
			return
		}
		if !slices.IsSorted(c) || len(slices.Compact(slices.Clone(c))) != len(c) {
			t.Fatalf("stored catalogue %q: want it sorted without duplicates", c)
		}
		for _, typ := range c {
			if err := hookrun.ValidateEventType(typ); err != nil {
				t.Fatalf("stored catalogue type %q: %v", typ, err)
			}
		}
		if got := decode[struct {
			EventTypes []string `json:"event_types"`
		}](t, w).EventTypes; !slices.Equal(got, c) {
			t.Fatalf("answered %q, stored %q", got, c)
		}
		if p, _ := hookrun.ParsePattern("user.*"); len(c) > 0 && !slices.ContainsFunc(c, p.Match) {
			t.Fatalf("stored catalogue %q, of which the endpoint's user.* matches nothing", c)
		}
	})
}
