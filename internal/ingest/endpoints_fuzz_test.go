package ingest_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/signature"
)

// endpointBodySeeds are create and patch bodies of endpoints, both kinds
// in both targets.
var endpointBodySeeds = []string{
	`{"url":"https://example.com/webhooks","event_types":["user.*"],"description":"test"}`,
	`{"url":"https://example.com/hooks?x=1","event_types":["*","invoice.paid","invoice.paid"],"description":"  all  ",` +
		`"retry_policy":{"initial_delay":"10s","max_attempts":3},"on_client_error":"dead_letter","timeout":"30s","rate_limit":50,` +
		`"auth":{"kind":"api_key","header":"X-Api-Key","key":"k-123"},"headers":{"X-Team":"payments"}}`,
	`{"url":"https://example.com/","event_types":["*"],"auth":{"kind":"basic","username":"u","password":"p"}}`,
	`{"url":"https://example.com/","event_types":["*"],"auth":{"kind":"bearer","token":"t\r\nX-Evil: 1"}}`,
	`{"url":"https://example.com/","event_types":["*"],"headers":{"Host":"evil"}}`,
	`{"url":"https://example.com/","event_types":["*"],"headers":{"X-A":"b\u0000"}}`,
	`{"url":"http://example.com/","event_types":["*"]}`,
	`{"url":"https://user:pw@example.com/","event_types":["*"]}`,
	`{"url":"https://example.com/#frag","event_types":["*"]}`,
	`{"url":"ftp://example.com/","event_types":["*"]}`,
	`{"url":"https://","event_types":["*"]}`,
	`{"url":"https://example.com/","event_types":[]}`,
	`{"url":"https://example.com/","event_types":["User.*"]}`,
	`{"url":"https://example.com/","event_types":["*"],"timeout":"90s"}`,
	`{"url":"https://example.com/","event_types":["*"],"rate_limit":-1}`,
	`{"url":"https://example.com/","event_types":["*"],"on_client_error":"drop"}`,
	`{"url":"https://example.com/","event_types":["*"],"description":"` + strings.Repeat("d", 513) + `"}`,
	`{"url":"https://example.com/","event_types":["*"],"secret":"whsec_x"}`,
	`{"url":"https://example.com/other"}`,
	`{"event_types":["invoice.*"]}`,
	`{"description":"new"}`,
	`{"enabled":false}`,
	`{"enabled":true}`,
	`{"timeout":"0s"}`,
	`{"auth":{"kind":"none"},"headers":{}}`,
	`{"url":null}`,
	`{}`, `[]`, `null`, ``, `{"url":1}`,
}

// checkEndpoint checks a stored endpoint and its stored secret against the
// domain's rules.
func checkEndpoint(t *testing.T, e *env, ep hookrun.Endpoint) {
	t.Helper()
	if err := (hookrun.URLPolicy{}).Validate(ep.URL); err != nil {
		t.Fatalf("stored endpoint url %q: %v", ep.URL, err)
	}
	ps, err := hookrun.ParsePatterns(ep.EventTypes)
	if err != nil || !slices.Equal(ps.Strings(), ep.EventTypes) {
		t.Fatalf("stored endpoint event types %q: %v", ep.EventTypes, err)
	}
	checkText(t, "endpoint description", ep.Description)
	if utf8.RuneCountInString(ep.Description) > 512 {
		t.Fatalf("stored endpoint description of %d characters, want at most 512", utf8.RuneCountInString(ep.Description))
	}
	if err := ep.RetryPolicy.Validate(); err != nil {
		t.Fatalf("stored endpoint retry policy %+v: %v", ep.RetryPolicy, err)
	}
	if err := ep.OnClientError.Validate(); err != nil {
		t.Fatalf("stored endpoint on_client_error: %v", err)
	}
	if d := time.Duration(ep.Timeout); d != 0 && (d < time.Second || d > time.Minute) {
		t.Fatalf("stored endpoint timeout %v, want 0 or 1s to 60s", d)
	}
	if err := hookrun.ValidateRateLimit(ep.RateLimit); err != nil {
		t.Fatalf("stored endpoint rate limit: %v", err)
	}
	payload, err := e.secrets.Access(t.Context(), ep.SecretVersion)
	if err != nil {
		t.Fatalf("stored endpoint's secret %q: %v", ep.SecretVersion, err)
	}
	var sec hookrun.EndpointSecret
	if err := json.Unmarshal(payload, &sec); err != nil {
		t.Fatalf("stored endpoint's secret is not JSON: %v", err)
	}
	if _, err := signature.ParseSecret(sec.SigningSecret); err != nil {
		t.Fatalf("stored endpoint's signing secret: %v", err)
	}
	if err := sec.Validate(); err != nil {
		t.Fatalf("stored endpoint's credentials: %v", err)
	}
}

