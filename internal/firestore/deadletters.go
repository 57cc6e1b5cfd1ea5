package firestore

import (
	"context"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// deadLetterQuery selects a tenant's dead deliveries by filter, newest
// first. Production needs composite indexes on deliveries for (state,
// dead_time desc) with endpoint_id and/or event_type before dead_time.
func (s *Store) deadLetterQuery(tenantID string, f hookrun.DeadLetterFilter) fs.Query {
	q := s.tenantRef(tenantID).Collection("deliveries").Where("state", "==", string(hookrun.DeliveryDead))
	if f.EndpointID != "" {
		q = q.Where("endpoint_id", "==", f.EndpointID)
	}
	if f.EventType != "" {
		q = q.Where("event_type", "==", f.EventType)
	}
	if !f.Since.IsZero() {
		q = q.Where("dead_time", ">=", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("dead_time", "<", f.Until)
	}
	return q
}

// ListDeadLetters returns a page of a tenant's dead deliveries, newest
// first, with their attempts, and the token of the next page ("" at the
// end).
func (s *Store) ListDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, pageSize int, token string) ([]hookrun.Delivery, string, error) {
	q, err := newestFirst(s.deadLetterQuery(tenantID, f), s.tenantRef(tenantID).Collection("deliveries"), "dead_time", pageSize, token)
	if err != nil {
		return nil, "", err
	}
	out, err := s.queryDeliveries(ctx, tenantID, q, true)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, pageSize, func(d hookrun.Delivery) (time.Time, string) {
		return d.DeadAt, hookrun.DeliveryID(d.EventID, d.EndpointID)
	})
	return out, next, nil
}
