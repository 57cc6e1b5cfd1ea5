package ingest_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type limitsJSON struct {
	MaxEndpoints       int `json:"max_endpoints"`
	MaxEventsPerSecond int `json:"max_events_per_second"`
}

type tenantWithLimits struct {
	Name   string      `json:"name"`
	Limits *limitsJSON `json:"limits"`
}

// setLimits sets tenant id's limits with the admin token.
func (e *env) setLimits(t *testing.T, id, limits string) {
	t.Helper()
	if w := e.do(t, http.MethodPatch, "/v1/tenants/"+id, adminToken, `{"limits":`+limits+`}`); w.Code != http.StatusOK {
		t.Fatalf("PATCH limits %s: %d %s", limits, w.Code, w.Body)
	}
}

func (e *env) storedLimits(id string) hookrun.TenantLimits {
	t, _ := e.store.GetTenant(context.Background(), id)
	return t.Limits
}

func TestTenantLimits(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme","limits":{"max_endpoints":5}}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create tenant with limits: %d %s", w.Code, w.Body)
	}
	if got := decode[tenantWithLimits](t, w); got.Limits == nil || *got.Limits != (limitsJSON{MaxEndpoints: 5}) {
		t.Errorf("created tenant's limits = %+v, want max_endpoints 5", got.Limits)
	}
	key := decode[struct {
		APIKey string `json:"api_key"`
	}](t, w).APIKey

	steps := []struct {
		name, body string
		want       hookrun.TenantLimits
	}{
		{"set both", `{"limits":{"max_endpoints":10000,"max_events_per_second":100000}}`, hookrun.TenantLimits{MaxEndpoints: 10000, MaxEventsPerSecond: 100000}},
		{"renaming keeps them", `{"name":"Acme Corp"}`, hookrun.TenantLimits{MaxEndpoints: 10000, MaxEventsPerSecond: 100000}},
		{"null changes nothing", `{"name":"Acme","limits":null}`, hookrun.TenantLimits{MaxEndpoints: 10000, MaxEventsPerSecond: 100000}},
		{"they are replaced as a whole", `{"limits":{"max_events_per_second":1}}`, hookrun.TenantLimits{MaxEventsPerSecond: 1}},
		{"zero is no limit", `{"limits":{"max_endpoints":0,"max_events_per_second":1}}`, hookrun.TenantLimits{MaxEventsPerSecond: 1}},
		{"empty lifts them", `{"limits":{}}`, hookrun.TenantLimits{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			w := e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, st.body)
			if w.Code != http.StatusOK {
				t.Fatalf("PATCH %s: %d %s", st.body, w.Code, w.Body)
			}
			if got := e.storedLimits("acme"); got != st.want {
				t.Errorf("stored limits = %+v, want %+v", got, st.want)
			}
			// GET answers them, to the admin and to the tenant; no limits
			// at all leave the field out.
			for _, token := range []string{adminToken, key} {
				got := decode[tenantWithLimits](t, e.do(t, http.MethodGet, "/v1/tenants/acme", token, ""))
				var gotLimits hookrun.TenantLimits
				if got.Limits != nil {
					gotLimits = hookrun.TenantLimits(*got.Limits)
				}
				if gotLimits != st.want || (got.Limits == nil) != (st.want == hookrun.TenantLimits{}) {
					t.Errorf("GET limits = %+v, want %+v", got.Limits, st.want)
				}
			}
		})
	}
}

func TestTenantLimitsRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.setLimits(t, "acme", `{"max_endpoints":3}`)
	tests := []struct {
		name   string
		token  string
		body   string
		status int
		code   hookrun.Code
		msg    string
	}{
		{"tenant key", key, `{"limits":{"max_endpoints":100}}`, 403, hookrun.CodePermissionDenied, "limits: only the admin token"},
		{"tenant key lifting them", key, `{"limits":{}}`, 403, hookrun.CodePermissionDenied, "limits:"},
		{"tenant key with a name", key, `{"name":"Acme","limits":{"max_endpoints":100}}`, 403, hookrun.CodePermissionDenied, "limits:"},
		{"negative endpoints", adminToken, `{"limits":{"max_endpoints":-1}}`, 400, hookrun.CodeInvalidArgument, "limits.max_endpoints:"},
		{"too many endpoints", adminToken, `{"limits":{"max_endpoints":10001}}`, 400, hookrun.CodeInvalidArgument, "limits.max_endpoints: must be 1 to 10000"},
		{"fractional endpoints", adminToken, `{"limits":{"max_endpoints":2.5}}`, 400, hookrun.CodeInvalidArgument, "limits.max_endpoints:"},
		{"endpoints as a string", adminToken, `{"limits":{"max_endpoints":"3"}}`, 400, hookrun.CodeInvalidArgument, "limits.max_endpoints:"},
		{"negative rate", adminToken, `{"limits":{"max_events_per_second":-1}}`, 400, hookrun.CodeInvalidArgument, "limits.max_events_per_second:"},
		{"rate too high", adminToken, `{"limits":{"max_events_per_second":100001}}`, 400, hookrun.CodeInvalidArgument, "limits.max_events_per_second: must be 1 to 100000"},
		{"unknown limit", adminToken, `{"limits":{"max_keys":3}}`, 400, hookrun.CodeInvalidArgument, "limits.max_keys: unknown field"},
		{"not an object", adminToken, `{"limits":5}`, 400, hookrun.CodeInvalidArgument, "limits:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/acme", tt.token, tt.body), tt.status, tt.code, tt.msg)
			got := e.storedTenant(t, "acme")
			if got.Name != "Tenant acme" || got.Limits != (hookrun.TenantLimits{MaxEndpoints: 3}) {
				t.Errorf("after a refused update, tenant = %+v, want it unchanged", got)
			}
		})
	}

	// Creating a tenant checks them the same way, and stores nothing.
	for _, body := range []string{
		`{"id":"globex","name":"Globex","limits":{"max_endpoints":10001}}`,
		`{"id":"globex","name":"Globex","limits":{"max_events_per_second":-2}}`,
		`{"id":"globex","name":"Globex","limits":{"rps":2}}`,
	} {
		w := e.do(t, http.MethodPost, "/v1/tenants", adminToken, body)
		wantError(t, w, 400, hookrun.CodeInvalidArgument, "limits.")
		_, err := e.store.GetTenant(t.Context(), "globex")
		stored := hookrun.ErrorCode(err) != hookrun.CodeNotFound
		if stored {
			t.Fatalf("POST %s stored the tenant", body)
		}
	}
}

func TestMaxEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	otherKey := e.createTenant(t, "globex")
	e.setLimits(t, "acme", `{"max_endpoints":2}`)
	first := e.createEndpoint(t, "acme", key, "https://1.example.com/hook")
	e.createEndpoint(t, "acme", adminToken, "https://2.example.com/hook")
	challenges := func() int {
		e.challenger.mu.Lock()
		defer e.challenger.mu.Unlock()
		return len(e.challenger.seen)
	}
	secretsBefore, challengesBefore := e.secrets.count(), challenges()

	for _, token := range []string{key, adminToken} {
		w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", token, `{"url":"https://3.example.com/hook","event_types":["user.*"]}`)
		wantError(t, w, 400, hookrun.CodeFailedPrecondition, `tenant "acme" may have at most 2 endpoints`)
	}
	if n := len(e.store.endpointsOf("acme")); n != 2 {
		t.Errorf("acme has %d endpoints, want 2", n)
	}
	if e.secrets.count() != secretsBefore || challenges() != challengesBefore {
		t.Errorf("refused creates made %d secrets and %d challenges, want none", e.secrets.count()-secretsBefore, challenges()-challengesBefore)
	}
	// A bad request is still told what is wrong with it first.
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"ftp://x","event_types":["user.*"]}`), 400, hookrun.CodeInvalidArgument, "url")

	// Other tenants have their own limits (none here).
	for i := range 3 {
		e.createEndpoint(t, "globex", otherKey, fmt.Sprintf("https://%d.example.org/hook", i))
	}
	// Deleting one makes room; lifting the limit lets the tenant grow.
	if w := e.do(t, http.MethodDelete, "/v1/tenants/acme/endpoints/"+first.ID, key, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete endpoint: %d %s", w.Code, w.Body)
	}
	e.createEndpoint(t, "acme", key, "https://3.example.com/hook")
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://4.example.com/hook","event_types":["user.*"]}`),
		400, hookrun.CodeFailedPrecondition, "at most 2")
	e.setLimits(t, "acme", `{}`)
	e.createEndpoint(t, "acme", key, "https://4.example.com/hook")

	// Lowering the limit below what the tenant has deletes nothing.
	e.setLimits(t, "acme", `{"max_endpoints":1}`)
	if n := len(e.store.endpointsOf("acme")); n != 3 {
		t.Errorf("after lowering the limit acme has %d endpoints, want its 3", n)
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://5.example.com/hook","event_types":["user.*"]}`),
		400, hookrun.CodeFailedPrecondition, "at most 1")
}

// burst sends events with key until one is refused, up to max, and
// returns how many were accepted, the refusal (nil if none) and how long
// it took. Each event gets its own id, prefix-n.
func burst(t *testing.T, e *env, key, prefix string, max int) (int, *httptest.ResponseRecorder, time.Duration) {
	t.Helper()
	start := time.Now()
	for n := range max {
		w := e.do(t, http.MethodPost, "/v1/events", key, fmt.Sprintf(`{"id":"%s-%d","type":"user.created","data":{}}`, prefix, n))
		if w.Code != http.StatusAccepted {
			return n, w, time.Since(start)
		}
	}
	return max, nil, time.Since(start)
}

