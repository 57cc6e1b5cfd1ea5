package ingest

import (
	"context"
	"net/http"
	"time"

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

// maxMetricsWindow bounds a metrics query; retention bounds it anyway.
const maxMetricsWindow = 90 * 24 * time.Hour

// metrics handles GET …/metrics?since=…&until=… (RFC 3339; default the
// last 24 hours) for a tenant or one of its endpoints.
func (s *Service) metrics(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	until, since := s.now().UTC(), time.Time{}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: an RFC 3339 time like 2026-11-23T10:00:00Z", p.name)
			}
			*p.dst = ts.UTC()
		}
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !since.Before(until) {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "since: must be before until")
	}
	if until.Sub(since) > maxMetricsWindow {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "since: the window may span at most 90 days")
	}
	endpointID := r.PathValue("endpoint")
	if endpointID != "" {
		if _, err := s.store.GetEndpoint(r.Context(), t.ID, endpointID); err != nil {
			return err
		}
	}
	m, err := s.store.Metrics(r.Context(), t.ID, endpointID, since, until)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}
