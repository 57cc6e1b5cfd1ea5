package ingest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The portal's Metrics page: volume, success rate and p95 latency over the
// last day or week, of the tenant or one endpoint, as charts drawn here in
// Go as inline SVG (the CSP allows no inline script, and none is needed)
// with the same numbers in a table. It asks metricsOf, as the API does.

// metricsWindow is a choice of the page's window select.
type metricsWindow struct {
	Value, Label string
	// StepLabel names a bucket's length in words.
	StepLabel  string
	span, step time.Duration
	// tick is how far apart the x axis is labelled, at whole multiples
	// in UTC (midnight every other day for 48h); format is how a label
	// reads.
	tick   time.Duration
	format string
}

// metricsWindows are the windows the page offers; the first is the default.
var metricsWindows = []metricsWindow{
	{Value: "24h", Label: "Last 24 hours", StepLabel: "hour", span: 24 * time.Hour, step: time.Hour, tick: 6 * time.Hour, format: "15:04"},
	{Value: "7d", Label: "Last 7 days", StepLabel: "6 hours", span: 7 * 24 * time.Hour, step: 6 * time.Hour, tick: 48 * time.Hour, format: "Jan 2"},
}

// metricsView is the Metrics page's data.
type metricsView struct {
	Title     string
	Tenant    hookrun.Tenant
	Endpoints []hookrun.Endpoint
	Windows   []metricsWindow
	// Endpoint and Window are the selects' values.
	Endpoint, Window string
	StepLabel        string
	Metrics          hookrun.Metrics
	Charts           []chart
	// Total is the window's numbers, Rows each bucket's: the charts'
	// text for those who cannot see them.
	Total metricsRow
	Rows  []metricsRow
}

// metricsRow is one bucket's (or the window's) numbers as the page shows
// them; Rate and P95 are "–" when there is none.
type metricsRow struct {
	From                                time.Time
	Events, Deliveries, Succeeded, Dead int64
	Rate, P95                           string
}

func newMetricsRow(m hookrun.Metrics) metricsRow {
	r := metricsRow{From: m.Since, Events: m.EventsReceived, Deliveries: m.Deliveries, Succeeded: m.Succeeded, Dead: m.Dead, Rate: "–", P95: "–"}
	if m.SuccessRate != nil {
		r.Rate = formatValue(math.Round(*m.SuccessRate*1000)/10) + "%"
	}
	if m.P95ResponseMS != nil {
		r.P95 = formatValue(*m.P95ResponseMS) + " ms"
	} else if m.Attempts > 0 {
		r.P95 = "over 30 s"
	}
	return r
}

// Empty reports whether the window had no events, to say so instead of
// drawing flat charts.
func (v metricsView) Empty() bool { return v.Metrics.EventsReceived == 0 && v.Metrics.Deliveries == 0 }

