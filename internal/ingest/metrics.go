package ingest

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func (s *Service) metricsRoutes() []route {
	return []route{
		{"GET /v1/tenants/{tenant}/metrics", s.metrics},
		{"GET /v1/tenants/{tenant}/endpoints/{endpoint}/metrics", s.metrics},
	}
}

// MetricsStore aggregates delivery records.
type MetricsStore interface {
	// Metrics describes the deliveries of events received in [since,
	// until), of one endpoint when endpointID is set.
	Metrics(ctx context.Context, tenantID, endpointID string, since, until time.Time) (hookrun.Metrics, error)
}

const (
	// maxMetricsWindow bounds a metrics query; retention bounds it anyway.
	maxMetricsWindow = 90 * 24 * time.Hour
	// maxMetricsBuckets bounds the series a query asks for: each bucket is
	// one more store aggregation (a set of Firestore aggregation queries).
	maxMetricsBuckets = 48
	// metricsParallel is how many buckets are aggregated at once, so that
	// one chart does not open hundreds of store calls together.
	metricsParallel = 4
)

// metrics handles GET …/metrics?since=…&until=…&step=… (RFC 3339; default
// the last 24 hours) for a tenant or one of its endpoints. With step (a
// duration like 1h) the answer carries the window's series as well.
func (s *Service) metrics(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	m, err := s.metricsOf(r.Context(), t.ID, r.PathValue("endpoint"), r.URL.Query())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

// metricsOf answers a metrics query given as the API's parameters: the
// API and the portal's Metrics page both ask through it.
func (s *Service) metricsOf(ctx context.Context, tenantID, endpointID string, q url.Values) (hookrun.Metrics, error) {
	until, since := s.now().UTC(), time.Time{}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return hookrun.Metrics{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: an RFC 3339 time like 2026-11-23T10:00:00Z", p.name)
			}
			*p.dst = ts.UTC()
		}
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !since.Before(until) {
		return hookrun.Metrics{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "since: must be before until")
	}
	if until.Sub(since) > maxMetricsWindow {
		return hookrun.Metrics{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "since: the window may span at most 90 days")
	}
	var step time.Duration
	if v := q.Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return hookrun.Metrics{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "step: a duration of at least a minute, like 1h")
		}
		if n := (until.Sub(since) + d - 1) / d; n > maxMetricsBuckets {
			return hookrun.Metrics{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "step: the window would have %d buckets; at most %d", n, maxMetricsBuckets)
		}
		step = d
	}
	if endpointID != "" {
		if _, err := s.store.GetEndpoint(ctx, tenantID, endpointID); err != nil {
			return hookrun.Metrics{}, err
		}
	}
	m, err := s.store.Metrics(ctx, tenantID, endpointID, since, until)
	if err != nil || step == 0 {
		return m, err
	}
	m.Series, err = s.metricsSeries(ctx, tenantID, endpointID, since, until, step)
	return m, err
}

// metricsSeries aggregates [since, until) a step at a time (the last
// bucket ends at until), by asking the store once per bucket: the stores
// keep no time buckets of their own, and a per-bucket aggregation reads
// no delivery document in Firestore.
func (s *Service) metricsSeries(ctx context.Context, tenantID, endpointID string, since, until time.Time, step time.Duration) ([]hookrun.Metrics, error) {
	var series []hookrun.Metrics
	for from := since; from.Before(until); from = from.Add(step) {
		to := from.Add(step)
		if to.After(until) {
			to = until
		}
		series = append(series, hookrun.Metrics{Since: from, Until: to})
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(metricsParallel)
	for i := range series {
		g.Go(func() error {
			m, err := s.store.Metrics(ctx, tenantID, endpointID, series[i].Since, series[i].Until)
			series[i] = m
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return series, nil
}
