package memstore

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// deliveryRecord is a delivery with what Firestore sums for metrics.
type deliveryRecord struct {
	d hookrun.Delivery // AttemptLog holds every attempt
	// latencySumMS and failed sum the attempts; buckets count them by
	// latency bucket (hookrun.LatencyBucket).
	latencySumMS float64
	failed       int64
	buckets      map[int]int64
	// deadCounted holds the chains whose dead letter CountDeadInARow
	// counted.
	deadCounted map[string]bool
}

func deliveryNotFound(eventID, endpointID string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "delivery %q not found", hookrun.DeliveryID(eventID, endpointID))
}

func storedAttempt(a hookrun.Attempt) hookrun.Attempt {
	a.StartedAt, a.Latency, a.RetryAfter = stamp(a.StartedAt), a.Latency.Truncate(time.Microsecond), ""
	return a
}

// load returns the delivery as a read does, with its attempts or without.
func (r *deliveryRecord) load(withAttempts bool) hookrun.Delivery {
	d := r.d
	d.AttemptLog = nil
	if withAttempts {
		d.AttemptLog = append(make([]hookrun.Attempt, 0, len(r.d.AttemptLog)), r.d.AttemptLog...)
	}
	return d
}

// setState writes the state fields every delivery write sets.
func (r *deliveryRecord) setState(d hookrun.Delivery) {
	o := &r.d
	o.TenantID, o.EventID, o.EndpointID, o.EventType, o.WebhookID = d.TenantID, d.EventID, d.EndpointID, d.EventType, d.WebhookID
	o.State, o.Chain, o.NextAttemptAt, o.DeadReason, o.DeadAt = d.State, d.Chain, stamp(d.NextAttemptAt), d.DeadReason, stamp(d.DeadAt)
	o.Announced, o.CountsInARow, o.UpdatedAt = d.Announced, d.CountsInARow, stamp(d.UpdatedAt)
	if !d.EventAt.IsZero() { // state-only writes keep the stored one
		o.EventAt = stamp(d.EventAt)
	}
}

// record returns the delivery's record, made empty if there is none; s.mu
// is held.
func (s *Store) record(tenantID, eventID, endpointID string) *deliveryRecord {
	k := key(tenantID, hookrun.DeliveryID(eventID, endpointID))
	r, ok := s.deliveries[k]
	if !ok {
		r = &deliveryRecord{buckets: map[int]int64{}}
		s.deliveries[k] = r
	}
	return r
}

// GetDeliveries returns the existing deliveries of one event to the given
// endpoints, by endpoint ID, without their attempts.
func (s *Store) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]hookrun.Delivery, len(endpointIDs))
	for _, id := range endpointIDs {
		if r, ok := s.deliveries[key(tenantID, hookrun.DeliveryID(eventID, id))]; ok {
			out[id] = r.load(false)
		}
	}
	return out, nil
}

// GetDelivery returns one delivery with its attempts.
func (s *Store) GetDelivery(ctx context.Context, tenantID, eventID, endpointID string) (hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deliveries[key(tenantID, hookrun.DeliveryID(eventID, endpointID))]
	if !ok {
		return hookrun.Delivery{}, deliveryNotFound(eventID, endpointID)
	}
	return r.load(true), nil
}

// query returns the loaded deliveries of a tenant that match, in the
// order of their IDs; s.mu is held.
func (s *Store) query(tenantID string, withAttempts bool, match func(hookrun.Delivery) bool) []hookrun.Delivery {
	var out []hookrun.Delivery
	for _, k := range sortedKeys(s.deliveries) {
		if r := s.deliveries[k]; ofTenant(k, tenantID) && match(r.d) {
			out = append(out, r.load(withAttempts))
		}
	}
	return out
}

// ListEventDeliveries returns the deliveries of one event, with their
// attempts.
func (s *Store) ListEventDeliveries(ctx context.Context, tenantID, eventID string) ([]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.query(tenantID, true, func(d hookrun.Delivery) bool { return d.EventID == eventID }), nil
}

// ListEndpointDeliveries returns up to limit deliveries of an endpoint in
// the given state, without attempts.
func (s *Store) ListEndpointDeliveries(ctx context.Context, tenantID, endpointID string, state hookrun.DeliveryState, limit int) ([]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.query(tenantID, false, func(d hookrun.Delivery) bool { return d.EndpointID == endpointID && d.State == state })
	return out[:min(limit, len(out))], nil
}

// RecordAttempt stores the outcome of one attempt and the delivery's new
// state: the attempt is counted and added to the delivery's list (unless
// the same attempt is there already, as Firestore's array union does).
func (s *Store) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.record(d.TenantID, d.EventID, d.EndpointID)
	r.setState(d)
	r.d.Attempts++
	r.d.LastStatusCode, r.d.LastError, r.d.ChainAttempts = d.LastStatusCode, d.LastError, a.Number
	latencyMS := float64(a.Latency.Microseconds()) / 1000
	r.latencySumMS += latencyMS
	r.buckets[hookrun.LatencyBucket(a.Latency)]++
	if !a.Succeeded() {
		r.failed++
	}
	if a := storedAttempt(a); !slices.Contains(r.d.AttemptLog, a) {
		r.d.AttemptLog = append(r.d.AttemptLog, a)
	}
	return nil
}

