package ingest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/oidc"
	"github.com/hookrun/hookrun/internal/oidc/oidctest"
)

type producerKeyJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Tenants     []string `json:"tenants"`
	Prefix      string   `json:"prefix"`
	Last4       string   `json:"last4"`
	CreateTime  string   `json:"create_time"`
	Revoked     bool     `json:"revoked"`
	RevokeTime  string   `json:"revoke_time"`
	ProducerKey string   `json:"producer_key"`
}

func createProducerKey(t *testing.T, e *env, body string) producerKeyJSON {
	t.Helper()
	w := e.do(t, http.MethodPost, "/v1/producer-keys", adminToken, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("create producer key: %d %s", w.Code, w.Body)
	}
	return decode[producerKeyJSON](t, w)
}

// send posts an event of tenant to POST /v1/tenants/{tenant}/events.
func send(t *testing.T, e *env, tenant, token, id string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, http.MethodPost, "/v1/tenants/"+tenant+"/events", token, `{"id":"`+id+`","type":"user.created","data":{"n":1}}`)
}

// publishedTenants returns the tenant_id attribute of each message
// published, in order.
func publishedTenants(e *env) []string {
	var out []string
	for _, m := range e.pub.published() {
		out = append(out, m.attrs["tenant_id"]+"/"+m.attrs["event_id"])
	}
	return out
}

func TestProducerKeyLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.createTenant(t, "acme")
	e.createTenant(t, "globex")
	e.createTenant(t, "initech")

	all := createProducerKey(t, e, `{"name":" billing backend "}`)
	if !hookrun.LooksLikeProducerKey(all.ProducerKey) || !hookrun.ValidProducerKeyID(all.ID) || all.Name != "billing backend" ||
		all.Tenants != nil || all.Prefix != all.ProducerKey[5:13] || all.Last4 != all.ProducerKey[len(all.ProducerKey)-4:] ||
		all.CreateTime == "" || all.Revoked {
		t.Fatalf("created = %+v, want a hkrp_ key for every tenant, shown once with its id, name, prefix and last 4", all)
	}
	some := createProducerKey(t, e, `{"tenants":["acme","globex"]}`)
	if strings.Join(some.Tenants, ",") != "acme,globex" {
		t.Fatalf("created = %+v, want it limited to acme and globex", some)
	}

	// One key sends events of several tenants.
	for _, tc := range []struct {
		key, tenant string
		want        int
	}{
		{all.ProducerKey, "acme", http.StatusAccepted},
		{all.ProducerKey, "initech", http.StatusAccepted},
		{some.ProducerKey, "globex", http.StatusAccepted},
		{some.ProducerKey, "initech", http.StatusForbidden},
	} {
		if w := send(t, e, tc.tenant, tc.key, "evt-"+tc.tenant); w.Code != tc.want {
			t.Errorf("send to %s: %d %s, want %d", tc.tenant, w.Code, w.Body, tc.want)
		}
	}
	if got, want := strings.Join(publishedTenants(e), " "), "acme/evt-acme initech/evt-initech globex/evt-globex"; got != want {
		t.Errorf("published %s, want %s", got, want)
	}

	// The list shows both, newest first, never a key or its hash.
	w := e.do(t, http.MethodGet, "/v1/producer-keys", adminToken, "")
	for _, secret := range []string{all.ProducerKey, some.ProducerKey, hookrun.HashAPIKey(all.ProducerKey), "hkrp_", "hash"} {
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("producer key list %s contains %q", w.Body, secret)
		}
	}
	list := decode[struct {
		ProducerKeys []producerKeyJSON `json:"producer_keys"`
	}](t, w).ProducerKeys
	if len(list) != 2 {
		t.Fatalf("list = %+v, want both keys", list)
	}
	if w := e.do(t, http.MethodGet, "/v1/producer-keys?page_size=1", adminToken, ""); !strings.Contains(w.Body.String(), "next_page_token") {
		t.Errorf("a page of 1 of 2 keys: %s, want a next_page_token", w.Body)
	}
	if got := decode[producerKeyJSON](t, e.do(t, http.MethodGet, "/v1/producer-keys/"+some.ID, adminToken, "")); got.ID != some.ID || got.ProducerKey != "" {
		t.Errorf("get = %+v, want %s without the key", got, some.ID)
	}

	// Only the admin token manages them.
	wantError(t, e.do(t, http.MethodPost, "/v1/producer-keys", acme, `{}`), 403, hookrun.CodePermissionDenied, "admin token")
	wantError(t, e.do(t, http.MethodGet, "/v1/producer-keys", all.ProducerKey, ""), 403, hookrun.CodePermissionDenied, "only send events")

	// Revoked, the key sends nothing, at once on this instance: the
	// lookup the sends above cached is dropped.
	if w := e.do(t, http.MethodDelete, "/v1/producer-keys/"+all.ID, adminToken, ""); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	unknown := strings.Replace(all.ProducerKey, all.Prefix, "zzzzzzzz", 1)
	want := send(t, e, "acme", unknown, "after-revoke")
	got := send(t, e, "acme", all.ProducerKey, "after-revoke")
	wantError(t, got, 401, hookrun.CodeUnauthenticated, "credentials")
	if got.Body.String() != want.Body.String() {
		t.Errorf("revoked key answered %s, unknown key %s: want the same", got.Body, want.Body)
	}
	if got := decode[producerKeyJSON](t, e.do(t, http.MethodGet, "/v1/producer-keys/"+all.ID, adminToken, "")); !got.Revoked || got.RevokeTime == "" {
		t.Errorf("after revoke, get = %+v, want it revoked with its time", got)
	}
	if w := e.do(t, http.MethodDelete, "/v1/producer-keys/"+all.ID, adminToken, ""); w.Code != http.StatusNoContent {
		t.Errorf("revoke again: %d %s, want 204", w.Code, w.Body)
	}
	for _, id := range []string{hookrun.NewID(hookrun.ProducerKeyIDPrefix), "key_abc", hookrun.NewID(hookrun.APIKeyIDPrefix)} {
		wantError(t, e.do(t, http.MethodDelete, "/v1/producer-keys/"+id, adminToken, ""), 404, hookrun.CodeNotFound, "not found")
		wantError(t, e.do(t, http.MethodGet, "/v1/producer-keys/"+id, adminToken, ""), 404, hookrun.CodeNotFound, "not found")
	}
}

