package ingest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

type endpointJSON struct {
	ID                string   `json:"id"`
	URL               string   `json:"url"`
	Status            string   `json:"status"`
	DisabledReason    string   `json:"disabled_reason"`
	VerificationError string   `json:"verification_error"`
	AuthKind          string   `json:"auth_kind"`
	HeaderNames       []string `json:"header_names"`
	EventTypes        []string `json:"event_types"`
	Secret            string   `json:"secret"`
	PreviousUntil     string   `json:"previous_secret_expire_time"`
}

func (e *env) storedSecret(t *testing.T, tenantID, endpointID string) hookrun.EndpointSecret {
	t.Helper()
	ep, err := e.store.GetEndpoint(t.Context(), tenantID, endpointID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	p, err := e.secrets.Access(t.Context(), ep.SecretVersion)
	if err != nil {
		t.Fatalf("Access: %v", err)
	}
	var sec hookrun.EndpointSecret
	if err := json.Unmarshal(p, &sec); err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestEndpointCredentialsAreStoredAndNeverReturned(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	body := `{"url":"https://acme.example/h","event_types":["*"],
		"auth":{"kind":"bearer","token":"tok-s3cret"},"headers":{"X-Team":"billing-s3cret"}}`
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	created := decode[endpointJSON](t, w)
	if created.AuthKind != "bearer" || len(created.HeaderNames) != 1 || created.HeaderNames[0] != "X-Team" || created.Status != "active" {
		t.Errorf("created = %+v, want auth kind, header names and active (challenge answered)", created)
	}
	for _, path := range []string{"/v1/tenants/acme/endpoints", "/v1/tenants/acme/endpoints/" + created.ID} {
		got := e.do(t, http.MethodGet, path, key, "").Body.String()
		if strings.Contains(got, "s3cret") || strings.Contains(got, "whsec_") {
			t.Errorf("GET %s returns a credential or secret: %s", path, got)
		}
	}
	if strings.Contains(w.Body.String(), "s3cret") {
		t.Errorf("create response echoes the credentials: %s", w.Body)
	}
	sec := e.storedSecret(t, "acme", created.ID)
	if sec.Auth.Token != "tok-s3cret" || sec.Headers["X-Team"] != "billing-s3cret" || sec.SigningSecret != created.Secret {
		t.Errorf("Secret Manager holds %+v, want the credentials and the signing secret", sec)
	}
	// The challenge was sent with them.
	if n := len(e.challenger.seen); n != 1 || e.challenger.seen[0].Auth.Token != "tok-s3cret" {
		t.Errorf("challenges = %d, want 1 carrying the credentials", n)
	}
}

func TestEndpointBadCredentialsNameTheField(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	tests := []struct{ body, field string }{
		{`"auth":{"kind":"bearer"}`, "auth.token"},
		{`"auth":{"kind":"api_key","header":"X-Key"}`, "auth.key"},
		{`"auth":{"kind":"api_key","header":"bad header","key":"k"}`, "auth.header"},
		{`"auth":{"kind":"api_key","header":"Authorization","key":"k"}`, "auth.header"},
		{`"auth":{"kind":"basic","username":"a:b","password":"p"}`, "auth.username"},
		{`"auth":{"kind":"oauth"}`, "auth.kind"},
		{`"auth":{"kind":"bearer","token":"a\nb"}`, "auth.token"},
		{`"headers":{"webhook-signature":"x"}`, "headers.webhook-signature"},
		{`"headers":{"Connection":"close"}`, "headers.Connection"},
		{`"headers":{"Authorization":"Bearer x"}`, "headers.Authorization"},
		{`"headers":{"X-Ok":""}`, "headers.X-Ok"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"],`+tt.body+`}`)
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.field)
		})
	}
	if n := e.secrets.count(); n != 0 {
		t.Errorf("%d secrets stored for refused endpoints", n)
	}
}

