package ingest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// portalGet fetches a portal page that must answer 200 and returns it.
func (e *env) portalGet(t *testing.T, path string, c *http.Cookie) string {
	t.Helper()
	w := e.page(http.MethodGet, path, c, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return w.Body.String()
}

func wantIn(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}

// The Dead letters page lists the tenant's dead letters through the API's
// filter and paging, and its buttons start replays whose page shows the
// replay record, reloading itself only while it runs.
func TestPortalDeadLetters(t *testing.T) {
	e := newDeliveryEnv(t)
	c := e.session(t, "acme")
	const list = "/portal/tenants/acme/dead-letters"

	t.Run("list and filter", func(t *testing.T) {
		tests := []struct {
			name, query  string
			want, absent []string
		}{
			{"all", "", []string{evOrder + ":ep_a", evInvoice + ":ep_a", evUser + ":ep_off", `href="/portal/tenants/acme/events/` + evOrder + `"`,
				"https://a.example.com/", "gave up after 2 attempts", "Replay all dead letters"}, []string{`"ep_g"`, "g.example.com"}},
			{"by endpoint", "?endpoint_id=ep_off", []string{evUser + ":ep_off", "Replay all matching", `name="endpoint_id" value="ep_off"`}, []string{evOrder + ":ep_a"}},
			{"by type", "?event_type=invoice.paid", []string{evInvoice + ":ep_a"}, []string{evOrder + ":ep_a", evUser + ":ep_off"}},
			{"datetime-local range, as UTC", "?since=2026-11-20T10:30&until=2026-11-20T11:30", []string{evUser + ":ep_off"}, []string{evOrder + ":ep_a", evInvoice + ":ep_a"}},
			{"nothing matches", "?event_type=nothing.here", []string{"No dead letters match this filter"}, []string{"Replay all"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page := e.portalGet(t, list+tt.query, c)
				wantIn(t, page, tt.want...)
				for _, a := range tt.absent {
					if strings.Contains(page, a) {
						t.Errorf("page shows %q", a)
					}
				}
			})
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		w := e.page(http.MethodGet, list+"?since=yesterday&event_type=x", c, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "RFC 3339") || !strings.Contains(w.Body.String(), `value="yesterday"`) {
			t.Errorf("%d; want 400 saying why, the form kept:\n%s", w.Code, w.Body)
		}
	})
	t.Run("pages", func(t *testing.T) {
		page := e.portalGet(t, list+"?page_size=1&endpoint_id=ep_a", c)
		i := strings.Index(page, `<p class="pager"><a href="`)
		if i < 0 {
			t.Fatalf("no next page link:\n%s", page)
		}
		rest := page[i+len(`<p class="pager"><a href="`):]
		next := strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
		if !strings.Contains(next, "endpoint_id=ep_a") || !strings.Contains(next, "page_token=") {
			t.Errorf("next link %q, want the filter kept and a page token", next)
		}
		// page_size is not carried: the next page has the default size and
		// so the one dead letter of ep_a left.
		second := e.portalGet(t, next, c)
		if n := strings.Count(second, `class="card deadletter"`); n != 1 {
			t.Errorf("second page lists %d dead letters, want 1", n)
		}
	})
	t.Run("empty", func(t *testing.T) {
		e := newEnv(t, nil)
		e.createTenant(t, "quiet")
		wantIn(t, e.portalGet(t, "/portal/tenants/quiet/dead-letters", e.session(t, "quiet")), "No dead letters: every delivery succeeded or is still retrying")
	})

	csrf := csrfOf(t, e.portalGet(t, list, c))
	replayed := func(t *testing.T, path string, form url.Values) hookrun.Replay {
		t.Helper()
		form.Set("csrf_token", csrf)
		w := e.page(http.MethodPost, path, c, form)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/portal/tenants/acme/replays/rp_") {
			t.Fatalf("POST %s: %d to %q; want 303 to the replay's page: %s", path, w.Code, loc, w.Body)
		}
		rp, err := e.store.GetReplay(t.Context(), "acme", strings.TrimPrefix(loc, "/portal/tenants/acme/replays/"))
		if err != nil {
			t.Fatal(err)
		}
		page := e.portalGet(t, loc, c)
		wantIn(t, page, rp.ID, `id="matched">`)
		if refresh := strings.Contains(page, `http-equiv="refresh"`); refresh == rp.Done() {
			t.Errorf("replay %s: reloads itself %v; want it to while running only", rp.State, refresh)
		}
		return rp
	}
	t.Run("replay one", func(t *testing.T) {
		rp := replayed(t, list+"/"+evInvoice+":ep_a/replay", url.Values{})
		if rp.Counts.Claimed != 1 || rp.Filter.EndpointID != "ep_a" || rp.State != hookrun.ReplayRunning {
			t.Errorf("replay = %+v, want ep_a's one dead letter claimed", rp)
		}
		if got := e.store.claimedBy("acme", rp.ID); len(got) != 1 {
			t.Errorf("claimed %v, want one", got)
		}
	})
	t.Run("replay all matching", func(t *testing.T) {
		rp := replayed(t, list+"/replay", url.Values{"event_type": {"order.created"}, "endpoint_id": {"ep_a"}})
		if rp.Filter.EventType != "order.created" || rp.Filter.EndpointID != "ep_a" || rp.Filter.Until.IsZero() || rp.Counts.Claimed != 1 {
			t.Errorf("replay = %+v, want the page's filter pinned and ep_a's order claimed", rp)
		}
	})
	t.Run("replay of nothing is done", func(t *testing.T) {
		rp := replayed(t, list+"/replay", url.Values{"endpoint_id": {"ep_b"}})
		if !rp.Done() {
			t.Errorf("replay = %+v, want done at once", rp)
		}
	})
	t.Run("disabled endpoint", func(t *testing.T) {
		w := e.page(http.MethodPost, list+"/"+evUser+":ep_off/replay", c, url.Values{"csrf_token": {csrf}})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "enable it before replaying") {
			t.Errorf("%d; want the API's refusal:\n%s", w.Code, w.Body)
		}
	})
}

