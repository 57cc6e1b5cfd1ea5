package ingest

// The auth matrix: every route the router serves × every kind of caller.
// It is an internal test because the route list comes from s.routes(), so
// a route added later cannot escape it; the fakes it runs on belong to the
// external tests, which hand them over through NewMatrixService.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookrun/hookrun/internal/oidc"
	"github.com/hookrun/hookrun/internal/oidc/oidctest"
)

// NewMatrixService builds a Service on the external tests' fakes; it is
// set in fakes_tenants_test.go.
var NewMatrixService func(Config, ...Option) (*Service, error)

// access is who may call a route.
type access int

const (
	// adminOnly: the admin token only.
	adminOnly access = iota + 1
	// adminOrTenant: the admin token and the keys of the path's {tenant}.
	adminOrTenant
	// tenantKeys: any tenant's key, acting for its own tenant; not the
	// admin token, not a producer credential (POST /v1/events).
	tenantKeys
	// senders: the keys of the path's {tenant}, and producer credentials
	// allowed that tenant; not the admin token
	// (POST /v1/tenants/{tenant}/events and …/events:batch).
	senders
	// anyone: no credentials needed, whatever is sent (public documents).
	anyone
)

// routeAccess says who may call each route. Every route of s.routes()
// must be listed, and nothing else: a new route fails TestAuthMatrix until
// its author decides here who may call it.
var routeAccess = map[string]access{
	"GET /openapi.json":                                            anyone,
	"POST /v1/tenants":                                             adminOnly,
	"GET /v1/tenants":                                              adminOnly,
	"GET /v1/tenants/{tenant}":                                     adminOrTenant,
	"PATCH /v1/tenants/{tenant}":                                   adminOrTenant,
	"DELETE /v1/tenants/{tenant}":                                  adminOnly,
	"GET /v1/tenants/{tenant}/deletion":                            adminOnly,
	"POST /v1/tenants/{tenant}/api-keys":                           adminOrTenant,
	"GET /v1/tenants/{tenant}/api-keys":                            adminOrTenant,
	"DELETE /v1/tenants/{tenant}/api-keys/{key}":                   adminOrTenant,
	"POST /v1/tenants/{tenant}/endpoints":                          adminOrTenant,
	"GET /v1/tenants/{tenant}/endpoints":                           adminOrTenant,
	"GET /v1/tenants/{tenant}/endpoints/{endpoint}":                adminOrTenant,
	"PATCH /v1/tenants/{tenant}/endpoints/{endpoint}":              adminOrTenant,
	"DELETE /v1/tenants/{tenant}/endpoints/{endpoint}":             adminOrTenant,
	"POST /v1/tenants/{tenant}/endpoints/{endpoint}":               adminOrTenant,
	"POST /v1/tenants/{tenant}/endpoints/{endpoint}/secret:rotate": adminOrTenant,
	"GET /v1/tenants/{tenant}/endpoints/{endpoint}/metrics":        adminOrTenant,
	"GET /v1/tenants/{tenant}/metrics":                             adminOrTenant,
	"GET /v1/tenants/{tenant}/event-types":                         adminOrTenant,
	"PUT /v1/tenants/{tenant}/event-types":                         adminOrTenant,
	"POST /v1/tenants/{tenant}/source-bindings":                    adminOrTenant,
	"GET /v1/tenants/{tenant}/source-bindings":                     adminOrTenant,
	"GET /v1/tenants/{tenant}/source-bindings/{binding}":           adminOrTenant,
	"DELETE /v1/tenants/{tenant}/source-bindings/{binding}":        adminOrTenant,
	"POST /v1/events":                                              tenantKeys,
	"POST /v1/tenants/{tenant}/events":                             senders,
	"POST /v1/producer-keys":                                       adminOnly,
	"GET /v1/producer-keys":                                        adminOnly,
	"GET /v1/producer-keys/{key}":                                  adminOnly,
	"DELETE /v1/producer-keys/{key}":                               adminOnly,
	"POST /v1/events:batch":                                        tenantKeys,
	"POST /v1/tenants/{tenant}/events:batch":                       senders,
	"GET /v1/tenants/{tenant}/events":                              adminOrTenant,
	"GET /v1/tenants/{tenant}/events/{event}":                      adminOrTenant,
	"POST /v1/tenants/{tenant}/events/{event}":                     adminOrTenant,
	"GET /v1/tenants/{tenant}/dead-letters":                        adminOrTenant,
	"POST /v1/tenants/{tenant}/dead-letters:replay":                adminOrTenant,
	"POST /v1/tenants/{tenant}/dead-letters/{id}":                  adminOrTenant,
	"GET /v1/tenants/{tenant}/replays/{replay}":                    adminOrTenant,
	"GET /v1/tenants/{tenant}/rejected-messages":                   adminOrTenant,
	"GET /v1/rejected-messages":                                    adminOnly,
	"POST /v1/tenants/{tenant}/portal-sessions":                    adminOrTenant,
}