// RecordAttempts stores each record as RecordAttempt does.
func (s *Store) RecordAttempts(ctx context.Context, recs []hookrun.AttemptRecord) []error {
	for _, r := range recs {
		_ = s.RecordAttempt(ctx, r.Delivery, r.Attempt) // never fails
	}
	return nil
}

// SetDeliveryState stores a delivery's state without an attempt.
func (s *Store) SetDeliveryState(ctx context.Context, d hookrun.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.record(d.TenantID, d.EventID, d.EndpointID)
	r.setState(d)
	r.d.ChainAttempts = d.ChainAttempts
	return nil
}

// MarkAnnounced records that a dead letter was published; a missing
// delivery is CodeNotFound.
func (s *Store) MarkAnnounced(ctx context.Context, tenantID, eventID, endpointID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deliveries[key(tenantID, hookrun.DeliveryID(eventID, endpointID))]
	if !ok {
		return deliveryNotFound(eventID, endpointID)
	}
	r.d.Announced = true
	return nil
}

// deadLetters returns a tenant's dead deliveries that match f, in the
// order Firestore's query returns them: by ID, or by dead time then ID
// when f bounds the dead time; s.mu is held.
func (s *Store) deadLetters(tenantID string, f hookrun.DeadLetterFilter, withAttempts bool) []hookrun.Delivery {
	out := s.query(tenantID, withAttempts, func(d hookrun.Delivery) bool {
		return d.State == hookrun.DeliveryDead && (f.EndpointID == "" || d.EndpointID == f.EndpointID) &&
			(f.EventType == "" || d.EventType == f.EventType) &&
			(f.Since.IsZero() || !d.DeadAt.Before(f.Since)) && (f.Until.IsZero() || d.DeadAt.Before(f.Until))
	})
	if !f.Since.IsZero() || !f.Until.IsZero() {
		slices.SortStableFunc(out, func(a, b hookrun.Delivery) int { return a.DeadAt.Compare(b.DeadAt) })
	}
	return out
}

func deadLetterKey(d hookrun.Delivery) (time.Time, string) {
	return d.DeadAt, hookrun.DeliveryID(d.EventID, d.EndpointID)
}

// ListDeadLetters returns a page of a tenant's dead deliveries, newest
// first, with their attempts.
func (s *Store) ListDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, pageSize int, token string) ([]hookrun.Delivery, string, error) {
	s.mu.Lock()
	all := s.deadLetters(tenantID, f, true)
	s.mu.Unlock()
	return newestFirst(all, pageSize, token, deadLetterKey)
}

// RecordRejected keeps a message that could not become an event.
// Recording the same message twice keeps one record, the last.
func (s *Store) RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.Attributes, m.Data = maps.Clone(m.Attributes), slices.Clone(m.Data)
	m.PublishedAt, m.RejectedAt = stamp(m.PublishedAt), stamp(m.RejectedAt)
	s.rejected[m.MessageID] = m
	return nil
}

// ListRejected returns a page of rejected messages, newest first: of one
// tenant, or all when tenantID is empty.
func (s *Store) ListRejected(ctx context.Context, tenantID string, pageSize int, token string) ([]hookrun.RejectedMessage, string, error) {
	s.mu.Lock()
	var all []hookrun.RejectedMessage
	for _, m := range s.rejected {
		if tenantID == "" || m.TenantID == tenantID {
			m.Attributes, m.Data = maps.Clone(m.Attributes), slices.Clone(m.Data)
			all = append(all, m)
		}
	}
	s.mu.Unlock()
	return newestFirst(all, pageSize, token, func(m hookrun.RejectedMessage) (time.Time, string) { return m.RejectedAt, m.MessageID })
}

// Metrics aggregates a tenant's deliveries (of one endpoint, when
// endpointID is set) for events received in [since, until), as the
// Firestore store's aggregation queries do.
func (s *Store) Metrics(ctx context.Context, tenantID, endpointID string, since, until time.Time) (hookrun.Metrics, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := hookrun.Metrics{Since: since, Until: until}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(since) && t.Before(until) }
	var latencySumMS float64
	buckets := make([]int64, len(hookrun.LatencyBuckets)+1)
	for k, r := range s.deliveries {
		d := r.d
		if !ofTenant(k, tenantID) || (endpointID != "" && d.EndpointID != endpointID) || !in(d.EventAt) {
			continue
		}
		m.Deliveries++
		switch d.State {
		case hookrun.DeliverySucceeded:
			m.Succeeded++
		case hookrun.DeliveryRetrying:
			m.Retrying++
		case hookrun.DeliveryDead:
			m.Dead++
		}
		m.Attempts += int64(d.Attempts)
		m.FailedAttempts += r.failed
		latencySumMS += r.latencySumMS
		for i, n := range r.buckets {
			buckets[i] += n
		}
	}
	if endpointID != "" {
		m.EventsReceived = m.Deliveries // the events that matched the endpoint
	} else {
		for k, e := range s.events {
			// Every event has a receive time, the zero time too; one
			// still being accepted is not counted yet.
			if t := e.Event.ReceivedAt; e.Accepted && ofTenant(k, tenantID) && !t.Before(since) && t.Before(until) {
				m.EventsReceived++
			}
		}
	}
	m.Derive(latencySumMS, buckets)
	return m, nil
}
