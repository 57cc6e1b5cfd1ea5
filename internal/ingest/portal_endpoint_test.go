package ingest_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// Every action of an endpoint's page checks the session's tenant, the
// CSRF token and the origin, and reaches the tenant's own endpoints only:
// another tenant's endpoint under the own tenant's URL is not found, and
// nothing of it changes.
func TestPortalEndpointIsolation(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	key := e.createTenant(t, "other")
	theirs := e.createEndpoint(t, "other", key, "https://other.example.com/hook")
	before, err := e.store.GetEndpoint(t.Context(), "other", theirs.ID)
	if err != nil {
		t.Fatal(err)
	}
	acme := e.session(t, "acme")
	csrf := csrfOf(t, e.page(http.MethodGet, "/portal/tenants/acme/endpoints", acme, nil).Body.String())
	forms := map[string]url.Values{
		"settings": {"csrf_token": {csrf}, "url": {"https://evil.example.com"}, "patterns": {"*"}, "description": {"taken"}},
		"verify":   {"csrf_token": {csrf}},
		"rotate":   {"csrf_token": {csrf}},
		"test":     {"csrf_token": {csrf}, "type": {"user.created"}, "data": {`{}`}},
	}
	type req struct {
		name, method, path string
		form               url.Values
		header             http.Header
		want               int
	}
	tests := []req{
		{"other tenant's page", http.MethodGet, "/portal/tenants/other/endpoints/" + theirs.ID, nil, nil, http.StatusForbidden},
		{"other's endpoint under own tenant", http.MethodGet, "/portal/tenants/acme/endpoints/" + theirs.ID, nil, nil, http.StatusNotFound},
		{"other's test event under own endpoint page", http.MethodGet, "/portal/tenants/acme/endpoints/" + theirs.ID + "?test_event=evt_x", nil, nil, http.StatusNotFound},
	}
	for action, form := range forms {
		noToken := url.Values{}
		for k, v := range form {
			if k != "csrf_token" {
				noToken[k] = v
			}
		}
		tests = append(tests,
			req{action + " of other tenant", http.MethodPost, "/portal/tenants/other/endpoints/" + theirs.ID + "/" + action, form, nil, http.StatusForbidden},
			req{action + " of other's endpoint under own tenant", http.MethodPost, "/portal/tenants/acme/endpoints/" + theirs.ID + "/" + action, form, nil, http.StatusNotFound},
			req{action + " without CSRF token", http.MethodPost, "/portal/tenants/acme/endpoints/" + theirs.ID + "/" + action, noToken, nil, http.StatusForbidden},
			req{action + " from another site", http.MethodPost, "/portal/tenants/acme/endpoints/" + theirs.ID + "/" + action, form, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.pageWith(tt.method, tt.path, acme, tt.form, tt.header)
			if w.Code != tt.want {
				t.Errorf("%s %s: %d, want %d; body %s", tt.method, tt.path, w.Code, tt.want, w.Body)
			}
			if strings.Contains(w.Body.String(), "other.example.com") {
				t.Errorf("the answer shows the other tenant's endpoint:\n%s", w.Body)
			}
		})
	}
	after, err := e.store.GetEndpoint(t.Context(), "other", theirs.ID)
	if err != nil || after.URL != before.URL || after.Description != before.Description || after.SecretVersion != before.SecretVersion {
		t.Errorf("other's endpoint = %+v, %v; want it untouched", after, err)
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("%d messages published, want none", n)
	}
}