// matrixPaths is the path to call where the pattern alone does not reach
// the handler: custom methods after a colon are checked before the caller.
var matrixPaths = map[string]string{
	"POST /v1/tenants/{tenant}/endpoints/{endpoint}": "/v1/tenants/{tenant}/endpoints/{endpoint}:verify",
	"POST /v1/tenants/{tenant}/events/{event}":       "/v1/tenants/{tenant}/events/{event}:redeliver",
	"POST /v1/tenants/{tenant}/dead-letters/{id}":    "/v1/tenants/{tenant}/dead-letters/{id}:replay",
}

// matrixBodies are bodies an allowed caller gets through validation with;
// other POST, PUT and PATCH routes get {}, the rest no body. An allowed
// caller may still be refused for what it asks (400, 404, 409): the matrix
// is about who, not what.
var matrixBodies = map[string]string{
	"POST /v1/tenants":                                `{"id":"initech","name":"Initech"}`,
	"PATCH /v1/tenants/{tenant}":                      `{"name":"Acme Renamed"}`,
	"POST /v1/tenants/{tenant}/api-keys":              `{"name":"ci"}`,
	"POST /v1/tenants/{tenant}/endpoints":             `{"url":"https://example.com/hooks","event_types":["*"]}`,
	"PATCH /v1/tenants/{tenant}/endpoints/{endpoint}": `{"description":"changed"}`,
	"POST /v1/events":                                 `{"type":"user.created","data":{}}`,
	"POST /v1/tenants/{tenant}/events":                `{"type":"user.created","data":{}}`,
	"POST /v1/producer-keys":                          `{"name":"ci","tenants":["acme"]}`,
	"POST /v1/events:batch":                           `{"events":[{"type":"user.created","data":{}}]}`,
	"POST /v1/tenants/{tenant}/events:batch":          `{"events":[{"type":"user.created","data":{}}]}`,
	"POST /v1/tenants/{tenant}/source-bindings":       `{"match":{"storage":{"bucket":"acme-other"}}}`,
}

// Callers of the matrix.
const (
	callerAdmin    = "admin token"
	callerAdminOff = "admin token, tenant disabled"
	callerOwn      = "own tenant's key"
	callerDisabled = "disabled tenant's own key"
	callerOther    = "other tenant's key"
	callerRevoked  = "revoked key"
	callerNone     = "no key"
	// Producer credentials: keys made with POST /v1/producer-keys, and
	// ID tokens of the service accounts of matrixProducerAccounts.
	callerProducerAll     = "producer key for every tenant"
	callerProducerOwn     = "producer key limited to the path's tenant and another"
	callerProducerOther   = "producer key limited to another tenant"
	callerProducerOff     = "producer key for every tenant, tenant disabled"
	callerProducerRevoked = "revoked producer key"
	callerTokenAll        = "ID token of a service account for every tenant"
	callerTokenOther      = "ID token of a service account limited to another tenant"
	callerTokenStranger   = "ID token of a service account not allowed"
	callerTokenAudience   = "ID token of an allowed service account for another audience"
)

