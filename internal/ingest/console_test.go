package ingest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// consoleSignIn posts the sign-in form with token and returns the answer.
func (e *env) consoleSignIn(token string, header http.Header) (int, []*http.Cookie) {
	w := e.pageWith(http.MethodPost, "/console/sign-in", nil, url.Values{"admin_token": {token}}, header)
	return w.Code, w.Result().Cookies()
}

// consoleSession signs in with the admin token and returns the cookie and
// the CSRF token of the console's forms.
func (e *env) consoleSession(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	code, cs := e.consoleSignIn(adminToken, nil)
	if code != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("sign in: %d, cookies %v; want 303 and a session cookie", code, cs)
	}
	w := e.page(http.MethodGet, "/console/tenants", cs[0], nil)
	if w.Code != http.StatusOK {
		t.Fatalf("tenants page: %d %s", w.Code, w.Body)
	}
	return cs[0], csrfOf(t, w.Body.String())
}

func TestConsoleSignIn(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	tests := []struct {
		name, token string
		header      http.Header
		want        int
		wantSecure  bool
	}{
		{"admin token over http", adminToken, nil, http.StatusSeeOther, false},
		{"admin token over https", adminToken, http.Header{"X-Forwarded-Proto": {"https"}}, http.StatusSeeOther, true},
		{"wrong token", adminToken + "x", nil, http.StatusUnauthorized, false},
		{"empty", "", nil, http.StatusUnauthorized, false},
		{"a tenant's API key", key, nil, http.StatusUnauthorized, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, cs := e.consoleSignIn(tt.token, tt.header)
			if code != tt.want {
				t.Fatalf("sign in: %d, want %d", code, tt.want)
			}
			if tt.want != http.StatusSeeOther {
				if len(cs) != 0 {
					t.Errorf("refused sign-in set cookies %v", cs)
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("cookies %v, want one", cs)
			}
			c := cs[0]
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tt.wantSecure || c.Path != "/console/" || c.MaxAge <= 0 {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Secure=%v, Path=/console/, expiring", c, tt.wantSecure)
			}
			if strings.Contains(c.Value, adminToken) {
				t.Errorf("cookie %q carries the admin token", c.Value)
			}
		})
	}
}

// consoleRoutes are every console page and action, with a form that would
// otherwise be accepted.
var consoleRoutes = []struct {
	method, path string
	form         url.Values
}{
	{http.MethodGet, "/console/tenants", nil},
	{http.MethodPost, "/console/tenants", url.Values{"id": {"newco"}, "name": {"New"}}},
	{http.MethodGet, "/console/tenants/acme", nil},
	{http.MethodPost, "/console/tenants/acme/status", url.Values{"status": {"disabled"}, "reason": {"unpaid"}}},
	{http.MethodPost, "/console/tenants/acme/limits", url.Values{"max_endpoints": {"3"}}},
	{http.MethodPost, "/console/tenants/acme/portal", url.Values{}},
	{http.MethodGet, "/console/rejected-messages", nil},
	{http.MethodGet, "/console/system", nil},
	{http.MethodGet, "/console/producer-keys", nil},
	{http.MethodPost, "/console/producer-keys", url.Values{"name": {"backend"}}},
	{http.MethodGet, "/console/producer-keys/pkey_aaaaaaaaaaaaaaaaaaaaaaaaaa/revoke", nil},
	{http.MethodPost, "/console/producer-keys/pkey_aaaaaaaaaaaaaaaaaaaaaaaaaa/revoke", url.Values{}},
	{http.MethodPost, "/console/sign-out", url.Values{}},
}

// consolePoster signs in to the console and returns the session's cookie
// and a function that posts a form with the session's CSRF token,
// returning the answer's status, Location and body.
func (e *env) consolePoster(t *testing.T) (*http.Cookie, func(t *testing.T, path string, form url.Values) (int, string, string)) {
	t.Helper()
	c, csrf := e.consoleSession(t)
	return c, func(t *testing.T, path string, form url.Values) (int, string, string) {
		t.Helper()
		form.Set("csrf_token", csrf)
		w := e.page(http.MethodPost, path, c, form)
		return w.Code, w.Header().Get("Location"), w.Body.String()
	}
}

// shownKey returns the key a console page shows once after creating it.
func shownKey(t *testing.T, body string) string {
	t.Helper()
	const mark = `id="new-key" class="secret" readonly value="`
	i := strings.Index(body, mark)
	if i < 0 {
		t.Fatalf("no key shown:\n%s", body)
	}
	key := body[i+len(mark):]
	return key[:strings.IndexByte(key, '"')]
}

