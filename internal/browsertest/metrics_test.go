package browsertest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Events delivered through the pipeline show on the Metrics page as three
// charts (inline SVG with axis labels) and as the numbers the API gives,
// for the tenant and for one endpoint, at a desktop's width and a phone's.
func TestPortalMetrics(t *testing.T) {
	p := newPipeline(t)
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	p.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, &tenant)
	hook := flakyReceiver(t)
	var ep struct {
		ID string `json:"id"`
	}
	p.call(t, http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"`+hook+`","event_types":["*"]}`, &ep)
	for i := range 3 {
		p.sendEvent(t, tenant.APIKey, fmt.Sprintf(`{"type":"invoice.paid","data":{"n":%d}}`, i))
	}
	p.push(t, 3)     // the first attempt fails with 503, the others succeed
	p.runTasks(t, 1) // its retry succeeds
	var api struct {
		EventsReceived int64    `json:"events_received"`
		Deliveries     int64    `json:"deliveries"`
		SuccessRate    *float64 `json:"success_rate"`
	}
	p.call(t, http.MethodGet, "/v1/tenants/acme/metrics", "", &api)
	if api.EventsReceived != 3 || api.Deliveries != 3 || api.SuccessRate == nil || *api.SuccessRate != 1 {
		t.Fatalf("API metrics = %+v, want 3 events delivered", api)
	}

	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)
	// In Tokyo (UTC+9, no daylight saving) no hour label of a 24 h chart
	// can read as its UTC label, which the server writes.
	if err := chromedp.Do(ctx, inTimeZone("Asia/Tokyo"), chromedp.Navigate(p.portalLink(t, "acme")), chromedp.WaitVisible(css("#create-heading")),
		chromedp.Click(css(`nav a[href$="/metrics"]`)), chromedp.WaitVisible(css(".charts svg"))); err != nil {
		t.Fatalf("open Metrics from the nav: %v", err)
	}
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".charts svg text.x")].filter(e => /^\d\d:00$/.test(e.textContent) && e.textContent === new Date(e.dataset.time).toISOString().slice(11, 16)).length`)); err != nil || same != 0 {
		t.Errorf("%d axis labels still in UTC in the viewer's Tokyo time (%v), want none", same, err)
	}
	check := func(t *testing.T) {
		t.Helper()
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".charts svg rect.col").length > 0 ? document.querySelectorAll(".charts svg").length : 0`)); err != nil || n != 3 {
			t.Errorf("%d charts with bars (%v), want 3", n, err)
		}
		if labels, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".charts svg text.x").length`)); err != nil || labels < 3*3 {
			t.Errorf("%d time labels on the charts' axes (%v), want 3 each at least", labels, err)
		}
		for sel, want := range map[string]string{"#total-events": "3", "#total-deliveries": "3", "#total-rate": "100%"} {
			if got, err := chromedp.Run(ctx, chromedp.Text(css(sel))); err != nil || got != want {
				t.Errorf("%s = %q (%v), want %q as the API says", sel, got, err, want)
			}
		}
	}
	check(t)
	page := text(ctx, t)
	wantText(t, page, "Events received")
	wantText(t, page, "Response time p95")
	Screenshot(ctx, t, dir, "1-metrics")
	narrow(ctx, t, dir, "1-metrics")

	t.Run("one endpoint, 7 days", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.SetValue(css("#endpoint"), ep.ID),
			chromedp.SetValue(css("#window"), "7d"),
			chromedp.Click(css(`form.filters button`)),
			chromedp.WaitVisible(css(`.charts[data-window="7d"] svg`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		check(t)
		Screenshot(ctx, t, dir, "2-metrics-endpoint-7d")
	})
}
