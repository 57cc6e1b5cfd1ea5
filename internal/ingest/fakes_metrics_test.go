package ingest_test

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Metrics returns what the test put in metrics, recording the query.
func (s *fakeStore) Metrics(ctx context.Context, tenantID, endpointID string, since, until time.Time) (hookrun.Metrics, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metricsQueries = append(s.metricsQueries, metricsQuery{tenantID, endpointID, since, until})
	m := s.metrics
	m.Since, m.Until = since, until
	return m, nil
}

type metricsQuery struct {
	tenantID, endpointID string
	since, until         time.Time
}
