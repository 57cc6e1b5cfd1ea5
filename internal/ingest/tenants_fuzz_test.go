package ingest_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
)

// tenantBodySeeds are create and patch bodies of tenants, both kinds in
// both targets: a field of one is a mistake in the other.
var tenantBodySeeds = []string{
	`{"id":"acme","name":"Acme Corp"}`,
	`{"id":"globex-2","name":"  Globex  ","retry_policy":{"initial_delay":"30s","multiplier":2,"max_delay":"1h","max_attempts":5,"jitter":0.1},"limits":{"max_endpoints":10,"max_events_per_second":100}}`,
	`{"id":"a","name":"x"}`,
	`{"id":"Acme","name":"x"}`,
	`{"id":"acme-","name":"x"}`,
	`{"id":"acme","name":""}`,
	`{"id":"acme","name":"   "}`,
	`{"id":"acme","name":"` + strings.Repeat("é", 201) + `"}`,
	`{"id":"acme","name":"x","retry_policy":{"initial_delay":"1ms"}}`,
	`{"id":"acme","name":"x","retry_policy":{"initial_delay":5}}`,
	`{"id":"acme","name":"x","retry_policy":{"max_delay":"-2562047h47m16.854775808s"}}`,
	`{"id":"acme","name":"x","limits":{"max_endpoints":-1}}`,
	`{"id":"acme","name":"x","limits":{"rps":1}}`,
	`{"id":"acme","name":"x","status":"disabled"}`,
	`{"name":"Acme Inc."}`,
	`{"status":"disabled","disabled_reason":"unpaid invoices"}`,
	`{"status":"active"}`,
	`{"status":"deleting"}`,
	`{"disabled_reason":"x"}`,
	`{"limits":{"max_events_per_second":100001}}`,
	`{"retry_policy":{}}`,
	`{"name":null}`,
	`{}`, `[]`, `null`, ``, `{"name":"x"}{}`,
}

// FuzzCreateTenant feeds POST /v1/tenants any body, with the admin token.
// The answer is 201, 400 or 413; a tenant is stored only with a 201, and
// then under the domain's rules, its name valid UTF-8 without NUL, CR or
// LF.
func FuzzCreateTenant(f *testing.F) {
	for _, s := range tenantBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		w := e.send(http.MethodPost, "/v1/tenants", adminToken, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		if w.Code != http.StatusCreated {
			if n := e.store.tenantCount(); n != 0 {
				t.Fatalf("answered %d but stored %d tenants", w.Code, n)
			}
			return
		}
		created := decode[struct {
			ID     string `json:"id"`
			APIKey string `json:"api_key"`
		}](t, w)
		checkTenant(t, e.storedTenant(t, created.ID))
		if created.APIKey == "" {
			t.Fatalf("201 without the tenant's API key: %s", w.Body)
		}
	})
}

// FuzzPatchTenant feeds PATCH /v1/tenants/{tenant} any body, with the
// admin token or the tenant's own key. The answer is 200, 400, 403 or
// 413; what a 200 stores keeps the domain's rules, its name valid UTF-8
// without NUL, CR or LF; any other answer changes nothing.
func FuzzPatchTenant(f *testing.F) {
	for _, s := range tenantBodySeeds {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, admin bool, body []byte) {
		e := newFuzzEnv(t)
		token := e.createTenant(t, "acme")
		if admin {
			token = adminToken
		}
		before := e.storedTenant(t, "acme")
		w := e.send(http.MethodPatch, "/v1/tenants/acme", token, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge)
		after := e.storedTenant(t, "acme")
		if w.Code != http.StatusOK {
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("answered %d but the tenant changed from %+v to %+v", w.Code, before, after)
			}
			return
		}
		checkTenant(t, after)
		if w.Code == http.StatusOK && !admin && (after.Status != before.Status || after.Limits != before.Limits) {
			t.Fatalf("the tenant's own key changed its status or limits: %+v → %+v", before, after)
		}
	})
}
