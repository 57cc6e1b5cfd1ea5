package ingest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func TestCreateTenant(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"  Acme Inc. "}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
	}
	got := decode[struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
		APIKey string `json:"api_key"`
	}](t, w)
	if got.ID != "acme" || got.Name != "Acme Inc." || got.Status != "active" {
		t.Errorf("tenant = %+v, want id acme, name %q, status active", got, "Acme Inc.")
	}
	if !hookrun.LooksLikeAPIKey(got.APIKey) {
		t.Fatalf("api_key = %q, want a hkr_ key", got.APIKey)
	}

	// The store holds the hash, never the key.
	owner, err := e.store.TenantForKey(t.Context(), hookrun.HashAPIKey(got.APIKey))
	_, rawErr := e.store.TenantForKey(t.Context(), got.APIKey)
	rawStored := rawErr == nil
	if err != nil || owner != "acme" {
		t.Errorf("store has key hash → %q (%v), want acme", owner, err)
	}
	if rawStored {
		t.Error("store holds the raw API key, want only its hash")
	}

	// The key works for the tenant's own routes.
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", got.APIKey, ""); w.Code != http.StatusOK {
		t.Errorf("list endpoints with the new key: %d %s, want 200", w.Code, w.Body)
	}
	// Every tenant gets its own key.
	if other := e.createTenant(t, "globex"); other == got.APIKey {
		t.Error("two tenants got the same API key")
	}
}

func TestCreateTenantRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	tests := []struct {
		name   string
		token  string
		body   string
		status int
		code   hookrun.Code
		msg    string
	}{
		{"tenant key", key, `{"id":"globex","name":"Globex"}`, 403, hookrun.CodePermissionDenied, "admin"},
		{"no credentials", "", `{"id":"globex","name":"Globex"}`, 401, hookrun.CodeUnauthenticated, "credentials"},
		{"duplicate id", adminToken, `{"id":"acme","name":"Acme again"}`, 409, hookrun.CodeAlreadyExists, "acme"},
		{"invalid id", adminToken, `{"id":"Globex!","name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"id too short", adminToken, `{"id":"gx","name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"missing id", adminToken, `{"name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"id of wrong type", adminToken, `{"id":7,"name":"Globex"}`, 400, hookrun.CodeInvalidArgument, "id:"},
		{"missing name", adminToken, `{"id":"globex"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"blank name", adminToken, `{"id":"globex","name":"   "}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"name too long", adminToken, `{"id":"globex","name":"` + strings.Repeat("n", 201) + `"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"unknown field", adminToken, `{"id":"globex","name":"Globex","plan":"pro"}`, 400, hookrun.CodeInvalidArgument, "plan"},
		{"malformed JSON", adminToken, `{"id":"globex",`, 400, hookrun.CodeInvalidArgument, "JSON"},
		{"empty body", adminToken, ``, 400, hookrun.CodeInvalidArgument, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants", tt.token, tt.body)
			wantError(t, w, tt.status, tt.code, tt.msg)
			if strings.Contains(w.Body.String(), "hkr_") {
				t.Errorf("refusal %s carries an API key", w.Body)
			}
			n, name := e.store.tenantCount(), e.storedTenant(t, "acme").Name
			if n != 1 || name != "Tenant acme" {
				t.Errorf("store has %d tenants (acme named %q), want only the original acme", n, name)
			}
		})
	}
}

func TestUnknownRoutesAnswerInAPIShape(t *testing.T) {
	e := newEnv(t, nil)
	wantError(t, e.do(t, http.MethodGet, "/v1/nothing", adminToken, ""), 404, hookrun.CodeNotFound, "no route")
	wantError(t, e.do(t, http.MethodPut, "/v1/events", adminToken, ""), 404, hookrun.CodeNotFound, "no route")
	if w := e.do(t, http.MethodGet, "/healthz", "", ""); w.Code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", w.Code)
	}
}

type tenantJSON struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Status         string          `json:"status"`
	DisabledReason string          `json:"disabled_reason"`
	RetryPolicy    json.RawMessage `json:"retry_policy"`
	UpdateTime     string          `json:"update_time"`
	DeleteTime     string          `json:"delete_time"`
}

func TestCreateTenantKeyIsListed(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme"}`)
	got := decode[struct {
		APIKey   string `json:"api_key"`
		APIKeyID string `json:"api_key_id"`
	}](t, w)
	if !hookrun.ValidAPIKeyID(got.APIKeyID) {
		t.Fatalf("api_key_id = %q, want a key_ id", got.APIKeyID)
	}
	keys := listKeys(t, e, "acme", got.APIKey)
	if len(keys) != 1 || keys[0].ID != got.APIKeyID || keys[0].Prefix != got.APIKey[4:12] || keys[0].Last4 != got.APIKey[len(got.APIKey)-4:] {
		t.Errorf("keys = %+v, want the tenant's first key %s", keys, got.APIKeyID)
	}
}

func TestListTenants(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "delta")
	for _, id := range []string{"acme", "echo", "bravo", "charlie"} {
		e.createTenant(t, id)
	}
	var pages [][]string
	token := ""
	for range 5 {
		w := e.do(t, http.MethodGet, "/v1/tenants?page_size=2&page_token="+token, adminToken, "")
		if w.Code != http.StatusOK {
			t.Fatalf("list tenants: %d %s", w.Code, w.Body)
		}
		got := decode[struct {
			Tenants       []tenantJSON `json:"tenants"`
			NextPageToken string       `json:"next_page_token"`
		}](t, w)
		var ids []string
		for _, tn := range got.Tenants {
			ids = append(ids, tn.ID)
		}
		pages = append(pages, ids)
		if token = got.NextPageToken; token == "" {
			break
		}
	}
	if want := "[[acme bravo] [charlie delta] [echo]]"; fmt.Sprint(pages) != want {
		t.Errorf("pages = %v, want %s", pages, want)
	}

	empty := newEnv(t, nil)
	if w := empty.do(t, http.MethodGet, "/v1/tenants", adminToken, ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"tenants":[]`) {
		t.Errorf("list with no tenants: %d %s, want 200 and an empty list", w.Code, w.Body)
	}

	for _, tt := range []struct {
		name, token, query string
		status             int
		code               hookrun.Code
		msg                string
	}{
		{"tenant key", key, "", 403, hookrun.CodePermissionDenied, "admin"},
		{"page size zero", adminToken, "?page_size=0", 400, hookrun.CodeInvalidArgument, "page_size"},
		{"page size too large", adminToken, "?page_size=501", 400, hookrun.CodeInvalidArgument, "page_size"},
		{"page size not a number", adminToken, "?page_size=ten", 400, hookrun.CodeInvalidArgument, "page_size"},
		{"bad page token", adminToken, "?page_token=bad", 400, hookrun.CodeInvalidArgument, "page_token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodGet, "/v1/tenants"+tt.query, tt.token, ""), tt.status, tt.code, tt.msg)
		})
	}
}

func TestGetTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	other := e.createTenant(t, "globex")
	for _, token := range []string{adminToken, key} {
		w := e.do(t, http.MethodGet, "/v1/tenants/acme", token, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET tenant: %d %s", w.Code, w.Body)
		}
		if got := decode[tenantJSON](t, w); got.ID != "acme" || got.Name != "Tenant acme" || got.Status != "active" {
			t.Errorf("GET tenant = %+v, want acme, active", got)
		}
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme", other, ""), 403, hookrun.CodePermissionDenied, "acme")
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/initech", adminToken, ""), 404, hookrun.CodeNotFound, "initech")
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/__x__", adminToken, ""), 404, hookrun.CodeNotFound, "__x__")
}

func TestUpdateTenantByTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	w := e.do(t, http.MethodPatch, "/v1/tenants/acme", key, `{"name":" Acme Corp ","retry_policy":{"max_attempts":5,"initial_delay":"30s"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	got := decode[tenantJSON](t, w)
	if got.Name != "Acme Corp" || got.Status != "active" || got.UpdateTime == "" {
		t.Errorf("PATCH = %+v, want the new name, still active, an update_time", got)
	}
	stored := e.storedTenant(t, "acme")
	if stored.Name != "Acme Corp" || stored.RetryPolicy.MaxAttempts != 5 || time.Duration(stored.RetryPolicy.InitialDelay) != 30*time.Second {
		t.Errorf("stored tenant = %+v, want name and retry policy changed", stored)
	}
	// Absent fields are untouched: renaming keeps the retry policy.
	e.do(t, http.MethodPatch, "/v1/tenants/acme", key, `{"name":"Acme"}`)
	stored = e.storedTenant(t, "acme")
	if stored.Name != "Acme" || stored.RetryPolicy.MaxAttempts != 5 {
		t.Errorf("after renaming only, tenant = %+v, want the retry policy kept", stored)
	}
	// An empty policy resets it to the defaults.
	e.do(t, http.MethodPatch, "/v1/tenants/acme", key, `{"retry_policy":{}}`)
	stored = e.storedTenant(t, "acme")
	if stored.RetryPolicy != (hookrun.RetryPolicy{}) {
		t.Errorf("after retry_policy {}, policy = %+v, want empty", stored.RetryPolicy)
	}
}

// Disabling refuses the tenant's events at once on this instance, though
// the tenant was cached a moment before; enabling accepts them again.
func TestDisableAndEnableTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	event := `{"type":"user.created","data":{}}`
	if w := e.do(t, http.MethodPost, "/v1/events", key, event); w.Code != http.StatusAccepted {
		t.Fatalf("event before disabling: %d %s", w.Code, w.Body)
	}
	w := e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"disabled","disabled_reason":"unpaid invoice"}`)
	if got := decode[tenantJSON](t, w); w.Code != 200 || got.Status != "disabled" || got.DisabledReason != "unpaid invoice" {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/events", key, event), 403, hookrun.CodePermissionDenied, "disabled")
	// The tenant may still look at its setup.
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme", key, ""); w.Code != http.StatusOK || decode[tenantJSON](t, w).DisabledReason != "unpaid invoice" {
		t.Errorf("GET disabled tenant with its key: %d %s, want 200 with the reason", w.Code, w.Body)
	}
	// Disabling without a reason gets the default one.
	e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"active"}`)
	w = e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"disabled"}`)
	if got := decode[tenantJSON](t, w); got.DisabledReason != hookrun.DefaultDisabledReason {
		t.Errorf("disabled without a reason: %+v, want %q", got, hookrun.DefaultDisabledReason)
	}

	w = e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"active"}`)
	if got := decode[tenantJSON](t, w); w.Code != 200 || got.Status != "active" || got.DisabledReason != "" {
		t.Fatalf("enable: %d %s, want active without a reason", w.Code, w.Body)
	}
	if w := e.do(t, http.MethodPost, "/v1/events", key, event); w.Code != http.StatusAccepted {
		t.Errorf("event after enabling: %d %s, want 202", w.Code, w.Body)
	}
}

func TestUpdateTenantRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	other := e.createTenant(t, "globex")
	tests := []struct {
		name   string
		token  string
		path   string
		body   string
		status int
		code   hookrun.Code
		msg    string
	}{
		{"tenant sets its status", key, "acme", `{"status":"active"}`, 403, hookrun.CodePermissionDenied, "status:"},
		{"tenant sets a disabled reason", key, "acme", `{"disabled_reason":"x"}`, 403, hookrun.CodePermissionDenied, "disabled_reason:"},
		{"other tenant's key", other, "acme", `{"name":"Mine"}`, 403, hookrun.CodePermissionDenied, "acme"},
		{"no credentials", "", "acme", `{"name":"Mine"}`, 401, hookrun.CodeUnauthenticated, "credentials"},
		{"unknown tenant", adminToken, "initech", `{"name":"Initech"}`, 404, hookrun.CodeNotFound, "initech"},
		{"nothing to change", adminToken, "acme", `{}`, 400, hookrun.CodeInvalidArgument, "at least one"},
		{"only nulls", adminToken, "acme", `{"name":null}`, 400, hookrun.CodeInvalidArgument, "at least one"},
		{"unknown field", adminToken, "acme", `{"limits":{"rps":5}}`, 400, hookrun.CodeInvalidArgument, "limits"},
		{"id is not changeable", adminToken, "acme", `{"id":"acme2"}`, 400, hookrun.CodeInvalidArgument, "id"},
		{"blank name", key, "acme", `{"name":"  "}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"name too long", key, "acme", `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"name of wrong type", key, "acme", `{"name":5}`, 400, hookrun.CodeInvalidArgument, "name:"},
		{"bad retry policy", key, "acme", `{"retry_policy":{"multiplier":50}}`, 400, hookrun.CodeInvalidArgument, "retry_policy.multiplier"},
		{"retry policy unknown field", key, "acme", `{"retry_policy":{"tries":3}}`, 400, hookrun.CodeInvalidArgument, "tries"},
		{"status deleting", adminToken, "acme", `{"status":"deleting"}`, 400, hookrun.CodeInvalidArgument, "status:"},
		{"unknown status", adminToken, "acme", `{"status":"paused"}`, 400, hookrun.CodeInvalidArgument, "status:"},
		{"reason for an active tenant", adminToken, "acme", `{"disabled_reason":"why"}`, 400, hookrun.CodeInvalidArgument, "disabled_reason:"},
		{"reason with enabling", adminToken, "acme", `{"status":"active","disabled_reason":"why"}`, 400, hookrun.CodeInvalidArgument, "disabled_reason:"},
		{"reason too long", adminToken, "acme", `{"status":"disabled","disabled_reason":"` + strings.Repeat("r", 501) + `"}`, 400, hookrun.CodeInvalidArgument, "disabled_reason:"},
		{"malformed JSON", adminToken, "acme", `{"name":`, 400, hookrun.CodeInvalidArgument, "JSON"},
		{"empty body", adminToken, "acme", ``, 400, hookrun.CodeInvalidArgument, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/"+tt.path, tt.token, tt.body), tt.status, tt.code, tt.msg)
			got := e.storedTenant(t, "acme")
			if got.Name != "Tenant acme" || got.Status != hookrun.TenantActive || got.DisabledReason != "" || !got.UpdatedAt.IsZero() {
				t.Errorf("after a refused update, tenant = %+v, want it unchanged", got)
			}
		})
	}
}

