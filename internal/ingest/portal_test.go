package ingest_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

type portalLink struct {
	URL        string    `json:"url"`
	ExpireTime time.Time `json:"expire_time"`
}

// portalLinkOf asks for a portal link of tenant as token.
func (e *env) portalLinkOf(t *testing.T, tenant, token string) portalLink {
	t.Helper()
	w := e.do(t, http.MethodPost, "/v1/tenants/"+tenant+"/portal-sessions", token, "")
	if w.Code != http.StatusCreated {
		t.Fatalf("create portal session: %d %s", w.Code, w.Body)
	}
	return decode[portalLink](t, w)
}

// open opens a portal link and returns the answer.
func (e *env) open(link string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, link, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// session opens a new link of tenant and returns its session cookie.
func (e *env) session(t *testing.T, tenant string) *http.Cookie {
	t.Helper()
	w := e.open(e.portalLinkOf(t, tenant, adminToken).URL, nil)
	cs := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("open link: %d, cookies %v; want 303 and a session cookie", w.Code, cs)
	}
	return cs[0]
}

// page sends a portal request with a session cookie (nil: none) and, for
// a form, its fields.
func (e *env) page(method, path string, c *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	return e.pageWith(method, path, c, form, nil)
}

// csrfOf reads the CSRF token of the page's first form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	const mark = `name="csrf_token" value="`
	i := strings.Index(page, mark)
	if i < 0 {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	rest := page[i+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestPortalSessionCreate(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.createTenant(t, "acme")
	other := e.createTenant(t, "other")
	tests := []struct {
		name, token, body string
		want              int
		wantTTL           time.Duration
	}{
		{"admin, default ttl", adminToken, "", http.StatusCreated, time.Hour},
		{"tenant's key, 24h", acme, `{"ttl":"24h"}`, http.StatusCreated, 24 * time.Hour},
		{"another tenant's key", other, "", http.StatusForbidden, 0},
		{"no credentials", "", "", http.StatusUnauthorized, 0},
		{"ttl over 24h", adminToken, `{"ttl":"25h"}`, http.StatusBadRequest, 0},
		{"unknown field", adminToken, `{"tll":"1h"}`, http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/portal-sessions", tt.token, tt.body)
			if w.Code != tt.want {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tt.want)
			}
			if tt.want != http.StatusCreated {
				return
			}
			l := decode[portalLink](t, w)
			if !strings.HasPrefix(l.URL, "http://example.com/portal/open?token=hkp_") {
				t.Errorf("url = %q, want an absolute link to /portal/open on the request's host", l.URL)
			}
			if d := l.ExpireTime.Sub(before); d < tt.wantTTL-2*time.Second || d > tt.wantTTL+time.Second {
				t.Errorf("expire_time %v is %v away, want %v", l.ExpireTime, d, tt.wantTTL)
			}
		})
	}
	w := e.do(t, http.MethodPost, "/v1/tenants/nobody/portal-sessions", adminToken, "")
	wantError(t, w, http.StatusNotFound, hookrun.CodeNotFound, "nobody")
}

