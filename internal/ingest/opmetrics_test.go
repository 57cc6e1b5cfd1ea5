package ingest_test

import (
	"errors"
	"maps"
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
)

// After a run of requests, ingest's Prometheus endpoint counts the events
// accepted and those refused by the status they were answered with; a
// duplicate's 202 accepts nothing new. Disabling an endpoint through the
// API counts too.
func TestOperatorMetricsAfterARun(t *testing.T) {
	rec, url := metricstest.Serve(t)
	e := newEnv(t, nil, ingest.WithMetrics(rec))
	key := e.createTenant(t, "acme")
	ep := e.createEndpoint(t, "acme", key, "https://a.example/h")

	for _, c := range []struct {
		body, key string
		fail      error
		want      int
	}{
		{`{"id":"evt_1","type":"user.created","data":{}}`, key, nil, http.StatusAccepted},
		{`{"id":"evt_2","type":"user.created","data":{}}`, key, nil, http.StatusAccepted},
		{`{"id":"evt_1","type":"user.created","data":{}}`, key, nil, http.StatusAccepted}, // duplicate
		{`{"type":"User Created","data":{}}`, key, nil, http.StatusBadRequest},
		{`{"type":"user.created","data":{}}`, "hr_wrong", nil, http.StatusUnauthorized},
		{`{"type":"user.created","data":{}}`, key, errors.New("pubsub down"), http.StatusServiceUnavailable},
	} {
		e.pub.setErr(c.fail)
		if w := e.do(t, http.MethodPost, "/v1/events", c.key, c.body); w.Code != c.want {
			t.Fatalf("POST %s = %d %s, want %d", c.body, w.Code, w.Body, c.want)
		}
	}
	if w := e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+ep.ID, key, `{"enabled":false}`); w.Code != http.StatusOK {
		t.Fatalf("disable endpoint = %d %s", w.Code, w.Body)
	}
	// Disabling it again changes nothing, and counts nothing.
	if w := e.do(t, http.MethodPatch, "/v1/tenants/acme/endpoints/"+ep.ID, key, `{"enabled":false}`); w.Code != http.StatusOK {
		t.Fatalf("disable endpoint again = %d %s", w.Code, w.Body)
	}

	got := metricstest.Scrape(t, url).Hookrun()
	want := metricstest.Samples{
		`hookrun_events_accepted_total{source="api"}`:             2,
		`hookrun_events_refused_total{reason="INVALID_ARGUMENT"}`: 1,
		`hookrun_events_refused_total{reason="UNAUTHENTICATED"}`:  1,
		`hookrun_events_refused_total{reason="UNAVAILABLE"}`:      1,
		`hookrun_endpoints_disabled_total{reason="api"}`:          1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("scraped:\n%v\nwant:\n%v", got, want)
	}
}
