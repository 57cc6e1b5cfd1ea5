package ingest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// seedMetrics stores, for acme's ep_a and ep_b and globex's ep_g, events
// received an hour and three days before now with their deliveries: what
// the Metrics page's windows count.
func seedMetrics(t *testing.T, e *env) {
	t.Helper()
	now := time.Now().UTC()
	e.store.addEndpoint(hookrun.Endpoint{ID: "ep_a", TenantID: "acme", URL: "https://a.example.com/", Status: hookrun.EndpointActive})
	e.store.addEndpoint(hookrun.Endpoint{ID: "ep_b", TenantID: "acme", URL: "https://b.example.com/", Status: hookrun.EndpointActive})
	e.store.addEndpoint(hookrun.Endpoint{ID: "ep_g", TenantID: "globex", URL: "https://g.example.com/", Status: hookrun.EndpointActive})
	n := 0
	deliver := func(tenant, endpoint string, at time.Time, state hookrun.DeliveryState, latency time.Duration) {
		n++
		ev := hookrun.Event{ID: fmt.Sprintf("evt_%d", n), TenantID: tenant, Type: "order.created", Data: []byte(`{}`), ReceivedAt: at}
		e.store.addEvent(ev)
		status := 204
		if state == hookrun.DeliveryDead {
			status = 500
		}
		e.store.addDelivery(hookrun.Delivery{TenantID: tenant, EventID: ev.ID, EndpointID: endpoint, EventType: ev.Type, EventAt: at,
			State: state, Attempts: 1, UpdatedAt: at,
			AttemptLog: []hookrun.Attempt{{Number: 1, StartedAt: at, StatusCode: status, Latency: latency}}})
	}
	for range 3 {
		deliver("acme", "ep_a", now.Add(-time.Hour), hookrun.DeliverySucceeded, 40*time.Millisecond)
	}
	deliver("acme", "ep_b", now.Add(-time.Hour), hookrun.DeliveryDead, 200*time.Millisecond)
	deliver("acme", "ep_a", now.Add(-72*time.Hour), hookrun.DeliverySucceeded, 5*time.Millisecond)
	for range 5 {
		deliver("globex", "ep_g", now.Add(-time.Hour), hookrun.DeliveryDead, time.Second)
	}
}

// metricsWindowOf is the window the page says it shows, as the API's
// since and until.
func metricsWindowOf(t *testing.T, page string) (since, until string) {
	t.Helper()
	m := regexp.MustCompile(`<p class="window">From <time datetime="([^"]+)"[^>]*>.*?</time> to <time datetime="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page shows no window:\n%s", page)
	}
	return m[1], m[2]
}

// textOf is the text of the element with id on the page.
func textOf(page, id string) string {
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// The Metrics page shows what the API answers for the same window: the
// totals, a chart each of volume, success rate and p95, and a row per
// bucket.
func TestPortalMetrics(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.createTenant(t, "globex")
	seedMetrics(t, e)
	c := e.session(t, "acme")

	tests := []struct {
		name, query, apiPath string
		step                 string
		buckets              int
		want                 hookrun.Metrics
		wantRate, wantP95    string
	}{
		{"tenant, 24 hours", "", "/v1/tenants/acme/metrics", "1h", 24,
			hookrun.Metrics{EventsReceived: 4, Deliveries: 4}, "75%", "250 ms"},
		{"tenant, 7 days", "?window=7d", "/v1/tenants/acme/metrics", "6h", 28,
			hookrun.Metrics{EventsReceived: 5, Deliveries: 5}, "80%", "250 ms"},
		{"one endpoint", "?endpoint=ep_a", "/v1/tenants/acme/endpoints/ep_a/metrics", "1h", 24,
			hookrun.Metrics{EventsReceived: 3, Deliveries: 3}, "100%", "50 ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := e.portalGet(t, "/portal/tenants/acme/metrics"+tt.query, c)
			since, until := metricsWindowOf(t, page)
			w := e.do(t, http.MethodGet, tt.apiPath+"?"+url.Values{"since": {since}, "until": {until}, "step": {tt.step}}.Encode(), key, "")
			api := decode[hookrun.Metrics](t, w)
			if w.Code != http.StatusOK || len(api.Series) != tt.buckets {
				t.Fatalf("API: %d, %d buckets, want %d: %s", w.Code, len(api.Series), tt.buckets, w.Body)
			}
			if api.EventsReceived != tt.want.EventsReceived || api.Deliveries != tt.want.Deliveries {
				t.Errorf("API events %d deliveries %d, want %d %d", api.EventsReceived, api.Deliveries, tt.want.EventsReceived, tt.want.Deliveries)
			}
			for id, want := range map[string]string{
				"total-events":     fmt.Sprint(api.EventsReceived),
				"total-deliveries": fmt.Sprint(api.Deliveries),
				"total-rate":       tt.wantRate,
				"total-p95":        tt.wantP95,
			} {
				if got := textOf(page, id); got != want {
					t.Errorf("%s shows %q, want %q", id, got, want)
				}
			}
			if got := strings.Count(page, "<svg "); got != 3 {
				t.Errorf("%d charts, want 3", got)
			}
			var rows []string
			for _, m := range regexp.MustCompile(`<tr><th scope="row">[^<]*</th><td>(\d+)</td>`).FindAllStringSubmatch(page, -1) {
				rows = append(rows, m[1])
			}
			var apiRows []string
			for _, b := range api.Series {
				apiRows = append(apiRows, fmt.Sprint(b.EventsReceived))
			}
			if strings.Join(rows, " ") != strings.Join(apiRows, " ") {
				t.Errorf("table events %v, want the API's series %v", rows, apiRows)
			}
			if got, want := strings.Count(page, `<rect class="col"`), nonZeroBars(api.Series); got < want {
				t.Errorf("%d bars, want at least the %d buckets with events", got, want)
			}
		})
	}

	t.Run("empty window", func(t *testing.T) {
		e := newEnv(t, nil)
		e.createTenant(t, "acme")
		page := e.portalGet(t, "/portal/tenants/acme/metrics", e.session(t, "acme"))
		wantIn(t, page, "No events in this window")
		if strings.Contains(page, "<svg") {
			t.Error("empty window draws charts")
		}
	})
	t.Run("isolation", func(t *testing.T) {
		for _, tt := range []struct {
			name, path string
			want       int
		}{
			{"globex's page", "/portal/tenants/globex/metrics", http.StatusForbidden},
			{"globex's endpoint under acme", "/portal/tenants/acme/metrics?endpoint=ep_g", http.StatusNotFound},
		} {
			t.Run(tt.name, func(t *testing.T) {
				w := e.page(http.MethodGet, tt.path, c, nil)
				if w.Code != tt.want || strings.Contains(w.Body.String(), "<svg") {
					t.Errorf("GET %s: %d, want %d and no charts; body %s", tt.path, w.Code, tt.want, w.Body)
				}
			})
		}
	})
}

// nonZeroBars counts the buckets with events.
func nonZeroBars(series []hookrun.Metrics) int {
	n := 0
	for _, m := range series {
		if m.EventsReceived > 0 {
			n++
		}
	}
	return n
}