func TestFailedChallengeLeavesEndpointPendingUntilVerified(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.challenger.err = errors.New("the endpoint answered 404 without echoing the challenge")
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"]}`)
	created := decode[endpointJSON](t, w)
	if w.Code != http.StatusCreated || created.Status != "pending" || !strings.Contains(created.VerificationError, "404") {
		t.Fatalf("create = %d %+v, want 201 pending with the reason", w.Code, created)
	}
	ep, _ := e.store.GetEndpoint(t.Context(), "acme", created.ID)
	if ep.Matches("user.created") {
		t.Error("a pending endpoint matches events")
	}
	e.challenger.err = nil
	w = e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints/"+created.ID+":verify", key, "")
	if got := decode[endpointJSON](t, w); w.Code != http.StatusOK || got.Status != "active" || got.VerificationError != "" {
		t.Errorf(":verify = %d %+v, want active", w.Code, got)
	}
	w = e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints/"+created.ID+":frobnicate", key, "")
	wantError(t, w, http.StatusNotFound, hookrun.CodeNotFound, ":verify")
}

func TestPatchEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	created := decode[endpointJSON](t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["user.*"]}`))
	path := "/v1/tenants/acme/endpoints/" + created.ID
	secretBefore := e.storedSecret(t, "acme", created.ID).SigningSecret

	w := e.do(t, http.MethodPatch, path, key, `{"event_types":["invoice.paid"],"description":"billing","timeout":"5s","retry_policy":{"max_attempts":3}}`)
	got := decode[endpointJSON](t, w)
	if w.Code != http.StatusOK || got.EventTypes[0] != "invoice.paid" || got.URL != "https://a.example/h" || got.Status != "active" {
		t.Fatalf("patch = %d %+v", w.Code, got)
	}
	ep, _ := e.store.GetEndpoint(t.Context(), "acme", created.ID)
	if ep.Description != "billing" || ep.RetryPolicy.MaxAttempts != 3 || ep.AttemptTimeout().Seconds() != 5 {
		t.Errorf("stored = %+v, want the patched fields", ep)
	}

	// Credentials: a new secret version, same signing secret.
	w = e.do(t, http.MethodPatch, path, key, `{"auth":{"kind":"basic","username":"u","password":"p"}}`)
	if got := decode[endpointJSON](t, w); got.AuthKind != "basic" {
		t.Errorf("auth kind after patch = %q", got.AuthKind)
	}
	if sec := e.storedSecret(t, "acme", created.ID); sec.Auth.Password != "p" || sec.SigningSecret != secretBefore {
		t.Errorf("secret after patching auth = %+v, want the new auth and the same signing secret", sec)
	}

	// A new URL must pass the challenge again.
	challenges := len(e.challenger.seen)
	e.challenger.err = errors.New("no answer")
	got = decode[endpointJSON](t, e.do(t, http.MethodPatch, path, key, `{"url":"https://b.example/h"}`))
	if got.Status != "pending" || len(e.challenger.seen) != challenges+1 {
		t.Errorf("after URL change: %s, %d challenges; want pending after one more", got.Status, len(e.challenger.seen)-challenges)
	}
	e.challenger.err = nil

	// Disable and re-enable.
	got = decode[endpointJSON](t, e.do(t, http.MethodPatch, path, key, `{"enabled":false}`))
	if got.Status != "disabled" || !strings.Contains(got.DisabledReason, "by the tenant") {
		t.Errorf("disable: %+v, want the reason to say the tenant did it", got)
	}
	w = e.do(t, http.MethodPost, path+":verify", key, "")
	wantError(t, w, httpapi.Status(hookrun.CodeFailedPrecondition), hookrun.CodeFailedPrecondition, "disabled")
	got = decode[endpointJSON](t, e.do(t, http.MethodPatch, path, key, `{"enabled":true}`))
	if got.Status != "active" || got.DisabledReason != "" {
		t.Errorf("re-enable: %+v", got)
	}

	for _, bad := range []struct{ body, field string }{
		{`{"url":"ftp://x"}`, "url"},
		{`{"event_types":[]}`, "event_types"},
		{`{"timeout":"2m"}`, "timeout"},
		{`{"retry_policy":{"jitter":2}}`, "retry_policy.jitter"},
		{`{"on_client_error":"explode"}`, "on_client_error"},
		{`{"colour":"red"}`, "colour"},
	} {
		wantError(t, e.do(t, http.MethodPatch, path, key, bad.body), http.StatusBadRequest, hookrun.CodeInvalidArgument, bad.field)
	}
	wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/ep_nope", key, `{"description":"x"}`), http.StatusNotFound, hookrun.CodeNotFound, "")
}

func TestRotateSecret(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) {})
	key := e.createTenant(t, "acme")
	created := decode[endpointJSON](t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"]}`))
	path := "/v1/tenants/acme/endpoints/" + created.ID
	first, _ := e.store.GetEndpoint(t.Context(), "acme", created.ID)

	w := e.do(t, http.MethodPost, path+"/secret:rotate", key, "")
	rotated := decode[endpointJSON](t, w)
	if w.Code != http.StatusOK || !strings.HasPrefix(rotated.Secret, signature.SecretPrefix) || rotated.Secret == created.Secret || rotated.PreviousUntil == "" {
		t.Fatalf("rotate = %d %s, want a new secret and the grace end", w.Code, w.Body)
	}
	ep, _ := e.store.GetEndpoint(t.Context(), "acme", created.ID)
	cur, prev := ep.SigningVersions(ep.PreviousSecretUntil.Add(-1))
	if prev != first.SecretVersion || cur == first.SecretVersion {
		t.Errorf("signing versions during grace = %s, %s; want the new one and the old one", cur, prev)
	}
	if _, prev := ep.SigningVersions(ep.PreviousSecretUntil); prev != "" {
		t.Error("the old secret still signs after its grace period")
	}
	if got := e.do(t, http.MethodGet, path, key, "").Body.String(); strings.Contains(got, rotated.Secret) {
		t.Error("GET returns the new secret")
	}
	// The old version's retirement is scheduled for the end of the grace
	// (which the store keeps to the microsecond).
	task, ok := e.retirer.tasks[hookrun.RetireTaskID(first.SecretVersion)]
	var body wire.RetireSecretTask
	if !ok || json.Unmarshal(task.body, &body) != nil || body.Version != first.SecretVersion || !task.at.Truncate(time.Microsecond).Equal(ep.PreviousSecretUntil) {
		t.Errorf("retirement task = %+v (%s), want one for %s at %v", task, task.body, first.SecretVersion, ep.PreviousSecretUntil)
	}

	// Rotating again during the grace period retires the oldest secret.
	second := ep.SecretVersion
	decode[endpointJSON](t, e.do(t, http.MethodPost, path+"/secret:rotate", key, `{"grace_period":"1h"}`))
	if _, err := e.secrets.Access(t.Context(), first.SecretVersion); err == nil {
		t.Error("the first secret version is still readable after a second rotation")
	}
	ep, _ = e.store.GetEndpoint(t.Context(), "acme", created.ID)
	if ep.PreviousSecretVersion != second {
		t.Errorf("previous version = %s, want %s", ep.PreviousSecretVersion, second)
	}
	// No grace: the old secret is disabled at once.
	decode[endpointJSON](t, e.do(t, http.MethodPost, path+"/secret:rotate", key, `{"grace_period":"0s"}`))
	ep, _ = e.store.GetEndpoint(t.Context(), "acme", created.ID)
	if ep.PreviousSecretVersion != "" {
		t.Errorf("grace 0s left a previous version %s", ep.PreviousSecretVersion)
	}
	wantError(t, e.do(t, http.MethodPost, path+"/secret:rotate", key, `{"grace_period":"9999h"}`), http.StatusBadRequest, hookrun.CodeInvalidArgument, "grace_period")
}