var matrixCallers = []string{
	callerAdmin, callerAdminOff, callerOwn, callerDisabled, callerOther, callerRevoked, callerNone,
	callerProducerAll, callerProducerOwn, callerProducerOther, callerProducerOff, callerProducerRevoked,
	callerTokenAll, callerTokenOther, callerTokenStranger, callerTokenAudience,
}

// wantStatus is what caller gets from a route of access a with method: 0
// means allowed (any answer but 401, 403 or 5xx).
func wantStatus(a access, method, caller string) int {
	if a == anyone {
		return 0
	}
	switch caller {
	case callerRevoked, callerNone, callerProducerRevoked, callerTokenStranger, callerTokenAudience:
		return http.StatusUnauthorized
	case callerDisabled:
		// A disabled tenant's keys may read what they could, and change
		// nothing; sending events is refused too.
		if a == adminOrTenant && method == http.MethodGet {
			return 0
		}
		return http.StatusForbidden
	case callerAdmin, callerAdminOff:
		if a == tenantKeys || a == senders {
			return http.StatusForbidden
		}
		return 0
	case callerOwn:
		if a == adminOnly {
			return http.StatusForbidden
		}
		return 0
	case callerProducerAll, callerProducerOwn, callerTokenAll:
		// A producer credential only sends events, of its tenants.
		if a == senders {
			return 0
		}
		return http.StatusForbidden
	case callerProducerOther, callerTokenOther, callerProducerOff:
		return http.StatusForbidden
	default: // another tenant's key: only its own events
		if a == tenantKeys {
			return 0
		}
		return http.StatusForbidden
	}
}

func TestAuthMatrixCoversEveryRoute(t *testing.T) {
	s := newMatrixService(t)
	var served []string
	for _, r := range s.routes() {
		served = append(served, r.pattern)
		if _, ok := routeAccess[r.pattern]; !ok {
			t.Errorf("route %q is not in the auth matrix: add it to routeAccess in authmatrix_test.go with who may call it", r.pattern)
		}
	}
	for p := range routeAccess {
		if !slices.Contains(served, p) {
			t.Errorf("the auth matrix lists %q, which the router does not serve", p)
		}
	}
	for p := range matrixPaths {
		if _, ok := routeAccess[p]; !ok {
			t.Errorf("matrixPaths names %q, which is not in routeAccess", p)
		}
	}
	for p := range matrixBodies {
		if _, ok := routeAccess[p]; !ok {
			t.Errorf("matrixBodies names %q, which is not in routeAccess", p)
		}
	}
}

func TestAuthMatrix(t *testing.T) {
	var unauthenticated string
	for _, r := range newMatrixService(t).routes() {
		a, ok := routeAccess[r.pattern]
		if !ok {
			continue // TestAuthMatrixCoversEveryRoute reports it
		}
		for _, caller := range matrixCallers {
			t.Run(r.pattern+"/"+caller, func(t *testing.T) {
				// A fresh world per call: allowed calls change it
				// (DELETE, revoke), and must not affect the next.
				f := newMatrixFixture(t)
				if caller == callerDisabled || caller == callerAdminOff || caller == callerProducerOff {
					f.disable(t)
				}
				method, path, _ := strings.Cut(r.pattern, " ")
				if p, ok := matrixPaths[r.pattern]; ok {
					path = p
				}
				path = f.fill(path)
				body, ok := matrixBodies[r.pattern]
				if !ok && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch) {
					body = "{}"
				}
				w := f.do(t, method, path, f.tokens[caller], body)
				msg := errorMessage(w)
				switch want := wantStatus(a, method, caller); want {
				case 0:
					if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500 {
						t.Errorf("%s %s: %d %s, want it allowed (2xx, or 4xx about the request)", method, path, w.Code, w.Body)
					}
					if w.Code == http.StatusNotFound && strings.HasPrefix(msg, "no route") {
						t.Errorf("%s %s: %s: the matrix calls the wrong path; fix matrixPaths", method, path, msg)
					}
				default:
					if w.Code != want {
						t.Errorf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
					}
					if want == http.StatusUnauthorized {
						// A revoked key looks exactly like no key.
						if unauthenticated == "" {
							unauthenticated = w.Body.String()
						} else if w.Body.String() != unauthenticated {
							t.Errorf("401 body %s differs from another 401's %s", w.Body, unauthenticated)
						}
					}
				}
			})
		}
	}
}

