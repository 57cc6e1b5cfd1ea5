package ingest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// eventsPage is GET /v1/tenants/{tenant}/events as a client reads it.
type eventsPage struct {
	Events []struct {
		ID          string          `json:"id"`
		TenantID    string          `json:"tenant_id"`
		Type        string          `json:"type"`
		Source      string          `json:"source"`
		ReceiveTime string          `json:"receive_time"`
		Data        json.RawMessage `json:"data"`
		Deliveries  struct {
			Pending        int    `json:"pending"`
			Succeeded      int    `json:"succeeded"`
			Retrying       int    `json:"retrying"`
			Dead           int    `json:"dead"`
			UpdateTime     string `json:"update_time"`
			LastStatusCode int    `json:"last_status_code"`
		} `json:"deliveries"`
	} `json:"events"`
	NextPageToken string `json:"next_page_token"`
}

func (p eventsPage) ids() []string {
	out := make([]string, len(p.Events))
	for i, e := range p.Events {
		out[i] = e.ID
	}
	return out
}

func TestListEvents(t *testing.T) {
	e := newDeliveryEnv(t)
	// evOrder, evUser and evInvoice were received in the same second: the
	// ID breaks the tie, newest first meaning the greatest ID first.
	all := []string{evQuiet, evOrder, evInvoice, evUser}
	tests := []struct {
		name  string
		query url.Values
		token string
		want  []string
	}{
		{"all of the tenant's, none of another's", nil, e.acmeKey, all},
		{"with the admin token", nil, adminToken, all},
		{"by event type", url.Values{"event_type": {"invoice.paid"}}, e.acmeKey, []string{evInvoice}},
		{"any delivery dead", url.Values{"delivery_state": {"dead"}}, e.acmeKey, []string{evOrder, evInvoice, evUser}},
		{"any delivery retrying", url.Values{"delivery_state": {"retrying"}}, e.acmeKey, []string{evUser}},
		{"any delivery succeeded", url.Values{"delivery_state": {"succeeded"}}, e.acmeKey, []string{evOrder}},
		{"none pending", url.Values{"delivery_state": {"pending"}}, e.acmeKey, []string{}},
		{"dead and of a type", url.Values{"delivery_state": {"dead"}, "event_type": {"user.created"}}, e.acmeKey, []string{evUser}},
		{"since is inclusive", url.Values{"since": {e.t0.Format(time.RFC3339)}}, e.acmeKey, []string{evQuiet}},
		{"until is exclusive", url.Values{"until": {e.t0.Format(time.RFC3339)}}, e.acmeKey, []string{evOrder, evInvoice, evUser}},
		{"time range with an offset", url.Values{"since": {e.t0.Add(-2 * time.Hour).In(time.FixedZone("", -5*3600)).Format(time.RFC3339)},
			"until": {e.t0.Add(-time.Hour + time.Second).Format(time.RFC3339Nano)}}, e.acmeKey, []string{evOrder, evInvoice, evUser}},
		{"page size at the maximum", url.Values{"page_size": {"500"}}, e.acmeKey, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, "/v1/tenants/acme/events?"+tt.query.Encode(), tt.token, "")
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			got := decode[eventsPage](t, w)
			if !slices.Equal(got.ids(), tt.want) || got.NextPageToken != "" {
				t.Errorf("events = %v (next page %q), want %v and no next page", got.ids(), got.NextPageToken, tt.want)
			}
			if !strings.Contains(w.Body.String(), `"events":[`) {
				t.Errorf("body %s: events is not a list", w.Body)
			}
		})
	}

	// An item is the event without its data, with its deliveries counted.
	w := e.do(t, http.MethodGet, "/v1/tenants/acme/events?event_type=order.created", e.acmeKey, "")
	page := decode[eventsPage](t, w)
	if len(page.Events) != 1 {
		t.Fatalf("order.created events = %v, want 1", page.ids())
	}
	ev := page.Events[0]
	d := ev.Deliveries
	if ev.ID != evOrder || ev.TenantID != "acme" || ev.Source != hookrun.SourceAPI || ev.ReceiveTime != e.t0.Add(-time.Hour).Format(time.RFC3339) ||
		ev.Data != nil || d.Dead != 1 || d.Succeeded != 1 || d.Retrying != 0 || d.Pending != 0 || d.UpdateTime != e.t0.Format(time.RFC3339) {
		t.Errorf("item = %+v, want acme's %s from the API, received at %s, no data, one dead and one succeeded delivery, updated at %s",
			ev, evOrder, e.t0.Add(-time.Hour), e.t0)
	}
	// Another tenant lists its own event of the same ID, and only that.
	w = e.do(t, http.MethodGet, "/v1/tenants/globex/events", e.globexKey, "")
	if g := decode[eventsPage](t, w); !slices.Equal(g.ids(), []string{evOrder}) || g.Events[0].TenantID != "globex" || g.Events[0].Deliveries.Dead != 1 {
		t.Errorf("globex's events = %+v, want its own %s with its dead delivery", g.Events, evOrder)
	}
}

func TestListEventsRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, query string
		msg         string
	}{
		{"unknown delivery state", "delivery_state=failed", "delivery_state:"},
		{"delivery state in capitals", "delivery_state=DEAD", "delivery_state:"},
		{"since not RFC 3339", "since=yesterday", "since: an RFC 3339 time"},
		{"until not RFC 3339", "until=2026-11-20", "until: an RFC 3339 time"},
		{"since not before until", "since=2026-11-20T10:00:00Z&until=2026-11-20T09:00:00Z", "since: must be before until"},
		{"invalid event type", "event_type=Not%20A%20Type", "event_type:"},
		{"page size 0", "page_size=0", "page_size"},
		{"page size over 500", "page_size=501", "page_size"},
		{"page size not a number", "page_size=ten", "page_size"},
		{"page token not one of ours", "page_token=garbage", "page_token"},
		{"page token not one of ours, by state", "delivery_state=dead&page_token=garbage", "page_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, "/v1/tenants/acme/events?"+tt.query, e.acmeKey, "")
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.msg)
		})
	}
	t.Run("another tenant's key", func(t *testing.T) {
		wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/events", e.globexKey, ""), 403, hookrun.CodePermissionDenied, "acme")
	})
	t.Run("another tenant's key, filtered", func(t *testing.T) {
		wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/events?delivery_state=dead", e.globexKey, ""), 403, hookrun.CodePermissionDenied, "acme")
	})
}

// 120 events, some received in the same second, page without gaps or
// repeats, newest first, with and without a filter and at any page size.
func TestListEventsPages(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var all, dead []string
	for i := range 120 {
		ev := hookrun.Event{ID: fmt.Sprintf("evt_%03d", i), TenantID: "acme", Type: "order.created", Data: json.RawMessage(`{}`),
			Source: hookrun.SourceAPI, ReceivedAt: t0.Add(time.Duration(i/3) * time.Second)}
		e.store.addEvent(ev)
		all = append([]string{ev.ID}, all...)
		if i%4 == 0 {
			e.store.addDelivery(hookrun.Delivery{TenantID: "acme", EventID: ev.ID, EndpointID: "ep_a", EventType: ev.Type, EventAt: ev.ReceivedAt,
				State: hookrun.DeliveryDead, DeadAt: ev.ReceivedAt, UpdatedAt: ev.ReceivedAt})
			dead = append([]string{ev.ID}, dead...)
		}
	}
	for _, tt := range []struct {
		name, query string
		size        int
		want        []string
	}{
		{"pages of 7", "page_size=7", 7, all},
		{"default page size", "", 50, all},
		{"pages of 1, dead only", "page_size=1&delivery_state=dead", 1, dead},
		{"pages of 13, dead only", "page_size=13&delivery_state=dead", 13, dead},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			token := ""
			for pages := 1; ; pages++ {
				if pages > len(tt.want) {
					t.Fatalf("more than %d pages; seen %v", len(tt.want), got)
				}
				q, _ := url.ParseQuery(tt.query)
				if token != "" {
					q.Set("page_token", token)
				}
				w := e.do(t, http.MethodGet, "/v1/tenants/acme/events?"+q.Encode(), key, "")
				if w.Code != http.StatusOK {
					t.Fatalf("page %d: status = %d, want 200; body %s", pages, w.Code, w.Body)
				}
				p := decode[eventsPage](t, w)
				if len(p.Events) > tt.size {
					t.Fatalf("page %d holds %d events, more than %d", pages, len(p.Events), tt.size)
				}
				got = append(got, p.ids()...)
				if p.NextPageToken == "" {
					break
				}
				token = p.NextPageToken
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events over all pages = %v, want each of %v once, in that order", got, tt.want)
			}
		})
	}
}