func TestCreateProducerKeyRefuses(t *testing.T) {
	e := newEnv(t, nil)
	for body, msg := range map[string]string{
		`{"tenants":[]}`:              "tenants:",
		`{"tenants":["Acme"]}`:        "tenants:",
		`{"tenants":["acme","acme"]}`: "twice",
		`{"name":"a\nb"}`:             "name:",
		`{"scopes":["x"]}`:            "scopes",
	} {
		wantError(t, e.do(t, http.MethodPost, "/v1/producer-keys", adminToken, body), 400, hookrun.CodeInvalidArgument, msg)
	}
	if w := e.do(t, http.MethodPost, "/v1/producer-keys", adminToken, ""); w.Code != http.StatusCreated {
		t.Errorf("without a body: %d %s, want 201", w.Code, w.Body)
	}
}

// POST /v1/tenants/{tenant}/events holds every caller to the same rules as
// POST /v1/events, and sends only what each may.
func TestSendToTenantPath(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.createTenant(t, "acme")
	globex := e.createTenant(t, "globex")
	producer := createProducerKey(t, e, "").ProducerKey

	// The tenant's own key sends on its path, not on another's.
	if w := send(t, e, "acme", acme, "own-1"); w.Code != http.StatusAccepted {
		t.Errorf("own key on its path: %d %s", w.Code, w.Body)
	}
	wantError(t, send(t, e, "acme", globex, "other-1"), 403, hookrun.CodePermissionDenied, `tenant "acme"`)
	// The admin token sends nothing, and is told what does.
	wantError(t, send(t, e, "acme", adminToken, "admin-1"), 403, hookrun.CodePermissionDenied, "producer key")
	// A producer names the tenant in the path.
	wantError(t, e.do(t, http.MethodPost, "/v1/events", producer, `{"type":"user.created","data":{}}`), 403, hookrun.CodePermissionDenied, "/v1/tenants/{tenant}/events")
	wantError(t, send(t, e, "nobody", producer, "x"), 404, hookrun.CodeNotFound, "nobody")
	wantError(t, send(t, e, "Not_A_Tenant", producer, "x"), 404, hookrun.CodeNotFound, "not found")

	// Idempotency is the tenant's, whoever sends: the same id through the
	// tenant's key and a producer key is one event.
	if w := send(t, e, "acme", producer, "own-1"); w.Code != http.StatusAccepted {
		t.Errorf("producer repeating an id: %d %s, want 202", w.Code, w.Body)
	}
	if n := len(e.pub.published()); n != 1 {
		t.Errorf("%d messages published, want 1 (the repeat is a duplicate)", n)
	}
	// A disabled tenant's events are refused, from a producer too.
	if w := e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"disabled"}`); w.Code != http.StatusOK {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	wantError(t, send(t, e, "acme", producer, "off-1"), 403, hookrun.CodePermissionDenied, "disabled")
	// Event rules hold as on POST /v1/events.
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/globex/events", producer, `{"type":"hookrun.endpoint.disabled","data":{}}`), 400, hookrun.CodeInvalidArgument, "")
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/globex/events", producer, `{"type":"a.b","data":[]}`), 400, hookrun.CodeInvalidArgument, "data")
}

// idTokenEnv is a service accepting ID tokens of two service accounts,
// signed by iss: all@… for every tenant, globex@… for globex only.
func idTokenEnv(t testing.TB, iss *oidctest.Issuer) *env {
	t.Helper()
	return idTokenEnvWith(t, idTokenVerifier(t, iss))
}

// idTokenVerifier verifies the tokens of idTokenEnv's service accounts
// with iss's key.
func idTokenVerifier(t testing.TB, iss *oidctest.Issuer) *oidc.Verifier {
	t.Helper()
	v, err := oidc.NewVerifier(context.Background(), oidc.Config{
		Audience: "https://ingest.example", CertsURL: iss.CertsURL(),
		ServiceAccounts: []string{"all@saas.iam.gserviceaccount.com", "globex@saas.iam.gserviceaccount.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// idTokenEnvWith is idTokenEnv on a verifier of idTokenVerifier, which a
// fuzz target shares between inputs.
func idTokenEnvWith(t testing.TB, v *oidc.Verifier) *env {
	t.Helper()
	return newEnv(t, func(c *ingest.Config) {
		c.ProducerServiceAccounts = "all@saas.iam.gserviceaccount.com globex@saas.iam.gserviceaccount.com=globex"
		c.ProducerAudience = "https://ingest.example"
	}, ingest.WithIDTokens(v))
}

func TestSendWithIDToken(t *testing.T) {
	iss, err := oidctest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	e := idTokenEnv(t, iss)
	e.createTenant(t, "acme")
	e.createTenant(t, "globex")
	all := iss.Token("all@saas.iam.gserviceaccount.com", "https://ingest.example")
	globexOnly := iss.Token("globex@saas.iam.gserviceaccount.com", "https://ingest.example")

	logs := captureLogs(t)
	for _, tc := range []struct {
		token, tenant string
		want          int
	}{
		{all, "acme", http.StatusAccepted},
		{all, "globex", http.StatusAccepted},
		{globexOnly, "globex", http.StatusAccepted},
		{globexOnly, "acme", http.StatusForbidden},
		{iss.Token("stranger@saas.iam.gserviceaccount.com", "https://ingest.example"), "acme", http.StatusUnauthorized},
		{iss.Token("all@saas.iam.gserviceaccount.com", "https://elsewhere.example"), "acme", http.StatusUnauthorized},
		{iss.Sign(map[string]any{"iss": "https://accounts.google.com", "aud": "https://ingest.example", "email": "all@saas.iam.gserviceaccount.com",
			"email_verified": true, "exp": time.Now().Add(-time.Minute).Unix()}), "acme", http.StatusUnauthorized},
	} {
		if w := send(t, e, tc.tenant, tc.token, "tok-"+tc.tenant); w.Code != tc.want {
			t.Errorf("send to %s: %d %s, want %d", tc.tenant, w.Code, w.Body, tc.want)
		}
	}
	if got, want := strings.Join(publishedTenants(e), " "), "acme/tok-acme globex/tok-globex"; got != want {
		t.Errorf("published %s, want %s (the second send to globex is a duplicate)", got, want)
	}
	// The log says who sent, never the token.
	lines := logs.String()
	if !strings.Contains(lines, `"caller":"all@saas.iam.gserviceaccount.com"`) {
		t.Errorf("log lines do not name the service account as caller:\n%s", lines)
	}
	if strings.Contains(lines, all) || strings.Contains(lines, strings.Split(all, ".")[1]) {
		t.Error("a log line holds the ID token")
	}
	// A producer's token calls nothing else.
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/events", all, ""), 403, hookrun.CodePermissionDenied, "only send events")
}

// When Google's keys cannot be fetched, a token is not refused as invalid:
// the producer is told to retry.
func TestSendWithIDTokenKeysUnavailable(t *testing.T) {
	iss, err := oidctest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	token := iss.Token("all@saas.iam.gserviceaccount.com", "https://ingest.example")
	e := idTokenEnv(t, iss)
	e.createTenant(t, "acme")
	iss.Close()
	wantError(t, send(t, e, "acme", token, "x"), 503, hookrun.CodeUnavailable, "retry")
}

// A service configured for ID tokens without a verifier would refuse
// them all; New refuses to start instead.
func TestNewRequiresVerifierForServiceAccounts(t *testing.T) {
	_, err := ingest.New(ingest.Config{AdminToken: adminToken, ProducerServiceAccounts: "a@p.iam.gserviceaccount.com", ProducerAudience: "https://x"},
		newTestStore(), &fakePublisher{}, newFakeSecrets())
	if err == nil {
		t.Error("New with service accounts and no WithIDTokens succeeded")
	}
}

// captureLogs sends the default logger's lines to the returned buffer
// until the test ends.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}