// seedTenant creates tenant id through the API with n endpoints (with
// their secrets) and one event, and returns its key.
func seedTenant(t *testing.T, e *env, id string, endpoints int) string {
	t.Helper()
	key := e.createTenant(t, id)
	for i := range endpoints {
		e.createEndpoint(t, id, key, fmt.Sprintf("https://%d.example.com/hook", i))
	}
	if w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`); w.Code != http.StatusAccepted {
		t.Fatalf("event: %d %s", w.Code, w.Body)
	}
	return key
}

func TestDeleteSmallTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := seedTenant(t, e, "acme", 3)
	otherKey := seedTenant(t, e, "globex", 1)
	eps := e.store.endpointsOf("acme")
	records := e.store.tenantDocs("acme")
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", adminToken, ""), 404, hookrun.CodeNotFound, "acme")

	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, ""); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s, want 204: a small tenant is deleted before the answer", w.Code, w.Body)
	}
	// The deletion's record outlives the tenant.
	if got := decode[tenantDeletionRead](t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", adminToken, "")); !got.Done || got.State != "done" ||
		got.Deleted != int64(records) || got.Name != "tenants/acme/deletion" || got.StartTime == "" || got.EndTime == "" {
		t.Errorf("GET …/deletion = %+v, want done with %d documents deleted", got, records)
	}
	if n := e.store.tenantDocs("acme"); n != 0 {
		t.Errorf("store keeps %d records of acme, want none", n)
	}
	for _, ep := range eps {
		if _, ok := e.secrets.get("hookrun-acme-" + ep.ID); ok {
			t.Errorf("secret of endpoint %s survived its tenant", ep.ID)
		}
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme", adminToken, ""), 404, hookrun.CodeNotFound, "acme")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, ""), 404, hookrun.CodeNotFound, "acme")
	wantError(t, e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`), 401, hookrun.CodeUnauthenticated, "credentials")

	// The other tenant is untouched.
	if w := e.do(t, http.MethodGet, "/v1/tenants/globex/endpoints", otherKey, ""); w.Code != 200 || len(e.store.endpointsOf("globex")) != 1 {
		t.Errorf("globex after acme's deletion: %d %s", w.Code, w.Body)
	}
	if e.secrets.count() != 1 {
		t.Errorf("%d secrets left, want globex's one", e.secrets.count())
	}
}