// FuzzCreateEndpoint feeds POST /v1/tenants/{tenant}/endpoints any body,
// with the tenant's key. The answer is 201, 400 or 413; an endpoint and
// its secret are stored only with a 201, and then under the domain's
// rules, its description valid UTF-8 without NUL, CR or LF.
func FuzzCreateEndpoint(f *testing.F) {
	for _, s := range endpointBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		w := e.send(http.MethodPost, "/v1/tenants/acme/endpoints", key, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		eps := e.store.endpointsOf("acme")
		if w.Code != http.StatusCreated {
			if len(eps) != 0 || e.secrets.count() != 0 {
				t.Fatalf("answered %d but stored %d endpoints and %d secrets", w.Code, len(eps), e.secrets.count())
			}
			return
		}
		if len(eps) != 1 || eps[0].ID != decode[endpointCreated](t, w).ID {
			t.Fatalf("201 %s, stored %+v: want the endpoint stored once", w.Body, eps)
		}
		checkEndpoint(t, e, eps[0])
	})
}

// FuzzPatchEndpoint feeds PATCH /v1/tenants/{tenant}/endpoints/{endpoint}
// any body, with the tenant's key. The answer is 200, 400 or 413; what a
// 200 stores keeps the domain's rules, its description valid UTF-8
// without NUL, CR or LF; any other answer changes nothing.
func FuzzPatchEndpoint(f *testing.F) {
	for _, s := range endpointBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		created := e.createEndpoint(t, "acme", key, "https://example.com/webhooks")
		before := e.store.endpointsOf("acme")
		w := e.send(http.MethodPatch, "/v1/tenants/acme/endpoints/"+created.ID, key, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		after := e.store.endpointsOf("acme")
		if w.Code != http.StatusOK {
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("answered %d but the endpoint changed from %+v to %+v", w.Code, before, after)
			}
			return
		}
		if len(after) != 1 {
			t.Fatalf("stored %d endpoints after a PATCH, want 1", len(after))
		}
		checkEndpoint(t, e, after[0])
	})
}

// FuzzRotateSecret feeds POST …/endpoints/{endpoint}/secret:rotate any
// body (its grace_period is a duration). The answer is 200, 400 or 413; a
// 200 makes a new current secret and keeps the old one signing for 0 to
// 168 hours; any other answer changes nothing.
func FuzzRotateSecret(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"grace_period":"1h"}`, `{"grace_period":"0s"}`, `{"grace_period":"168h"}`, `{"grace_period":"168h0m0.000000001s"}`,
		`{"grace_period":"-1s"}`, `{"grace_period":"2562047h47m16.854775807s"}`, `{"grace_period":3600}`, `{"grace_period":"soon"}`,
		`{"grace_period":null}`, `{"grace":"1h"}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		created := e.createEndpoint(t, "acme", key, "https://example.com/webhooks")
		before := e.store.endpointsOf("acme")[0]
		start := time.Now()
		w := e.send(http.MethodPost, "/v1/tenants/acme/endpoints/"+created.ID+"/secret:rotate", key, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		after := e.store.endpointsOf("acme")[0]
		if w.Code != http.StatusOK {
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("answered %d but the endpoint changed from %+v to %+v", w.Code, before, after)
			}
			return
		}
		checkEndpoint(t, e, after)
		if after.SecretVersion == before.SecretVersion {
			t.Fatalf("rotated, but the current secret version is still %q", after.SecretVersion)
		}
		if after.PreviousSecretVersion == "" {
			return // a grace period of 0s: the old secret stopped at once
		}
		if grace := after.PreviousSecretUntil.Sub(start); after.PreviousSecretVersion != before.SecretVersion || grace < 0 || grace > 168*time.Hour+time.Minute {
			t.Fatalf("previous secret %q until %v (%v from now), want %q for 0 to 168h", after.PreviousSecretVersion, after.PreviousSecretUntil, grace, before.SecretVersion)
		}
	})
}