func TestConsoleNeedsSession(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	portal := e.session(t, "acme")
	sessions := []struct {
		name   string
		cookie *http.Cookie
	}{
		{"no session", nil},
		{"forged", &http.Cookie{Name: "hookrun_console", Value: ".9999999999.abc.def"}},
		// A tenant's portal session, even sent under the console's cookie
		// name, is signed for another purpose.
		{"a tenant's portal session", &http.Cookie{Name: "hookrun_console", Value: portal.Value}},
	}
	for _, s := range sessions {
		for _, r := range consoleRoutes {
			t.Run(s.name+" "+r.method+" "+r.path, func(t *testing.T) {
				w := e.page(r.method, r.path, s.cookie, r.form)
				if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `name="admin_token"`) {
					t.Fatalf("%d, want 401 with the sign-in form:\n%s", w.Code, w.Body)
				}
			})
		}
	}
	got, _ := e.getTenant(t, "acme")
	if got.Status != "active" || got.Limits.MaxEndpoints != 0 {
		t.Errorf("tenant after refused actions: %+v, want unchanged", got)
	}
}

func TestConsoleCSRF(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	c, _ := e.consoleSession(t)
	for _, r := range consoleRoutes {
		if r.method != http.MethodPost {
			continue
		}
		for _, token := range []string{"", "wrong"} {
			t.Run(r.path+" token "+token, func(t *testing.T) {
				form := url.Values{"csrf_token": {token}}
				for k, v := range r.form {
					form[k] = v
				}
				w := e.page(r.method, r.path, c, form)
				if w.Code != http.StatusForbidden {
					t.Fatalf("%d, want 403:\n%s", w.Code, w.Body)
				}
			})
		}
	}
	t.Run("cross-origin", func(t *testing.T) {
		w := e.pageWith(http.MethodPost, "/console/sign-in", nil, url.Values{"admin_token": {adminToken}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
			t.Fatalf("cross-site sign-in: %d, cookies %v; want 403 and none", w.Code, w.Result().Cookies())
		}
	})
}

func TestConsoleTenants(t *testing.T) {
	e := newEnv(t, nil)
	c, post := e.consolePoster(t)

	code, _, body := post(t, "/console/tenants", url.Values{"id": {"newco"}, "name": {"New Co"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d\n%s", code, body)
	}
	key := shownKey(t, body)
	if w := e.do(t, http.MethodGet, "/v1/tenants/newco", key, ""); w.Code != http.StatusOK {
		t.Errorf("the shown key on the API: %d, want 200", w.Code)
	}
	wantIn(t, body, `href="/console/tenants/newco"`, "New Co")

	t.Run("invalid id", func(t *testing.T) {
		code, _, body := post(t, "/console/tenants", url.Values{"id": {"Not Valid"}, "name": {"x"}})
		if code != http.StatusBadRequest || !strings.Contains(body, `value="Not Valid"`) {
			t.Fatalf("%d, want 400 with the form kept:\n%s", code, body)
		}
	})
	t.Run("disable and enable", func(t *testing.T) {
		if code, loc, body := post(t, "/console/tenants/newco/status", url.Values{"status": {"disabled"}, "reason": {"invoice unpaid"}}); code != http.StatusSeeOther || loc != "/console/tenants/newco" {
			t.Fatalf("disable: %d %q\n%s", code, loc, body)
		}
		got, _ := e.getTenant(t, "newco")
		if got.Status != "disabled" || got.DisabledReason != "invoice unpaid" {
			t.Errorf("after disable: %s %q", got.Status, got.DisabledReason)
		}
		wantIn(t, e.page(http.MethodGet, "/console/tenants/newco", c, nil).Body.String(), "invoice unpaid", "Enable the tenant")
		if code, _, body := post(t, "/console/tenants/newco/status", url.Values{"status": {"active"}}); code != http.StatusSeeOther {
			t.Fatalf("enable: %d\n%s", code, body)
		}
		if got, _ := e.getTenant(t, "newco"); got.Status != "active" || got.DisabledReason != "" {
			t.Errorf("after enable: %s %q", got.Status, got.DisabledReason)
		}
	})
	t.Run("limits", func(t *testing.T) {
		if code, _, body := post(t, "/console/tenants/newco/limits", url.Values{"max_endpoints": {"3"}, "max_events_per_second": {"20"}}); code != http.StatusSeeOther {
			t.Fatalf("set limits: %d\n%s", code, body)
		}
		if got, _ := e.getTenant(t, "newco"); got.Limits.MaxEndpoints != 3 || got.Limits.MaxEventsPerSecond != 20 {
			t.Errorf("limits %+v, want 3 and 20", got.Limits)
		}
		for _, bad := range []string{"many", "-1"} {
			if code, _, body := post(t, "/console/tenants/newco/limits", url.Values{"max_endpoints": {bad}}); code != http.StatusBadRequest || !strings.Contains(body, "max_endpoints") {
				t.Errorf("limit %q: %d, want 400 naming the field:\n%s", bad, code, body)
			}
		}
	})
	t.Run("open portal", func(t *testing.T) {
		code, loc, _ := post(t, "/console/tenants/newco/portal", url.Values{})
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/portal/open?token=") {
			t.Fatalf("open portal: %d %q", code, loc)
		}
		w := e.open(loc, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/portal/tenants/newco/endpoints" {
			t.Fatalf("follow the link: %d %q", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("other pages", func(t *testing.T) {
		for path, want := range map[string]string{
			"/console/tenants":           "newco",
			"/console/rejected-messages": "No rejected messages",
			"/console/system":            "Disabled endpoints",
			"/console/":                  "", // signed in: redirected
		} {
			w := e.page(http.MethodGet, path, c, nil)
			if want == "" {
				if w.Code != http.StatusSeeOther {
					t.Errorf("%s: %d, want 303", path, w.Code)
				}
				continue
			}
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s: %d, want 200 with %q:\n%s", path, w.Code, want, w.Body)
			}
		}
	})
}

// getTenant reads a tenant through the API as the admin.
func (e *env) getTenant(t *testing.T, id string) (hookrun.Tenant, int) {
	t.Helper()
	w := e.do(t, http.MethodGet, "/v1/tenants/"+id, adminToken, "")
	if w.Code != http.StatusOK {
		t.Fatalf("get tenant %s: %d %s", id, w.Code, w.Body)
	}
	return decode[hookrun.Tenant](t, w), w.Code
}

func TestConsoleProducerKeys(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	e.createTenant(t, "globex")
	c, post := e.consolePoster(t)
	wantIn(t, e.page(http.MethodGet, "/console/producer-keys", c, nil).Body.String(), "No producer keys yet")

	code, _, body := post(t, "/console/producer-keys", url.Values{"name": {"billing backend"}, "tenants": {"acme, globex"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d\n%s", code, body)
	}
	key := shownKey(t, body)
	if w := send(t, e, "globex", key, "from-console"); w.Code != http.StatusAccepted {
		t.Errorf("the shown key sending to globex: %d %s, want 202", w.Code, w.Body)
	}
	wantIn(t, body, "billing backend", `href="/console/tenants/acme"`, `href="/console/tenants/globex"`)

	t.Run("invalid tenants", func(t *testing.T) {
		code, _, body := post(t, "/console/producer-keys", url.Values{"name": {"x"}, "tenants": {"Not_Valid"}})
		if code != http.StatusBadRequest || !strings.Contains(body, `value="Not_Valid"`) {
			t.Fatalf("%d, want 400 with the form kept:\n%s", code, body)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		ks := decode[struct {
			ProducerKeys []producerKeyJSON `json:"producer_keys"`
		}](t, e.do(t, http.MethodGet, "/v1/producer-keys", adminToken, "")).ProducerKeys
		if len(ks) != 1 {
			t.Fatalf("producer keys %+v, want the one created", ks)
		}
		confirm := e.page(http.MethodGet, "/console/producer-keys/"+ks[0].ID+"/revoke", c, nil)
		wantIn(t, confirm.Body.String(), "Revoke “billing backend”?", `action="/console/producer-keys/`+ks[0].ID+`/revoke"`)
		if code, loc, body := post(t, "/console/producer-keys/"+ks[0].ID+"/revoke", url.Values{}); code != http.StatusSeeOther || loc != "/console/producer-keys" {
			t.Fatalf("revoke: %d %q\n%s", code, loc, body)
		}
		wantError(t, send(t, e, "globex", key, "after-revoke"), 401, hookrun.CodeUnauthenticated, "credentials")
		wantIn(t, e.page(http.MethodGet, "/console/producer-keys", c, nil).Body.String(), "revoked")
	})
}