// A tenant too large to delete within the request is answered 202 and
// deleted in the background; meanwhile it says "deleting" and refuses its
// API, and a repeated DELETE does not start a second deletion.
func TestDeleteLargeTenantInBackground(t *testing.T) {
	e := newEnv(t, nil)
	seedTenant(t, e, "acme", 1)
	e.store.addTenantData("acme", 200) // 800 more records
	records := e.store.tenantDocs("acme")
	release := make(chan struct{})
	deleted := make(chan string, 1)
	var mu sync.Mutex
	var limits []int
	e.store.beforeDeleteTenantData = func(limit int) {
		mu.Lock()
		limits = append(limits, limit)
		mu.Unlock()
		if limit <= 0 {
			<-release
		}
	}
	e.store.tenantDeleted = func(id string) { deleted <- id }

	w := e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, "")
	if w.Code != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s, want 202", w.Code, w.Body)
	}
	if got := decode[tenantJSON](t, w); got.Status != "deleting" || got.DeleteTime == "" {
		t.Errorf("DELETE answered %+v, want status deleting with a delete_time", got)
	}
	if left := e.store.tenantDocs("acme"); left == 0 || left > 806-500 {
		t.Errorf("after the answer %d records are left, want the request to have deleted 500", left)
	}
	if got := decode[tenantJSON](t, e.do(t, http.MethodGet, "/v1/tenants/acme", adminToken, "")); got.Status != "deleting" {
		t.Errorf("GET while deleting: %+v, want status deleting", got)
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", adminToken, ""), 400, hookrun.CodeFailedPrecondition, "being deleted")
	wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"name":"x"}`), 400, hookrun.CodeFailedPrecondition, "being deleted")
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/api-keys", adminToken, ""), 400, hookrun.CodeFailedPrecondition, "being deleted")
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme again"}`), 409, hookrun.CodeAlreadyExists, "acme")
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, ""); w.Code != http.StatusAccepted {
		t.Errorf("DELETE while the background deletion runs: %d %s, want 202", w.Code, w.Body)
	}
	if got := decode[tenantDeletionRead](t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", adminToken, "")); got.Done || got.State != "running" || got.Deleted != 500 {
		t.Errorf("GET …/deletion while the background deletion waits = %+v, want running with 500 deleted", got)
	}

	close(release)
	select {
	case id := <-deleted:
		if id != "acme" {
			t.Errorf("deleted %q, want acme", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the background deletion did not finish")
	}
	mu.Lock()
	if want := []int{500, 0}; !slices.Equal(limits, want) {
		t.Errorf("DeleteTenantData limits = %v, want %v: one bounded pass in the request, one unbounded in the background", limits, want)
	}
	mu.Unlock()
	if n := e.store.tenantDocs("acme"); n != 0 {
		t.Errorf("%d records of acme left, want none", n)
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme", adminToken, ""), 404, hookrun.CodeNotFound, "acme")
	if e.secrets.count() != 0 {
		t.Errorf("%d secrets left, want none", e.secrets.count())
	}
	// The background deletion records its end just after the tenant goes,
	// as a client polling the route sees it.
	got := pollDeletion(t, e, "acme")
	if got.State != "done" || got.Deleted != int64(records) {
		t.Errorf("GET …/deletion after the background deletion = %+v, want done with %d deleted", got, records)
	}
}

// tenantDeletionRead is GET …/deletion's answer.
type tenantDeletionRead struct {
	Name      string `json:"name"`
	Done      bool   `json:"done"`
	State     string `json:"state"`
	Deleted   int64  `json:"deleted"`
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
	Error     string `json:"error"`
}

// pollDeletion reads a tenant's deletion until it is done, as a client
// following it does.
func pollDeletion(t *testing.T, e *env, tenant string) tenantDeletionRead {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := decode[tenantDeletionRead](t, e.do(t, http.MethodGet, "/v1/tenants/"+tenant+"/deletion", adminToken, ""))
		if got.Done || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A deletion that fails (an instance stopped, storage unavailable) leaves
// the tenant "deleting", refusing its events; DELETE again finishes it.
func TestDeleteTenantResumes(t *testing.T) {
	e := newEnv(t, nil)
	key := seedTenant(t, e, "acme", 2)
	e.store.deleteTenantDataErr = hookrun.Errorf(hookrun.CodeUnavailable, "storage is unavailable; retry")

	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, ""), 503, hookrun.CodeUnavailable, "retry")
	// The deletion shows failed, saying what to do and not the storage's
	// own error.
	if got := decode[tenantDeletionRead](t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", adminToken, "")); !got.Done || got.State != "failed" ||
		!strings.Contains(got.Error, "DELETE the tenant again") || strings.Contains(got.Error, "storage") {
		t.Errorf("GET …/deletion after a failed deletion = %+v, want failed, telling to DELETE again", got)
	}
	if got := decode[tenantJSON](t, e.do(t, http.MethodGet, "/v1/tenants/acme", key, "")); got.Status != "deleting" {
		t.Errorf("GET after a failed deletion: %+v, want status deleting", got)
	}
	n := len(e.pub.published())
	wantError(t, e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`), 400, hookrun.CodeFailedPrecondition, "being deleted")
	if len(e.pub.published()) != n {
		t.Error("an event of a deleting tenant was published")
	}

	e.store.mu.Lock()
	e.store.deleteTenantDataErr = nil
	e.store.mu.Unlock()
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme", adminToken, ""); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE again: %d %s, want 204", w.Code, w.Body)
	}
	if n := e.store.tenantDocs("acme"); n != 0 || e.secrets.count() != 0 {
		t.Errorf("after DELETE again: %d records and %d secrets left, want none", n, e.secrets.count())
	}
	if got := decode[tenantDeletionRead](t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", adminToken, "")); got.State != "done" || got.Error != "" {
		t.Errorf("GET …/deletion after DELETE again = %+v, want done", got)
	}
}

func TestDeleteTenantRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme", key, ""), 403, hookrun.CodePermissionDenied, "admin")
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/deletion", key, ""), 403, hookrun.CodePermissionDenied, "admin")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/acme", "", ""), 401, hookrun.CodeUnauthenticated, "credentials")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/initech", adminToken, ""), 404, hookrun.CodeNotFound, "initech")
	wantError(t, e.do(t, http.MethodDelete, "/v1/tenants/Not-An-Id", adminToken, ""), 404, hookrun.CodeNotFound, "Not-An-Id")
	if got := decode[tenantJSON](t, e.do(t, http.MethodGet, "/v1/tenants/acme", adminToken, "")); got.Status != "active" {
		t.Errorf("after refused deletes, tenant = %+v, want active", got)
	}
}
