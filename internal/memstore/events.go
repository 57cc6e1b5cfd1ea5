package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// eventRecord is an event with the state of its acceptance: "accepting"
// while one ingest request holds its ID and publishes (until LeaseUntil),
// "accepted" once Pub/Sub has it.
type eventRecord struct {
	Event      hookrun.Event
	Accepted   bool
	LeaseUntil time.Time
	MessageID  string
}

func storedEvent(e hookrun.Event) hookrun.Event {
	e.Data, e.ReceivedAt = slices.Clone(e.Data), stamp(e.ReceivedAt)
	return e
}

func loadEvent(e hookrun.Event) hookrun.Event {
	e.Data = slices.Clone(e.Data)
	return e
}

// ClaimEvent implements ingest.Store: it claims e's ID for lease (taking
// over a claim whose lease ended), or reports the accepted event with that
// ID as a duplicate, or is CodeAborted, with RetryAfter, while another
// request's lease runs.
func (s *Store) ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(e.TenantID, e.ID)
	now := s.now()
	claim := hookrun.ClaimedNew
	if r, ok := s.events[k]; ok {
		switch {
		case r.Accepted:
			return loadEvent(r.Event), hookrun.ClaimedDuplicate, nil
		case now.Before(r.LeaseUntil):
			return hookrun.Event{}, hookrun.ClaimedNew, &hookrun.Error{Code: hookrun.CodeAborted, RetryAfter: r.LeaseUntil.Sub(now),
				Message: fmt.Sprintf("an earlier request with event id %q is still being accepted; retry after the seconds in Retry-After", e.ID)}
		}
		// The earlier request died holding the claim, or released it
		// after a failed publish: take it over.
		claim = hookrun.ClaimedTakenOver
	}
	s.events[k] = eventRecord{Event: storedEvent(e), LeaseUntil: stamp(now.Add(lease))}
	return e, claim, nil
}

// RecordEvents implements ingest.Store: a claimed event's claim is
// marked accepted (recorded anew if gone); an unclaimed one is recorded
// unless a record exists.
func (s *Store) RecordEvents(ctx context.Context, evs []hookrun.AcceptedEvent) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ae := range evs {
		k := key(ae.Event.TenantID, ae.Event.ID)
		r, ok := s.events[k]
		switch {
		case ok && ae.Claimed:
			r.Accepted, r.MessageID, r.LeaseUntil = true, ae.MessageID, time.Time{}
			s.events[k] = r
		case !ok:
			s.events[k] = eventRecord{Event: storedEvent(ae.Event), Accepted: true, MessageID: ae.MessageID}
		}
	}
	return nil
}

// ReleaseEvent implements ingest.Store: it ends the claim's lease only
// while it is still a claim, never an accepted event.
func (s *Store) ReleaseEvent(ctx context.Context, tenantID, eventID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tenantID, eventID)
	if r, ok := s.events[k]; ok && !r.Accepted {
		r.LeaseUntil = time.Time{}
		s.events[k] = r
	}
	return nil
}

// SaveEvent records an event that arrived straight on the topic as
// accepted; an existing record is kept.
func (s *Store) SaveEvent(ctx context.Context, e hookrun.Event, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(e.TenantID, e.ID)
	if _, ok := s.events[k]; !ok {
		s.events[k] = eventRecord{Event: storedEvent(e), Accepted: true, MessageID: messageID}
	}
	return nil
}

// GetEvent returns a stored event, accepted or not.
func (s *Store) GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.events[key(tenantID, eventID)]
	if !ok {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeNotFound, "event %q not found", eventID)
	}
	return loadEvent(r.Event), nil
}

// GetCatalogue returns a tenant's event-type catalogue; none is empty.
func (s *Store) GetCatalogue(ctx context.Context, tenantID string) (hookrun.Catalogue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.catalogues[tenantID]), nil
}

// SetCatalogue replaces a tenant's catalogue; an empty one removes it.
func (s *Store) SetCatalogue(ctx context.Context, tenantID string, c hookrun.Catalogue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(c) == 0 {
		delete(s.catalogues, tenantID)
	} else {
		s.catalogues[tenantID] = slices.Clone(c)
	}
	return nil
}

// ListEvents returns a page of a tenant's accepted events that match f,
// newest first, each with its deliveries counted by state.
func (s *Store) ListEvents(ctx context.Context, tenantID string, f hookrun.EventFilter, pageSize int, token string) ([]hookrun.EventSummary, string, error) {
	s.mu.Lock()
	summaries := map[string]hookrun.DeliverySummary{}
	for _, r := range s.deliveries {
		if r.d.TenantID == tenantID {
			sum := summaries[r.d.EventID]
			sum.Add(r.d)
			summaries[r.d.EventID] = sum
		}
	}
	var all []hookrun.EventSummary
	for _, r := range s.events {
		e := r.Event
		if e.TenantID != tenantID || !r.Accepted || !f.Matches(e.Type, e.ReceivedAt, summaries[e.ID]) {
			continue
		}
		all = append(all, hookrun.EventSummary{ID: e.ID, TenantID: e.TenantID, Type: e.Type, Source: e.Source,
			ReceivedAt: e.ReceivedAt, Deliveries: summaries[e.ID]})
	}
	s.mu.Unlock()
	return newestFirst(all, pageSize, token, func(e hookrun.EventSummary) (time.Time, string) { return e.ReceivedAt, e.ID })
}