func TestPortalOpen(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")

	t.Run("once", func(t *testing.T) {
		link := e.portalLinkOf(t, "acme", adminToken).URL
		w := e.open(link, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/portal/tenants/acme/endpoints" {
			t.Fatalf("first open: %d to %q, want 303 to the endpoints page", w.Code, w.Header().Get("Location"))
		}
		c := w.Result().Cookies()[0]
		if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/portal/" {
			t.Errorf("cookie %v: want HttpOnly, SameSite=Lax, path /portal/, not Secure over http", c)
		}
		again := e.open(link, nil)
		if again.Code != http.StatusGone || len(again.Result().Cookies()) != 0 || !strings.Contains(again.Body.String(), "already opened") {
			t.Errorf("second open: %d, cookies %v, body %s; want 410 without a session", again.Code, again.Result().Cookies(), again.Body)
		}
	})
	t.Run("secure over https", func(t *testing.T) {
		w := e.open(e.portalLinkOf(t, "acme", adminToken).URL, http.Header{"X-Forwarded-Proto": {"https"}})
		if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
			t.Errorf("cookies %v, want one Secure cookie", c)
		}
	})
	t.Run("expired", func(t *testing.T) {
		token := "hkp_expired-link-token"
		if err := e.store.CreatePortalLink(t.Context(), hookrun.PortalLink{TokenHash: hookrun.HashPortalToken(token), TenantID: "acme", ExpireTime: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		w := e.open("/portal/open?token="+token, nil)
		if w.Code != http.StatusGone || len(w.Result().Cookies()) != 0 || !strings.Contains(w.Body.String(), "expired") {
			t.Errorf("open: %d, cookies %v, body %s; want 410 without a session", w.Code, w.Result().Cookies(), w.Body)
		}
	})
	for _, link := range []string{"/portal/open?token=hkp_unknown", "/portal/open", "/portal/open?token=hkr_notaportaltoken"} {
		t.Run(link, func(t *testing.T) {
			if w := e.open(link, nil); w.Code != http.StatusNotFound || len(w.Result().Cookies()) != 0 {
				t.Errorf("open: %d, cookies %v; want 404 without a session", w.Code, w.Result().Cookies())
			}
		})
	}
}

// Every page checks the session: none, a forged or another tenant's is
// refused, on pages and actions alike; a form needs the session's CSRF
// token and must come from the portal's own origin.
func TestPortalIsolation(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	key := e.createTenant(t, "other")
	ep := e.createEndpoint(t, "other", key, "https://other.example.com/hook")
	acme := e.session(t, "acme")
	forged := *acme
	forged.Value = strings.Replace(acme.Value, "acme.", "other.", 1)
	ok := e.page(http.MethodGet, "/portal/tenants/acme/endpoints", acme, nil)
	if ok.Code != http.StatusOK {
		t.Fatalf("own page: %d %s", ok.Code, ok.Body)
	}
	csrf := csrfOf(t, ok.Body.String())
	form := url.Values{"csrf_token": {csrf}, "enabled": {"false"}}

	tests := []struct {
		name, method, path string
		cookie             *http.Cookie
		form               url.Values
		header             http.Header
		want               int
	}{
		{"no session", http.MethodGet, "/portal/tenants/acme/endpoints", nil, nil, nil, http.StatusUnauthorized},
		{"forged session", http.MethodGet, "/portal/tenants/other/endpoints", &forged, nil, nil, http.StatusUnauthorized},
		{"other tenant's page", http.MethodGet, "/portal/tenants/other/endpoints", acme, nil, nil, http.StatusForbidden},
		{"other tenant's endpoint", http.MethodPost, "/portal/tenants/other/endpoints/" + ep.ID + "/enabled", acme, form, nil, http.StatusForbidden},
		{"other tenant's endpoint under own tenant", http.MethodPost, "/portal/tenants/acme/endpoints/" + ep.ID + "/enabled", acme, form, nil, http.StatusNotFound},
		{"create for other tenant", http.MethodPost, "/portal/tenants/other/endpoints", acme, url.Values{"csrf_token": {csrf}, "url": {"https://a.example.com"}, "patterns": {"*"}}, nil, http.StatusForbidden},
		{"no CSRF token", http.MethodPost, "/portal/tenants/acme/endpoints", acme, url.Values{"url": {"https://a.example.com"}, "patterns": {"*"}}, nil, http.StatusForbidden},
		{"cross-site form", http.MethodPost, "/portal/tenants/acme/endpoints", acme, url.Values{"csrf_token": {csrf}, "url": {"https://a.example.com"}, "patterns": {"*"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"unknown page", http.MethodGet, "/portal/tenants/acme/nothing", acme, nil, nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.form != nil {
				req = httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Errorf("%s %s: %d, want %d; body %s", tt.method, tt.path, w.Code, tt.want, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q, want an HTML page", ct)
			}
		})
	}
	got, err := e.store.GetEndpoint(t.Context(), "other", ep.ID)
	if err != nil || got.Status == hookrun.EndpointDisabled {
		t.Errorf("other's endpoint = %v, %v; want it untouched", got.Status, err)
	}
}

// The Endpoints page creates, lists and disables endpoints through the
// rules the API applies.
func TestPortalEndpoints(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.AllowHTTPEndpoints = true })
	e.createTenant(t, "acme")
	if w := e.do(t, http.MethodPut, "/v1/tenants/acme/event-types", adminToken, `{"event_types":["order.paid","user.created"]}`); w.Code != http.StatusOK {
		t.Fatalf("put catalogue: %d %s", w.Code, w.Body)
	}
	c := e.session(t, "acme")
	empty := e.page(http.MethodGet, "/portal/tenants/acme/endpoints", c, nil)
	body := empty.Body.String()
	for _, want := range []string{"No endpoints yet: create one", `value="order.paid"`, `<label for="url">`} {
		if !strings.Contains(body, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
	csrf := csrfOf(t, body)

	bad := e.page(http.MethodPost, "/portal/tenants/acme/endpoints", c, url.Values{"csrf_token": {csrf}, "url": {"https://a.example.com/h"}, "patterns": {"nope.*"}})
	if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), "nope.*") || !strings.Contains(bad.Body.String(), `value="https://a.example.com/h"`) {
		t.Errorf("type outside the catalogue: %d; want a refusal naming it with the form kept:\n%s", bad.Code, bad.Body)
	}

	w := e.page(http.MethodPost, "/portal/tenants/acme/endpoints", c, url.Values{"csrf_token": {csrf}, "url": {"https://a.example.com/h"}, "event_type": {"order.paid"}, "patterns": {"user.*"}, "description": {"orders"}})
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), "whsec_") {
		t.Fatalf("create: %d; want 201 showing the signing secret:\n%s", w.Code, w.Body)
	}
	eps, err := e.store.ListEndpoints(t.Context(), "acme")
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints = %v, %v; want one", eps, err)
	}
	if ep := eps[0]; ep.Status != hookrun.EndpointActive || ep.Description != "orders" || strings.Join(ep.EventTypes, " ") != "order.paid user.*" {
		t.Errorf("endpoint = %+v, want active, described, subscribed to order.paid and user.*", ep)
	}

	w = e.page(http.MethodPost, "/portal/tenants/acme/endpoints/"+eps[0].ID+"/enabled", c, url.Values{"csrf_token": {csrf}, "enabled": {"false"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	list := e.page(http.MethodGet, "/portal/tenants/acme/endpoints", c, nil).Body.String()
	if !strings.Contains(list, "Why: disabled through the API by the tenant in the portal") || !strings.Contains(list, ">Enable</button>") {
		t.Errorf("list after disable lacks the reason or the Enable button:\n%s", list)
	}
	w = e.page(http.MethodPost, "/portal/tenants/acme/endpoints/"+eps[0].ID+"/enabled", c, url.Values{"csrf_token": {csrf}, "enabled": {"true"}})
	if got, _ := e.store.GetEndpoint(t.Context(), "acme", eps[0].ID); w.Code != http.StatusSeeOther || got.Status != hookrun.EndpointActive {
		t.Errorf("enable: %d, status %s; want 303 and active", w.Code, got.Status)
	}
}

func TestPortalHeaders(t *testing.T) {
	tests := []struct {
		name, ancestors, wantCSP string
		wantSameSite             http.SameSite
	}{
		{"not embeddable", "", "frame-ancestors 'none'", http.SameSiteLaxMode},
		{"embeddable", "https://app.example.com https://www.example.com", "frame-ancestors https://app.example.com https://www.example.com", http.SameSiteNoneMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *ingest.Config) { c.PortalFrameAncestors = tt.ancestors })
			e.createTenant(t, "acme")
			c := e.session(t, "acme")
			if c.SameSite != tt.wantSameSite || (tt.wantSameSite == http.SameSiteNoneMode && (!c.Secure || !c.Partitioned)) {
				t.Errorf("cookie %v: want SameSite %v (None only Secure and Partitioned)", c, tt.wantSameSite)
			}
			w := e.page(http.MethodGet, "/portal/tenants/acme/endpoints", c, nil)
			csp := w.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, tt.wantCSP) || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q, want default-src 'none' and %s", csp, tt.wantCSP)
			}
			// Script comes from the portal's static files only, never
			// inline (the CSP would block it anyway).
			if !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q, want script-src 'self'", csp)
			}
			body := w.Body.String()
			if n, static := strings.Count(body, "<script"), strings.Count(body, `<script src="/portal/static/`); n != static {
				t.Errorf("the page has %d scripts, %d of them from /portal/static/: want no inline script", n, static)
			}
		})
	}
}