// portalMetrics handles GET /portal/tenants/{tenant}/metrics?endpoint=&window=.
func (s *Service) portalMetrics(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	q := r.URL.Query()
	win := metricsWindows[0]
	for _, mw := range metricsWindows {
		if mw.Value == q.Get("window") {
			win = mw
		}
	}
	eps, err := s.store.ListEndpoints(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	// The window ends at the end of the current bucket, so that buckets
	// fall on whole hours and the axis reads as a clock.
	until := s.now().UTC().Truncate(win.step).Add(win.step)
	v := metricsView{Title: "Metrics", Tenant: pr.tenant, Endpoints: eps, Windows: metricsWindows,
		Endpoint: q.Get("endpoint"), Window: win.Value, StepLabel: win.StepLabel}
	v.Metrics, err = s.metricsOf(r.Context(), pr.tenant.ID, v.Endpoint, url.Values{
		"since": {until.Add(-win.span).Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}, "step": {win.step.String()}})
	if err != nil {
		return err
	}
	v.Charts = metricsCharts(v.Metrics.Series, win)
	v.Total = newMetricsRow(v.Metrics)
	for _, m := range v.Metrics.Series {
		v.Rows = append(v.Rows, newMetricsRow(m))
	}
	s.renderPortal(w, r, http.StatusOK, "metrics", v)
	return nil
}

// metricsCharts are the page's three charts of a series.
func metricsCharts(series []hookrun.Metrics, win metricsWindow) []chart {
	volume, rate, p95 := make([]*float64, len(series)), make([]*float64, len(series)), make([]*float64, len(series))
	for i, m := range series {
		n := float64(m.EventsReceived)
		volume[i] = &n
		if m.SuccessRate != nil {
			pct := *m.SuccessRate * 100
			rate[i] = &pct
		}
		p95[i] = m.P95ResponseMS
	}
	starts := make([]time.Time, len(series))
	for i, m := range series {
		starts[i] = m.Since
	}
	return []chart{
		newChart("volume", "Events received", "events", "per "+win.StepLabel, volume, niceMax(volume), starts, win),
		newChart("success", "Success rate", "%", "of settled deliveries", rate, 100, starts, win),
		newChart("latency", "Response time p95", "ms", "of attempts", p95, niceMax(p95), starts, win),
	}
}

// Chart geometry, in the SVG's own units: the viewBox is chartW × chartH,
// and the plot leaves room for the y labels on the left and the x labels
// below. The SVG scales to its box; the CSS keeps it readable.
const (
	chartW, chartH           = 360.0, 190.0
	plotLeft, plotRight      = 44.0, 8.0
	plotTop, plotBottom      = 10.0, 24.0
	plotW, plotH             = chartW - plotLeft - plotRight, chartH - plotTop - plotBottom
	barGap                   = 0.15 // of a bucket's width
	chartViewBox             = "0 0 360 190"
	chartBaseline            = chartH - plotBottom
	chartLabelX, chartLabelY = plotLeft - 6, chartBaseline + 16
	xLabelW                  = 44.0 // the widest x label, "Nov 30" or "23:00"
)

// chart is one bar chart, its coordinates computed here so the template
// only places them.
type chart struct {
	ID, Title, Unit string
	// Hint says what a bar measures.
	Hint           string
	ViewBox        string
	Bars           []chartBar
	YTicks, XTicks []chartTick
	// Left, Right and Baseline frame the plot; LabelX and LabelY are where
	// the y labels end and the x labels sit.
	Left, Right, Baseline, LabelX, LabelY float64
}

// chartBar is one bucket's bar; Label is its value and time, read out as
// the bar's title.
type chartBar struct {
	X, Y, W, H float64
	Label      string
}

// chartTick is an axis label at a position along its axis. A time label
// also carries its instant and whether it shows the time of day or the
// date, for the portal's script to write it in the viewer's time zone.
type chartTick struct {
	At    float64
	Label string
	Time  string // RFC 3339, for time labels
	Shows string // "time" or "date"
}

// newChart lays out values (nil: no value in that bucket) over 0..max.
func newChart(id, title, unit, hint string, values []*float64, max float64, starts []time.Time, win metricsWindow) chart {
	c := chart{ID: id, Title: title, Unit: unit, Hint: hint, ViewBox: chartViewBox,
		Left: plotLeft, Right: chartW - plotRight, Baseline: chartBaseline, LabelX: chartLabelX, LabelY: chartLabelY}
	for _, f := range []float64{0, 0.5, 1} {
		// A count's axis has no half events: 0 and 5, without 2.5.
		if v := f * max; v == math.Trunc(v) || unit != "events" {
			c.YTicks = append(c.YTicks, chartTick{At: chartBaseline - f*plotH, Label: formatValue(v) + map[bool]string{true: "%"}[unit == "%"]})
		}
	}
	if len(values) == 0 {
		return c
	}
	slot := plotW / float64(len(values))
	for i, v := range values {
		x := plotLeft + float64(i)*slot
		// A label starts at its bucket; one too near the right edge
		// would be cut off.
		if starts[i].Truncate(win.tick).Equal(starts[i]) && x <= chartW-xLabelW {
			shows := "date"
			if win.step < 24*time.Hour && win.tick < 24*time.Hour {
				shows = "time"
			}
			c.XTicks = append(c.XTicks, chartTick{At: x, Label: starts[i].Format(win.format), Time: starts[i].UTC().Format(time.RFC3339), Shows: shows})
		}
		if v == nil {
			continue
		}
		h := 0.0
		if max > 0 {
			h = math.Min(*v/max, 1) * plotH
		}
		c.Bars = append(c.Bars, chartBar{X: x + slot*barGap/2, Y: chartBaseline - h, W: slot * (1 - barGap), H: h,
			Label: fmt.Sprintf("%s %s from %s UTC", formatValue(*v), unit, starts[i].Format("Jan 2 15:04"))})
	}
	return c
}

// niceMax is the top of a y axis that holds every value: 1, 2 or 5 times
// a power of ten, and 1 when there is nothing to show.
func niceMax(values []*float64) float64 {
	top := 0.0
	for _, v := range values {
		if v != nil && *v > top {
			top = *v
		}
	}
	if top <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(top)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// formatValue writes an axis or bar value without needless decimals.
func formatValue(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