// The API keys page creates a key shown once and revokes one after a
// confirmation page; the Event types page edits the catalogue by the API's
// rules.
func TestPortalKeysAndCatalogue(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.AllowHTTPEndpoints = true })
	e.createTenant(t, "acme")
	c := e.session(t, "acme")
	const keys = "/portal/tenants/acme/api-keys"
	page := e.portalGet(t, keys, c)
	csrf := csrfOf(t, page)

	w := e.page(http.MethodPost, keys, c, url.Values{"csrf_token": {csrf}, "name": {"billing server"}})
	body := w.Body.String()
	i := strings.Index(body, `id="new-key" class="secret" readonly value="hkr_`)
	if w.Code != http.StatusCreated || i < 0 || !strings.Contains(body, "shown this once") {
		t.Fatalf("create: %d; want 201 showing the key once:\n%s", w.Code, body)
	}
	rest := body[i+len(`id="new-key" class="secret" readonly value="`):]
	key := rest[:strings.IndexByte(rest, '"')]
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", key, ""); w.Code != http.StatusOK {
		t.Errorf("the new key does not authenticate: %d %s", w.Code, w.Body)
	}
	ks, err := e.store.ListAPIKeys(t.Context(), "acme")
	if err != nil || len(ks) != 2 {
		t.Fatalf("keys = %v, %v; want the tenant's first and the new one", ks, err)
	}
	k := ks[1]
	list := e.portalGet(t, keys, c)
	wantIn(t, list, "billing server", "hkr_"+k.Prefix+"…"+k.Last4, keys+"/"+k.ID+"/revoke")
	if strings.Contains(list, key) {
		t.Error("the list shows the whole key again")
	}

	wantIn(t, e.portalGet(t, keys+"/"+k.ID+"/revoke", c), "Revoke “billing server”?", "cannot be undone", `action="`+keys+"/"+k.ID+`/revoke"`)
	if got, _ := e.store.ListAPIKeys(t.Context(), "acme"); got[1].Revoked {
		t.Fatal("the confirmation page revoked the key")
	}
	if w := e.page(http.MethodPost, keys+"/"+k.ID+"/revoke", c, url.Values{"csrf_token": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints", key, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d, want 401", w.Code)
	}
	wantIn(t, e.portalGet(t, keys, c), "revoked")

	const types = "/portal/tenants/acme/event-types"
	wantIn(t, e.portalGet(t, types, c), "No catalogue yet")
	w = e.page(http.MethodPost, types, c, url.Values{"csrf_token": {csrf}, "event_types": {"user.created\r\ninvoice.paid\r\n"}})
	if got, _ := e.store.GetCatalogue(t.Context(), "acme"); w.Code != http.StatusOK || strings.Join(got, " ") != "invoice.paid user.created" {
		t.Fatalf("save: %d, catalogue %v; want both types:\n%s", w.Code, got, w.Body)
	}
	wantIn(t, w.Body.String(), "Catalogue saved", "invoice.paid\nuser.created</textarea>")
	e.createEndpoint(t, "acme", adminToken, "https://a.example.com/hook")
	w = e.page(http.MethodPost, types, c, url.Values{"csrf_token": {csrf}, "event_types": {"invoice.paid"}})
	if got, _ := e.store.GetCatalogue(t.Context(), "acme"); w.Code != http.StatusBadRequest || len(got) != 2 {
		t.Errorf("catalogue without user.*: %d, catalogue %v; want the API's refusal and the catalogue kept", w.Code, got)
	}
	wantIn(t, w.Body.String(), "change the endpoint first", ">invoice.paid</textarea>")
}

