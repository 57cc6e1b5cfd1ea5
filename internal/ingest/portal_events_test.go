package ingest_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// eventLinks are the event ids the list page links to, in order.
func eventLinks(page string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<td class="id" data-label="Event"><a href="/portal/tenants/acme/events/([^"]+)">`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// The Events page lists what the API's list does, with the same filters,
// and pages through them.
func TestPortalEventsList(t *testing.T) {
	e := newDeliveryEnv(t)
	c := e.session(t, "acme")
	tests := []struct {
		name  string
		query url.Values
		want  []string
		// wantText is on the page too.
		wantText string
	}{
		{"newest first", nil, []string{evQuiet, evOrder, evInvoice, evUser}, "1 dead"},
		{"delivery summary", nil, []string{evQuiet, evOrder, evInvoice, evUser}, "last: HTTP 500"},
		{"by type", url.Values{"event_type": {"invoice.paid"}}, []string{evInvoice}, "2 dead"},
		{"by delivery state", url.Values{"delivery_state": {"retrying"}}, []string{evUser}, "1 retrying"},
		{"since, a datetime-local in UTC", url.Values{"since": {e.t0.Format("2006-01-02T15:04")}}, []string{evQuiet}, `value="2026-11-20T10:00"`},
		{"until, RFC 3339", url.Values{"until": {e.t0.Format("2006-01-02T15:04:05Z07:00")}}, []string{evOrder, evInvoice, evUser}, ""},
		{"nothing matches", url.Values{"delivery_state": {"pending"}}, nil, "No events match this filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.page(http.MethodGet, "/portal/tenants/acme/events?"+tt.query.Encode(), c, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200:\n%s", w.Code, w.Body)
			}
			if got := eventLinks(w.Body.String()); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("events %v, want %v", got, tt.want)
			}
			if !strings.Contains(w.Body.String(), tt.wantText) {
				t.Errorf("page lacks %q:\n%s", tt.wantText, w.Body)
			}
		})
	}

	t.Run("a bad filter says why", func(t *testing.T) {
		w := e.page(http.MethodGet, "/portal/tenants/acme/events?delivery_state=lost", c, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "delivery_state: &#34;lost&#34; is not one of") {
			t.Errorf("status %d, want 400 with the API's message:\n%s", w.Code, w.Body)
		}
	})
	t.Run("find by id", func(t *testing.T) {
		w := e.page(http.MethodGet, "/portal/tenants/acme/events?id="+url.QueryEscape(evOrder), c, nil)
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/portal/tenants/acme/events/"+evOrder {
			t.Errorf("find: %d to %q, want 303 to the event's page", w.Code, loc)
		}
	})
	t.Run("pages forwards and back", func(t *testing.T) {
		var seen []string
		link := "/portal/tenants/acme/events?page_size=1&delivery_state=dead"
		var pages []string
		for range 4 {
			body := e.page(http.MethodGet, link, c, nil).Body.String()
			pages = append(pages, link)
			seen = append(seen, eventLinks(body)...)
			m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(body)
			if m == nil {
				break
			}
			link = html.UnescapeString(m[1])
		}
		if want := []string{evOrder, evInvoice, evUser}; strings.Join(seen, " ") != strings.Join(want, " ") {
			t.Fatalf("paged through %v, want %v", seen, want)
		}
		// From the last page, Newer goes back one page at a time.
		body := e.page(http.MethodGet, pages[2], c, nil).Body.String()
		m := regexp.MustCompile(`<a href="([^"]+)" rel="prev">`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("last page has no Newer link:\n%s", body)
		}
		if got := eventLinks(e.page(http.MethodGet, html.UnescapeString(m[1]), c, nil).Body.String()); len(got) != 1 || got[0] != evInvoice {
			t.Errorf("Newer from the last page shows %v, want %s", got, evInvoice)
		}
	})
	t.Run("empty state", func(t *testing.T) {
		e.createTenant(t, "initech")
		w := e.page(http.MethodGet, "/portal/tenants/initech/events", e.session(t, "initech"), nil)
		if !strings.Contains(w.Body.String(), "No events yet: send one with <code>POST /v1/events</code>") {
			t.Errorf("empty page:\n%s", w.Body)
		}
	})
}