// Creating an endpoint and changing one apply the same rules
// (hookrun.Endpoint.Apply): what a PATCH stores is what a create with the
// same fields stores, and both refuse alike.
func TestCreateAndPatchNormaliseAlike(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	fields := []struct {
		name, json string
	}{
		{"description with surrounding space", `"description":"  billing  "`},
		{"repeated event types", `"event_types":["user.*","invoice.paid","user.*"]`},
		{"timeout", `"timeout":"5s"`},
		{"rate limit", `"rate_limit":7`},
		{"trace propagation", `"propagate_trace":true`},
		{"retry policy", `"retry_policy":{"max_attempts":3}`},
	}
	stored := func(t *testing.T, id string) hookrun.Endpoint {
		t.Helper()
		ep, err := e.store.GetEndpoint(t.Context(), "acme", id)
		if err != nil {
			t.Fatalf("GetEndpoint: %v", err)
		}
		return ep
	}
	settings := func(ep hookrun.Endpoint) string {
		b, _ := json.Marshal(struct {
			EventTypes  []string            `json:"event_types"`
			Description string              `json:"description"`
			Timeout     hookrun.Duration    `json:"timeout"`
			RateLimit   int                 `json:"rate_limit"`
			RetryPolicy hookrun.RetryPolicy `json:"retry_policy"`
			Propagate   bool                `json:"propagate_trace"`
		}{ep.EventTypes, ep.Description, ep.Timeout, ep.RateLimit, ep.RetryPolicy, ep.PropagateTrace})
		return string(b)
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			eventTypes := `"event_types":["*"],`
			if strings.HasPrefix(f.json, `"event_types"`) {
				eventTypes = ""
			}
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h",`+eventTypes+f.json+`}`)
			if w.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			created := stored(t, decode[endpointJSON](t, w).ID)

			w = e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"]}`)
			id := decode[endpointJSON](t, w).ID
			if w = e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+id, key, `{`+f.json+`}`); w.Code != http.StatusOK {
				t.Fatalf("patch: %d %s", w.Code, w.Body)
			}
			if got, want := settings(stored(t, id)), settings(created); got != want {
				t.Errorf("patched with {%s}: stored %s, want %s as created", f.json, got, want)
			}
		})
	}
	for _, bad := range []struct{ json, field string }{
		{`"timeout":"0.5s"`, "timeout: between 1s and 60s"},
		{`"timeout":"61s"`, "timeout: between 1s and 60s"},
		{`"rate_limit":-1`, "rate_limit"},
		{`"description":"` + strings.Repeat("d", 513) + `"`, "description"},
		{`"description":"a\nb"`, "description"},
	} {
		t.Run("refuses "+bad.json[:min(len(bad.json), 30)], func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"],`+bad.json+`}`)
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, bad.field)
			id := decode[endpointJSON](t, e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"]}`)).ID
			wantError(t, e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+id, key, `{`+bad.json+`}`), http.StatusBadRequest, hookrun.CodeInvalidArgument, bad.field)
		})
	}
}

// TestPropagateTraceIsOffUntilAsked: an endpoint sends no trace context
// unless created or patched to.
func TestPropagateTraceIsOffUntilAsked(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/endpoints", key, `{"url":"https://a.example/h","event_types":["*"]}`)
	id := decode[endpointJSON](t, w).ID
	for _, step := range []struct {
		name, patch string
		want        bool
	}{
		{"created", "", false},
		{"patched on", `{"propagate_trace":true}`, true},
		{"other change keeps it", `{"description":"x"}`, true},
		{"patched off", `{"propagate_trace":false}`, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.patch != "" {
				if w := e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+id, key, step.patch); w.Code != http.StatusOK {
					t.Fatalf("patch: %d %s", w.Code, w.Body)
				}
			}
			ep, err := e.store.GetEndpoint(t.Context(), "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			if ep.PropagateTrace != step.want {
				t.Errorf("propagate_trace = %v, want %v", ep.PropagateTrace, step.want)
			}
		})
	}
}