// Another tenant's session is refused on every page and action, by URL
// tampering too; every action needs the session's CSRF token; a disabled
// tenant's session reads every page but changes nothing, as its API keys
// may only GET.
func TestPortalPagesIsolation(t *testing.T) {
	e := newDeliveryEnv(t)
	globexReplay := e.do(t, http.MethodPost, "/v1/tenants/globex/dead-letters:replay", e.globexKey, "")
	if globexReplay.Code != http.StatusAccepted {
		t.Fatalf("globex replay: %d %s", globexReplay.Code, globexReplay.Body)
	}
	rpGlobex := decode[replayAccepted](t, globexReplay).ReplayID
	gks, err := e.store.ListAPIKeys(t.Context(), "globex")
	if err != nil || len(gks) != 1 {
		t.Fatalf("globex keys = %v, %v", gks, err)
	}
	keyGlobex := gks[0].ID
	c := e.session(t, "acme")
	csrf := csrfOf(t, e.portalGet(t, "/portal/tenants/acme/api-keys", c))
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf_token": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	gDead := evOrder + ":ep_g"

	tests := []struct {
		name, method, path string
		form               url.Values
		want               int
	}{
		{"globex dead letters", http.MethodGet, "/portal/tenants/globex/dead-letters", nil, http.StatusForbidden},
		{"globex replay page", http.MethodGet, "/portal/tenants/globex/replays/" + rpGlobex, nil, http.StatusForbidden},
		{"globex replay under acme", http.MethodGet, "/portal/tenants/acme/replays/" + rpGlobex, nil, http.StatusNotFound},
		{"globex api keys", http.MethodGet, "/portal/tenants/globex/api-keys", nil, http.StatusForbidden},
		{"globex key's revoke page under acme", http.MethodGet, "/portal/tenants/acme/api-keys/" + keyGlobex + "/revoke", nil, http.StatusNotFound},
		{"globex event types", http.MethodGet, "/portal/tenants/globex/event-types", nil, http.StatusForbidden},
		{"replay globex's dead letter", http.MethodPost, "/portal/tenants/globex/dead-letters/" + gDead + "/replay", form(), http.StatusForbidden},
		{"replay globex's dead letter under acme", http.MethodPost, "/portal/tenants/acme/dead-letters/" + gDead + "/replay", form(), http.StatusNotFound},
		{"replay all of globex", http.MethodPost, "/portal/tenants/globex/dead-letters/replay", form(), http.StatusForbidden},
		{"replay all of globex's endpoint under acme", http.MethodPost, "/portal/tenants/acme/dead-letters/replay", form("endpoint_id", "ep_g"), http.StatusNotFound},
		{"create globex key", http.MethodPost, "/portal/tenants/globex/api-keys", form("name", "x"), http.StatusForbidden},
		{"revoke globex key", http.MethodPost, "/portal/tenants/globex/api-keys/" + keyGlobex + "/revoke", form(), http.StatusForbidden},
		{"revoke globex key under acme", http.MethodPost, "/portal/tenants/acme/api-keys/" + keyGlobex + "/revoke", form(), http.StatusNotFound},
		{"set globex catalogue", http.MethodPost, "/portal/tenants/globex/event-types", form("event_types", "x.y"), http.StatusForbidden},
		{"globex sources", http.MethodGet, "/portal/tenants/globex/source-bindings", nil, http.StatusForbidden},
		{"add a globex source", http.MethodPost, "/portal/tenants/globex/source-bindings", form("kind", "storage", "bucket", "globex-x"), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := e.page(tt.method, tt.path, c, tt.form); w.Code != tt.want {
				t.Errorf("%s %s: %d, want %d; body %s", tt.method, tt.path, w.Code, tt.want, w.Body)
			}
		})
	}
	if ks, _ := e.store.ListAPIKeys(t.Context(), "globex"); len(ks) != 1 || ks[0].Revoked {
		t.Errorf("globex keys = %+v, want its one key untouched", ks)
	}
	if cat, _ := e.store.GetCatalogue(t.Context(), "globex"); len(cat) != 0 {
		t.Errorf("globex catalogue = %v, want none", cat)
	}

	// Every action of acme's own: refused without the CSRF token, and
	// refused, changing nothing, once acme is disabled.
	acmeKeys, _ := e.store.ListAPIKeys(t.Context(), "acme")
	actions := []struct {
		name, path string
		form       url.Values
	}{
		{"replay one", "/portal/tenants/acme/dead-letters/" + evOrder + ":ep_a/replay", form()},
		{"replay all", "/portal/tenants/acme/dead-letters/replay", form()},
		{"create key", "/portal/tenants/acme/api-keys", form("name", "x")},
		{"revoke key", "/portal/tenants/acme/api-keys/" + acmeKeys[0].ID + "/revoke", form()},
		{"set catalogue", "/portal/tenants/acme/event-types", form("event_types", "order.created")},
		{"add source", "/portal/tenants/acme/source-bindings", form("kind", "storage", "bucket", "acme-uploads")},
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if ks, _ := e.store.ListAPIKeys(t.Context(), "acme"); len(ks) != 1 || ks[0].Revoked {
			t.Errorf("acme keys = %+v, want its one key untouched", ks)
		}
		if cat, _ := e.store.GetCatalogue(t.Context(), "acme"); len(cat) != 0 {
			t.Errorf("acme catalogue = %v, want none", cat)
		}
		if bs, _ := e.store.ListSourceBindings(t.Context(), "acme"); len(bs) != 0 {
			t.Errorf("acme source bindings = %v, want none", bs)
		}
		if d, _ := e.store.GetDelivery(t.Context(), "acme", evOrder, "ep_a"); d.Chain != "rp_earlier" || d.ClaimableAt(time.Now()) != nil {
			t.Errorf("acme's dead letter = %+v, want it unclaimed", d)
		}
	}
	for _, a := range actions {
		t.Run("no CSRF: "+a.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range a.form {
				if k != "csrf_token" {
					f[k] = v
				}
			}
			if w := e.page(http.MethodPost, a.path, c, f); w.Code != http.StatusForbidden {
				t.Errorf("%d, want 403; body %s", w.Code, w.Body)
			}
			f.Set("csrf_token", "forged")
			if w := e.page(http.MethodPost, a.path, c, f); w.Code != http.StatusForbidden {
				t.Errorf("forged token: %d, want 403; body %s", w.Code, w.Body)
			}
		})
	}
	unchanged(t)

	if w := e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"disabled","disabled_reason":"unpaid"}`); w.Code != http.StatusOK {
		t.Fatalf("disable acme: %d %s", w.Code, w.Body)
	}
	for _, p := range []string{"dead-letters", "api-keys", "event-types", "source-bindings", "api-keys/" + acmeKeys[0].ID + "/revoke"} {
		t.Run("disabled reads "+p, func(t *testing.T) { e.portalGet(t, "/portal/tenants/acme/"+p, c) })
	}
	for _, a := range actions {
		t.Run("disabled: "+a.name, func(t *testing.T) {
			w := e.page(http.MethodPost, a.path, c, a.form)
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "may read but change nothing") {
				t.Errorf("%d, want 403 saying the tenant is disabled; body %s", w.Code, w.Body)
			}
		})
	}
	unchanged(t)
}

// The Sources page adds and removes the tenant's source bindings with the
// API's rules: a bucket another tenant bound is refused without naming it.
func TestPortalSources(t *testing.T) {
	e := newEnv(t, nil)
	e.createTenant(t, "acme")
	globex := e.createTenant(t, "globex")
	if w := e.do(t, http.MethodPost, "/v1/tenants/globex/source-bindings", globex, `{"match":{"storage":{"bucket":"globex-uploads"}}}`); w.Code != http.StatusCreated {
		t.Fatalf("globex binding: %d %s", w.Code, w.Body)
	}
	c := e.session(t, "acme")
	const sources = "/portal/tenants/acme/source-bindings"
	page := e.portalGet(t, sources, c)
	wantIn(t, page, "No sources yet", `aria-current="page">Sources`)
	csrf := csrfOf(t, page)

	w := e.page(http.MethodPost, sources, c, url.Values{"csrf_token": {csrf}, "kind": {"storage"}, "bucket": {"acme-uploads"}, "source": {"ignored"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	wantIn(t, w.Body.String(), "Source added", "acme-uploads", "derived: <code>storage.object.finalize</code>")
	bs, err := e.store.ListSourceBindings(t.Context(), "acme")
	if err != nil || len(bs) != 1 || bs[0].Match.Storage == nil || bs[0].Match.Storage.Bucket != "acme-uploads" {
		t.Fatalf("bindings = %+v, %v; want the bucket's", bs, err)
	}
	w = e.page(http.MethodPost, sources, c, url.Values{"csrf_token": {csrf}, "kind": {"cloudevents"}, "source": {"https://billing.example.com"},
		"type_prefix": {"invoice."}, "event_type_rule": {"fixed"}, "event_type": {"billing.invoice"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("add CloudEvents source: %d %s", w.Code, w.Body)
	}

	w = e.page(http.MethodPost, sources, c, url.Values{"csrf_token": {csrf}, "kind": {"storage"}, "bucket": {"globex-uploads"}})
	if w.Code != http.StatusConflict {
		t.Errorf("another tenant's bucket: %d, want 409", w.Code)
	}
	wantIn(t, w.Body.String(), "bound to another tenant", `value="globex-uploads"`)
	if strings.Contains(w.Body.String(), "globex\"") {
		t.Errorf("the refusal names the other tenant:\n%s", w.Body)
	}

	list := e.portalGet(t, sources, c)
	wantIn(t, list, "acme-uploads", "https://billing.example.com", "invoice.…", "billing.invoice", sources+"/"+bs[0].ID+"/delete")
	wantIn(t, e.portalGet(t, sources+"/"+bs[0].ID+"/delete", c), "Remove this source?", `action="`+sources+"/"+bs[0].ID+`/delete"`)
	if got, _ := e.store.ListSourceBindings(t.Context(), "acme"); len(got) != 2 {
		t.Fatal("the confirmation page removed the source")
	}
	if w := e.page(http.MethodPost, sources+"/"+bs[0].ID+"/delete", c, url.Values{"csrf_token": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", w.Code, w.Body)
	}
	if got, _ := e.store.ListSourceBindings(t.Context(), "acme"); len(got) != 1 || got[0].Match.CloudEvents == nil {
		t.Errorf("bindings after removal = %+v, want the CloudEvents source only", got)
	}
	if w := e.page(http.MethodGet, "/portal/tenants/globex/source-bindings", c, nil); w.Code != http.StatusForbidden {
		t.Errorf("globex's sources: %d, want 403", w.Code)
	}
	gbs, _ := e.store.ListSourceBindings(t.Context(), "globex")
	if w := e.page(http.MethodPost, sources+"/"+gbs[0].ID+"/delete", c, url.Values{"csrf_token": {csrf}}); w.Code != http.StatusNotFound {
		t.Errorf("remove globex's binding under acme: %d, want 404", w.Code)
	}
	if w := e.page(http.MethodPost, sources, c, url.Values{"kind": {"storage"}, "bucket": {"acme-more"}}); w.Code != http.StatusForbidden {
		t.Errorf("add without the CSRF token: %d, want 403", w.Code)
	}
	if got, _ := e.store.ListSourceBindings(t.Context(), "globex"); len(got) != 1 {
		t.Errorf("globex bindings = %+v, want its one untouched", got)
	}
}