// The endpoint page edits, verifies, rotates and tests through the rules
// of the API.
func TestPortalEndpointActions(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	if w := e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", adminToken, `{"event_types":["order.paid","user.created"]}`); w.Code != http.StatusOK {
		t.Fatalf("put catalogue: %d %s", w.Code, w.Body)
	}
	c := e.session(t, "acme")
	csrf := csrfOf(t, e.page(http.MethodGet, "/portal/tenants/acme/endpoints", c, nil).Body.String())
	w := e.page(http.MethodPost, "/portal/tenants/acme/endpoints", c, url.Values{"csrf_token": {csrf}, "url": {"https://a.example.com/h"}, "event_type": {"order.paid"}, "description": {"orders"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	eps, _ := e.store.ListEndpoints(t.Context(), "acme")
	ep := eps[0]
	page := "/portal/tenants/acme/endpoints/" + ep.ID
	if list := e.page(http.MethodGet, "/portal/tenants/acme/endpoints", c, nil).Body.String(); !strings.Contains(list, `href="`+page+`"`) {
		t.Errorf("the list does not link the endpoint's page:\n%s", list)
	}
	body := e.page(http.MethodGet, page, c, nil).Body.String()
	for _, want := range []string{`value="https://a.example.com/h"`, `value="orders"`, `value="order.paid" checked`, `<label for="timeout">`} {
		if !strings.Contains(body, want) {
			t.Errorf("endpoint page lacks %q:\n%s", want, body)
		}
	}

	t.Run("edit", func(t *testing.T) {
		tests := []struct {
			name    string
			form    url.Values
			want    int
			wantMsg string
		}{
			{"type outside the catalogue", url.Values{"url": {ep.URL}, "patterns": {"nope.*"}}, http.StatusBadRequest, "nope.*"},
			{"bad timeout", url.Values{"url": {ep.URL}, "event_type": {"order.paid"}, "timeout": {"soon"}}, http.StatusBadRequest, "soon"},
			{"timeout over the maximum", url.Values{"url": {ep.URL}, "event_type": {"order.paid"}, "timeout": {"10h"}}, http.StatusBadRequest, "timeout"},
			{"negative rate limit", url.Values{"url": {ep.URL}, "event_type": {"order.paid"}, "rate_limit": {"-1"}}, http.StatusBadRequest, "rate"},
			{"saved", url.Values{"url": {ep.URL}, "description": {"paid orders"}, "event_type": {"order.paid", "user.created"}, "timeout": {"5s"}, "rate_limit": {"3"}}, http.StatusSeeOther, "?saved=1"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.form.Set("csrf_token", csrf)
				w := e.page(http.MethodPost, page+"/settings", c, tt.form)
				if w.Code != tt.want || !strings.Contains(w.Body.String()+w.Header().Get("Location"), tt.wantMsg) {
					t.Errorf("%d, want %d mentioning %q:\n%s", w.Code, tt.want, tt.wantMsg, w.Body)
				}
			})
		}
		got, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID)
		if got.Description != "paid orders" || strings.Join(got.EventTypes, " ") != "order.paid user.created" || got.Timeout != hookrun.Duration(5e9) || got.RateLimit != 3 {
			t.Errorf("endpoint = %+v; want the saved settings", got)
		}
	})

	t.Run("verify", func(t *testing.T) {
		e.challenger.err = errors.New("answered 404")
		w := e.page(http.MethodPost, page+"/verify", c, url.Values{"csrf_token": {csrf}})
		got, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID)
		if w.Code != http.StatusSeeOther || got.Status != hookrun.EndpointPending || !strings.Contains(e.page(http.MethodGet, page, c, nil).Body.String(), "answered 404") {
			t.Errorf("failed challenge: %d, status %s; want 303, pending and the reason shown", w.Code, got.Status)
		}
		e.challenger.err = nil
		w = e.page(http.MethodPost, page+"/verify", c, url.Values{"csrf_token": {csrf}})
		if got, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID); w.Code != http.StatusSeeOther || got.Status != hookrun.EndpointActive {
			t.Errorf("answered challenge: %d, status %s; want 303 and active", w.Code, got.Status)
		}
	})

	t.Run("rotate", func(t *testing.T) {
		old, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID)
		w := e.page(http.MethodPost, page+"/rotate", c, url.Values{"csrf_token": {csrf}})
		got, _ := e.store.GetEndpoint(t.Context(), "acme", ep.ID)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "whsec_") || got.PreviousSecretVersion != old.SecretVersion {
			t.Fatalf("rotate: %d, previous %q (was current %q); want the new secret shown and the old one in its grace period:\n%s", w.Code, got.PreviousSecretVersion, old.SecretVersion, w.Body)
		}
		if again := e.page(http.MethodGet, page, c, nil).Body.String(); strings.Contains(again, "whsec_") {
			t.Errorf("the page shows a secret after the rotation's own answer:\n%s", again)
		}
	})

	t.Run("test event", func(t *testing.T) {
		tests := []struct {
			name, typ, data string
			want            int
			wantMsg         string
		}{
			{"reserved type", "hookrun.test", `{"a":1}`, http.StatusBadRequest, "reserved"},
			{"outside the catalogue", "nope.created", `{"a":1}`, http.StatusBadRequest, "catalogue"},
			{"not JSON", "user.created", `{"a":`, http.StatusBadRequest, "JSON"},
			{"not an object", "user.created", `[1]`, http.StatusBadRequest, "JSON object"},
			{"sent", "user.created", `{"a":1}`, http.StatusSeeOther, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n := len(e.pub.published())
				w := e.page(http.MethodPost, page+"/test", c, url.Values{"csrf_token": {csrf}, "type": {tt.typ}, "data": {tt.data}})
				if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.wantMsg) {
					t.Fatalf("%d, want %d mentioning %q:\n%s", w.Code, tt.want, tt.wantMsg, w.Body)
				}
				msgs := e.pub.published()
				if tt.want != http.StatusSeeOther {
					if len(msgs) != n {
						t.Errorf("a refused test event was published")
					}
					return
				}
				if len(msgs) != n+1 {
					t.Fatalf("%d messages published, want one more than %d", len(msgs), n)
				}
				a := msgs[n].attrs
				if a[wire.AttrEndpoint] != ep.ID || a[wire.AttrChain] == "" || a[wire.AttrEventType] != "user.created" || string(msgs[n].data) != `{"a":1}` {
					t.Errorf("published %v %s; want user.created for this endpoint only, in a chain of its own", a, msgs[n].data)
				}
				loc := w.Header().Get("Location")
				if want := page + "?test_event=" + a[wire.AttrEventID]; loc != want {
					t.Fatalf("redirect to %q, want %q", loc, want)
				}
				shown := e.page(http.MethodGet, loc, c, nil).Body.String()
				if !strings.Contains(shown, a[wire.AttrEventID]) || !strings.Contains(shown, "Not attempted yet") || !strings.Contains(shown, "/portal/tenants/acme/events/"+a[wire.AttrEventID]) {
					t.Errorf("the page does not show the test event awaiting its attempt, with a link to it:\n%s", shown)
				}
			})
		}
	})
}

// pageWith is page with extra request headers.
func (e *env) pageWith(method, path string, c *http.Cookie, form url.Values, header http.Header) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c != nil {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}