// One event's page shows its payload, escaped, and every attempt of each
// delivery.
func TestPortalEvent(t *testing.T) {
	e := newDeliveryEnv(t)
	e.store.addEvent(hookrun.Event{ID: "evt_html", TenantID: "acme", Type: "user.created", Data: json.RawMessage(`{"name":"<script>alert(1)</script>"}`),
		Source: hookrun.SourceAPI, ReceivedAt: e.t0})
	c := e.session(t, "acme")

	w := e.page(http.MethodGet, "/portal/tenants/acme/events/"+evUser, c, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", w.Code, body)
	}
	for _, want := range []string{
		"&#34;user&#34;: &#34;u1&#34;", // pretty JSON, escaped
		"https://a.example.com/",       // the delivery's endpoint by URL
		`Next retry: <time datetime="2026-11-20T11:00:00Z">2026-11-20 11:00:00 UTC</time>`,
		"12 ms", "endpoint answered 500", "database is down", // an attempt's latency, error and response
		"Dead: gave up after 2 attempts", `name="endpoint_id" value="ep_off"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	if got := strings.Count(body, `<td class="num" data-label="Latency">`); got != 4 {
		t.Errorf("%d attempts shown, want 4 (1 at ep_a, 3 at ep_off)", got)
	}

	payload := e.page(http.MethodGet, "/portal/tenants/acme/events/evt_html", c, nil).Body.String()
	if strings.Contains(payload, "<script>alert") || !strings.Contains(payload, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("payload not escaped:\n%s", payload)
	}
	empty := e.page(http.MethodGet, "/portal/tenants/acme/events/evt_html", c, nil).Body.String()
	if !strings.Contains(empty, "No deliveries yet") {
		t.Errorf("event without deliveries lacks its empty state:\n%s", empty)
	}
}

// Redeliver posts through the API's redeliver, with the session's CSRF
// token, for the session's tenant only; another tenant's event or
// endpoint is out of reach however the URL is changed.
func TestPortalRedeliver(t *testing.T) {
	e := newDeliveryEnv(t)
	e.store.addEvent(hookrun.Event{ID: "evt_globex", TenantID: "globex", Type: "user.created", Data: json.RawMessage(`{}`), ReceivedAt: e.t0})
	c := e.session(t, "acme")
	csrf := csrfOf(t, e.page(http.MethodGet, "/portal/tenants/acme/events/"+evUser, c, nil).Body.String())
	form := func(endpoint string) url.Values { return url.Values{"csrf_token": {csrf}, "endpoint_id": {endpoint}} }
	tests := []struct {
		name, method, path string
		form               url.Values
		header             http.Header
		want               int
		wantText           string
		// wantEndpoint is the endpoint of the redelivery published; none
		// when "-".
		wantEndpoint string
	}{
		{"one endpoint", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", form("ep_a"), nil, http.StatusAccepted, "Redelivery started", "ep_a"},
		{"every endpoint", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", form(""), nil, http.StatusAccepted, "every matching endpoint", ""},
		{"disabled endpoint", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", form("ep_off"), nil, http.StatusBadRequest, "enable it before redelivering", "-"},
		{"no CSRF token", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", url.Values{"endpoint_id": {"ep_a"}}, nil, http.StatusForbidden, "did not come from the portal", "-"},
		{"wrong CSRF token", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", url.Values{"csrf_token": {"x" + csrf}, "endpoint_id": {"ep_a"}}, nil, http.StatusForbidden, "did not come from the portal", "-"},
		{"cross-site form", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", form("ep_a"), http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "", "-"},
		{"other tenant's event page", http.MethodGet, "/portal/tenants/globex/events/evt_globex", nil, nil, http.StatusForbidden, "another tenant", "-"},
		{"other tenant's list", http.MethodGet, "/portal/tenants/globex/events", nil, nil, http.StatusForbidden, "another tenant", "-"},
		{"other tenant's event under own tenant", http.MethodGet, "/portal/tenants/acme/events/evt_globex", nil, nil, http.StatusNotFound, "", "-"},
		{"redeliver other tenant's event", http.MethodPost, "/portal/tenants/globex/events/evt_globex/redeliver", form("ep_g"), nil, http.StatusForbidden, "", "-"},
		{"redeliver other tenant's event under own tenant", http.MethodPost, "/portal/tenants/acme/events/evt_globex/redeliver", form(""), nil, http.StatusNotFound, "", "-"},
		{"own event to other tenant's endpoint", http.MethodPost, "/portal/tenants/acme/events/" + evUser + "/redeliver", form("ep_g"), nil, http.StatusNotFound, "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.pub.published())
			w := e.pageWith(tt.method, tt.path, c, tt.form, tt.header)
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.wantText) {
				t.Errorf("%s %s: %d, want %d with %q:\n%s", tt.method, tt.path, w.Code, tt.want, tt.wantText, w.Body)
			}
			msgs := e.pub.published()[before:]
			if tt.wantEndpoint == "-" {
				if len(msgs) != 0 {
					t.Errorf("published %d messages, want none", len(msgs))
				}
				return
			}
			if len(msgs) != 1 || msgs[0].attrs[wire.AttrEndpoint] != tt.wantEndpoint || msgs[0].attrs[wire.AttrChain] == "" {
				t.Errorf("published %+v, want one redelivery to %q in a fresh chain", msgs, tt.wantEndpoint)
			}
		})
	}
}