func newMatrixService(t *testing.T) *Service {
	t.Helper()
	if NewMatrixService == nil {
		t.Fatal("NewMatrixService is not set: fakes_tenants_test.go sets it")
	}
	iss := matrixIssuer(t)
	v, err := oidc.NewVerifier(t.Context(), oidc.Config{
		Audience: matrixAudience, ServiceAccounts: strings.Fields(matrixAccountEmails), CertsURL: iss.CertsURL(),
	})
	if err != nil {
		t.Fatalf("oidc verifier: %v", err)
	}
	s, err := NewMatrixService(Config{
		AdminToken: matrixAdminToken, ProducerServiceAccounts: matrixProducerAccounts, ProducerAudience: matrixAudience,
	}, WithIDTokens(v))
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return s
}

const (
	matrixAdminToken = "matrix-admin-token-0123456789"
	// The service accounts whose ID tokens the matrix service accepts,
	// and the audience they are issued for.
	matrixProducerAccounts = "all@sender.iam.gserviceaccount.com globex-only@sender.iam.gserviceaccount.com=globex"
	matrixAccountEmails    = "all@sender.iam.gserviceaccount.com globex-only@sender.iam.gserviceaccount.com"
	matrixAudience         = "https://ingest.example"
)

// matrixIssuer signs the matrix's ID tokens; it is made once (an RSA key
// takes a while) and serves its key on loopback while the tests run.
var matrixIssuer = sync.OnceValue(func() func(*testing.T) *oidctest.Issuer {
	iss, err := oidctest.NewIssuer()
	return func(t *testing.T) *oidctest.Issuer {
		t.Helper()
		if err != nil {
			t.Fatalf("oidctest issuer: %v", err)
		}
		return iss
	}
})()

