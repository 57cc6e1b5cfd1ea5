package memstore

import (
	"maps"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// What a test needs to set up or look at that the services' store API
// does not offer. Production code has no use for these.

// PutDelivery stores d as it is, attempts and replay claim included: what
// the dispatcher would have written over time.
func (s *Store) PutDelivery(d hookrun.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &deliveryRecord{buckets: map[int]int64{}}
	s.deliveries[key(d.TenantID, hookrun.DeliveryID(d.EventID, d.EndpointID))] = r
	log := make([]hookrun.Attempt, len(d.AttemptLog))
	for i, a := range d.AttemptLog {
		log[i] = storedAttempt(a)
		r.latencySumMS += float64(a.Latency.Microseconds()) / 1000
		r.buckets[hookrun.LatencyBucket(a.Latency)]++
		if !a.Succeeded() {
			r.failed++
		}
	}
	d.AttemptLog = log
	d.EventAt, d.UpdatedAt, d.NextAttemptAt = stamp(d.EventAt), stamp(d.UpdatedAt), stamp(d.NextAttemptAt)
	d.DeadAt, d.ReplayClaimedAt = stamp(d.DeadAt), stamp(d.ReplayClaimedAt)
	r.d = d
}

// EventRecord is a stored event and the state of its acceptance.
type EventRecord struct {
	Event hookrun.Event
	// Accepted is set once Pub/Sub had the event, with its MessageID;
	// until then, LeaseUntil is when the claim of the request that
	// publishes it ends.
	Accepted   bool
	MessageID  string
	LeaseUntil time.Time
}

// Event returns the record of an event, and whether there is one.
func (s *Store) Event(tenantID, eventID string) (EventRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.events[key(tenantID, eventID)]
	if !ok {
		return EventRecord{}, false
	}
	return EventRecord{Event: loadEvent(r.Event), Accepted: r.Accepted, MessageID: r.MessageID, LeaseUntil: r.LeaseUntil}, true
}

// Snapshot returns a copy of the store, for Restore: a fuzz target puts
// the store back as it was before each input.
func (s *Store) Snapshot() *Store {
	c := New(WithClock(s.now))
	c.copyFrom(s)
	return c
}

// Restore makes the store hold what snap held when Snapshot made it.
func (s *Store) Restore(snap *Store) {
	s.copyFrom(snap)
}

// copyFrom replaces what s holds by a copy of what from holds. Stored
// values are replaced, never changed in place, except deliveries'.
func (s *Store) copyFrom(from *Store) {
	from.mu.Lock()
	defer from.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants, s.keys, s.endpoints = maps.Clone(from.tenants), maps.Clone(from.keys), maps.Clone(from.endpoints)
	s.events, s.rejected, s.catalogues = maps.Clone(from.events), maps.Clone(from.rejected), maps.Clone(from.catalogues)
	s.replays, s.deletions, s.sources = maps.Clone(from.replays), maps.Clone(from.deletions), maps.Clone(from.sources)
	s.epVersions = maps.Clone(from.epVersions)
	s.deliveries = make(map[string]*deliveryRecord, len(from.deliveries))
	for k, r := range from.deliveries {
		c := *r
		c.d.AttemptLog, c.buckets = slices.Clone(r.d.AttemptLog), maps.Clone(r.buckets)
		s.deliveries[k] = &c
	}
}

// Events returns the records of the events of every tenant, accepted or
// not, by tenant and event ID.
func (s *Store) Events() []EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EventRecord, 0, len(s.events))
	for _, k := range sortedKeys(s.events) {
		r := s.events[k]
		out = append(out, EventRecord{Event: loadEvent(r.Event), Accepted: r.Accepted, MessageID: r.MessageID, LeaseUntil: r.LeaseUntil})
	}
	return out
}

// DeliveryCount counts the deliveries of every tenant.
func (s *Store) DeliveryCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deliveries)
}

// TenantRecords counts what the store holds of a tenant: its own record,
// API keys, endpoints and their list's version, events, deliveries,
// replays, catalogue and rejected messages.
func (s *Store) TenantRecords(tenantID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if _, ok := s.tenants[tenantID]; ok {
		n++
	}
	if _, ok := s.catalogues[tenantID]; ok {
		n++
	}
	if _, ok := s.epVersions[tenantID]; ok {
		n++
	}
	for _, k := range s.keys {
		n += boolInt(k.TenantID == tenantID)
	}
	for _, m := range s.rejected {
		n += boolInt(m.TenantID == tenantID)
	}
	for _, ks := range [][]string{sortedKeys(s.endpoints), sortedKeys(s.events), sortedKeys(s.deliveries), sortedKeys(s.replays)} {
		n += len(slices.DeleteFunc(ks, func(k string) bool { return !ofTenant(k, tenantID) }))
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
