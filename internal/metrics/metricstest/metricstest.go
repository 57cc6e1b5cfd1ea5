// Package metricstest reads hookrun's metrics as an operator's Prometheus
// would: over HTTP from a metrics endpoint, in the text format. Tests of
// the services serve a Recorder's metrics on a loopback port (Serve), run
// their scenario, and assert what Scrape returns, so that what they check
// is the endpoint's output, names and labels included.
package metricstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hookrun/hookrun/internal/metrics"
)

// Serve starts a meter provider whose metrics a Prometheus endpoint on a
// loopback port serves, and returns its Recorder and the endpoint's URL.
func Serve(t testing.TB) (*metrics.Recorder, string) {
	t.Helper()
	p, err := metrics.Start(context.Background(), metrics.Config{Service: "test", Prometheus: true})
	if err != nil {
		t.Fatalf("metrics.Start: %v", err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := p.Close(); err != nil {
			t.Errorf("metrics shutdown: %v", err)
		}
	})
	return p.Recorder, srv.URL + "/metrics"
}

// Samples are the values of a scrape, by series: the metric's Prometheus
// name and its labels, sorted, as in `hookrun_deliveries_total{outcome="dead"}`.
// A histogram is its _count and _sum series.
type Samples map[string]float64

// Scrape GETs url and parses the text format it answers.
func Scrape(t testing.TB, url string) Samples {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %d %s", url, resp.StatusCode, b)
	}
	s, err := Parse(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return s
}

// Parse reads the Prometheus text format.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := Samples{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := m.GetLabel()
			switch {
			case m.Counter != nil:
				out[Series(name, labels)] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[Series(name, labels)] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[Series(name+"_count", labels)] = float64(m.GetHistogram().GetSampleCount())
				out[Series(name+"_sum", labels)] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out, nil
}

// Series is the key of a series in Samples. Labels that every series of a
// scrape carries (otel_scope_name and the like) are left out.
func Series(name string, labels []*dto.LabelPair) string {
	var kv []string
	for _, l := range labels {
		if strings.HasPrefix(l.GetName(), "otel_") {
			continue
		}
		kv = append(kv, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(kv)
	if len(kv) == 0 {
		return name
	}
	return name + "{" + strings.Join(kv, ",") + "}"
}

// Hookrun returns the series of hookrun's own metrics (hookrun_…), for a
// test to compare whole with what it wants: a series that should not be
// there fails it too.
func (s Samples) Hookrun() Samples {
	out := Samples{}
	for k, v := range s {
		if strings.HasPrefix(k, "hookrun_") {
			out[k] = v
		}
	}
	return out
}