// wantBurst checks that a burst at perSecond passed at least its limit,
// no more than the tokens that came back meanwhile (the test does not
// sleep, but a slow machine may take long enough for one), and then was
// refused with 429 and a Retry-After.
func wantBurst(t *testing.T, perSecond, accepted int, refused *httptest.ResponseRecorder, took time.Duration) {
	t.Helper()
	refilled := int(math.Ceil(took.Seconds() * float64(perSecond)))
	if accepted < perSecond || accepted > perSecond+refilled {
		t.Errorf("burst at %d/s: %d events accepted in %v, want %d (up to %d more for the time it took)", perSecond, accepted, took, perSecond, refilled)
	}
	if refused == nil {
		t.Fatalf("burst at %d/s: no event refused", perSecond)
	}
	wantError(t, refused, http.StatusTooManyRequests, hookrun.CodeResourceExhausted, fmt.Sprintf("at most %d events per second", perSecond))
	if s, err := strconv.Atoi(refused.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds, at least 1", refused.Header().Get("Retry-After"))
	}
}

func TestMaxEventsPerSecond(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	otherKey := e.createTenant(t, "globex")
	e.setLimits(t, "acme", `{"max_events_per_second":2}`)

	accepted, refused, took := burst(t, e, key, "a", 20)
	wantBurst(t, 2, accepted, refused, took)
	// The refused event was neither stored nor published.
	if _, ok := e.store.event("acme", fmt.Sprintf("a-%d", accepted)); ok {
		t.Errorf("refused event a-%d was stored", accepted)
	}
	if n := len(e.pub.published()); n != accepted {
		t.Errorf("%d events published, want the %d accepted", n, accepted)
	}
	if n := e.store.eventCount(); n != accepted {
		t.Errorf("%d events stored, want the %d accepted", n, accepted)
	}

	// Another tenant has its own limit (none here).
	if n, w, _ := burst(t, e, otherKey, "g", 10); n != 10 {
		t.Errorf("globex: %d of 10 events accepted, refused with %d %s", n, w.Code, w.Body)
	}
	if n := len(e.pub.published()); n != accepted+10 {
		t.Errorf("%d events published, want %d", n, accepted+10)
	}
}

// The limit is checked after the caller is known and before the body is
// read: over it, a bad body is a 429 too.
func TestEventLimitCheckedFirst(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.setLimits(t, "acme", `{"max_events_per_second":1}`)
	start := time.Now()
	if w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`); w.Code != http.StatusAccepted {
		t.Fatalf("first event: %d %s", w.Code, w.Body)
	}
	bad := e.do(t, http.MethodPost, "/v1/events", key, `{"type":`)
	if time.Since(start) < time.Second { // the bucket is still empty
		wantError(t, bad, 429, hookrun.CodeResourceExhausted, "events per second")
	}
	wantError(t, e.do(t, http.MethodPost, "/v1/events", "", `{"type":"user.created","data":{}}`), 401, hookrun.CodeUnauthenticated, "credentials")
	wantError(t, e.do(t, http.MethodPost, "/v1/events", "hkr_"+strings.Repeat("x", 43), `{"type":"user.created","data":{}}`), 401, hookrun.CodeUnauthenticated, "credentials")
	wantError(t, e.do(t, http.MethodPost, "/v1/events", adminToken, `{"type":"user.created","data":{}}`), 403, hookrun.CodePermissionDenied, "tenant's API key")
	if n := len(e.pub.published()); n != 1 {
		t.Errorf("%d events published, want the first only", n)
	}
}

// PATCH drops the tenant from this instance's cache, so the next event
// sees the new limit and gets a bucket of its size.
func TestEventLimitChangeTakesEffect(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.setLimits(t, "acme", `{"max_events_per_second":2}`)
	accepted, refused, took := burst(t, e, key, "a", 20)
	wantBurst(t, 2, accepted, refused, took)

	// Raised: the old bucket, empty, would refuse at once.
	e.setLimits(t, "acme", `{"max_events_per_second":5}`)
	accepted, refused, took = burst(t, e, key, "b", 50)
	wantBurst(t, 5, accepted, refused, took)

	// Lowered.
	e.setLimits(t, "acme", `{"max_events_per_second":1,"max_endpoints":3}`)
	start := time.Now()
	accepted, refused, took = burst(t, e, key, "c", 50)
	wantBurst(t, 1, accepted, refused, took)

	// Another limit changed, the rate kept: the bucket stays, emptied
	// by the burst until a second after it started.
	e.setLimits(t, "acme", `{"max_events_per_second":1}`)
	w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`)
	if w.Code == http.StatusAccepted && time.Since(start) < time.Second {
		t.Errorf("after a PATCH that kept the rate, an event was accepted from the emptied bucket")
	}

	// Lifted.
	e.setLimits(t, "acme", `{}`)
	if accepted, w, _ := burst(t, e, key, "e", 50); accepted != 50 {
		t.Errorf("without a limit %d of 50 events accepted, refused with %d %s", accepted, w.Code, w.Body)
	}
}