// matrixFixture is a service with two tenants made through the API: acme
// (the path's tenant, with an endpoint, an event, a source binding, a
// revoked key and a spare key) and globex (the other tenant).
type matrixFixture struct {
	h      http.Handler
	tokens map[string]string // caller → bearer token
	values map[string]string // path wildcard → value
	// producerKeyID fills {key} of /v1/producer-keys/{key}.
	producerKeyID string
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	f := &matrixFixture{h: newMatrixService(t).Handler()}
	created := func(method, path, token, body string) map[string]any {
		t.Helper()
		w := f.do(t, method, path, token, body)
		if w.Code/100 != 2 {
			t.Fatalf("setup %s %s: %d %s", method, path, w.Code, w.Body)
		}
		var v map[string]any
		if w.Code != http.StatusNoContent {
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("setup %s %s: %v", method, path, err)
			}
		}
		return v
	}
	str := func(v map[string]any, k string) string { s, _ := v[k].(string); return s }

	own := str(created(http.MethodPost, "/v1/tenants", matrixAdminToken, `{"id":"acme","name":"Acme"}`), "api_key")
	other := str(created(http.MethodPost, "/v1/tenants", matrixAdminToken, `{"id":"globex","name":"Globex"}`), "api_key")
	revoked := created(http.MethodPost, "/v1/tenants/acme/api-keys", matrixAdminToken, `{"name":"revoked"}`)
	created(http.MethodDelete, "/v1/tenants/acme/api-keys/"+str(revoked, "id"), matrixAdminToken, "")
	spare := created(http.MethodPost, "/v1/tenants/acme/api-keys", matrixAdminToken, `{"name":"spare"}`)
	ep := created(http.MethodPost, "/v1/tenants/acme/endpoints", own, `{"url":"https://example.com/hooks","event_types":["*"]}`)
	evt := created(http.MethodPost, "/v1/events", own, `{"type":"user.created","data":{}}`)
	// A replay of no dead letters: its record exists, done.
	rp := created(http.MethodPost, "/v1/tenants/acme/dead-letters:replay", own, "")
	producerAll := created(http.MethodPost, "/v1/producer-keys", matrixAdminToken, `{"name":"all"}`)
	producerOwn := created(http.MethodPost, "/v1/producer-keys", matrixAdminToken, `{"tenants":["globex","acme"]}`)
	producerOther := created(http.MethodPost, "/v1/producer-keys", matrixAdminToken, `{"tenants":["globex"]}`)
	producerRevoked := created(http.MethodPost, "/v1/producer-keys", matrixAdminToken, `{"name":"revoked"}`)
	created(http.MethodDelete, "/v1/producer-keys/"+str(producerRevoked, "id"), matrixAdminToken, "")
	iss := matrixIssuer(t)
	sb := created(http.MethodPost, "/v1/tenants/acme/source-bindings", own, `{"match":{"storage":{"bucket":"acme-uploads"}}}`)

	f.tokens = map[string]string{
		callerAdmin: matrixAdminToken, callerAdminOff: matrixAdminToken, callerOwn: own, callerDisabled: own, callerOther: other, callerRevoked: str(revoked, "api_key"), callerNone: "",
		callerProducerAll: str(producerAll, "producer_key"), callerProducerOwn: str(producerOwn, "producer_key"),
		callerProducerOther: str(producerOther, "producer_key"), callerProducerOff: str(producerAll, "producer_key"),
		callerProducerRevoked: str(producerRevoked, "producer_key"),
		callerTokenAll:        iss.Token("all@sender.iam.gserviceaccount.com", matrixAudience),
		callerTokenOther:      iss.Token("globex-only@sender.iam.gserviceaccount.com", matrixAudience),
		callerTokenStranger:   iss.Token("stranger@sender.iam.gserviceaccount.com", matrixAudience),
		callerTokenAudience:   iss.Token("all@sender.iam.gserviceaccount.com", "https://elsewhere.example"),
	}
	f.values = map[string]string{
		"tenant": "acme", "endpoint": str(ep, "id"), "event": str(evt, "id"), "key": str(spare, "id"),
		"id": str(evt, "id") + ":" + str(ep, "id"), "replay": str(rp, "replay_id"), "binding": str(sb, "id"),
	}
	// {key} is a tenant's API key under /v1/tenants, a producer key
	// under /v1/producer-keys (fill).
	f.producerKeyID = str(producerOwn, "id")
	for k, v := range f.tokens {
		if v == "" && k != callerNone {
			t.Fatalf("setup: no token for %s", k)
		}
	}
	return f
}

// disable disables acme, the path's tenant, with the admin token.
func (f *matrixFixture) disable(t *testing.T) {
	t.Helper()
	if w := f.do(t, http.MethodPatch, "/v1/tenants/acme", matrixAdminToken, `{"status":"disabled"}`); w.Code != http.StatusOK {
		t.Fatalf("setup: disable acme: %d %s", w.Code, w.Body)
	}
}

var wildcard = regexp.MustCompile(`\{([^}]*)\}`)

// fill replaces the wildcards of a route's path by values of the fixture;
// one it does not know becomes "x".
func (f *matrixFixture) fill(path string) string {
	if strings.HasPrefix(path, "/v1/producer-keys/") {
		return strings.Replace(path, "{key}", f.producerKeyID, 1)
	}
	return wildcard.ReplaceAllStringFunc(path, func(w string) string {
		name := strings.TrimSuffix(strings.Trim(w, "{}"), "...")
		if name == "$" {
			return ""
		}
		if v, ok := f.values[name]; ok {
			return v
		}
		return "x"
	})
}

func (f *matrixFixture) do(t *testing.T, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

func errorMessage(w *httptest.ResponseRecorder) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error.Message
}
