package firestore

import (
	"context"
	"fmt"
	"slices"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The events list reads what the dispatcher already writes, rather than
// keeping a summary on each event document: a summary would cost a second
// write on every attempt, on the hot path whose round trips issue 17 cuts,
// and every delivery of an event fanned out to many endpoints would
// contend on that one document. The list pays at read time instead, and
// never per event: one query for the page (two or more when a state filter
// skips deliveries of events already on it), then, per 30 events (the most
// an "in" filter takes), one query for their deliveries' states, and with
// a state filter one for the events themselves. Every query projects the
// fields the list shows, so neither an event's data (up to 1 MB) nor a
// delivery's attempts are read.

// inLimit is the most values one "in" filter takes.
const inLimit = 30

// ListEvents returns a page of a tenant's accepted events that match f,
// newest first, each with its deliveries counted by state, and the next
// page's token. Without a state filter it pages the events themselves; with
// one it pages the deliveries in that state (which carry the event's type
// and receive time) and keeps each event once.
func (s *Store) ListEvents(ctx context.Context, tenantID string, f hookrun.EventFilter, pageSize int, token string) ([]hookrun.EventSummary, string, error) {
	var (
		out  []hookrun.EventSummary
		next string
		err  error
	)
	if f.State == "" {
		out, next, err = s.listEventsByTime(ctx, tenantID, f, pageSize, token)
	} else {
		out, next, err = s.listEventsByDeliveryState(ctx, tenantID, f, pageSize, token)
	}
	if err != nil {
		return nil, "", err
	}
	if err := s.summarizeDeliveries(ctx, tenantID, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// eventListFields are the fields of an event document the list reads.
var eventListFields = []string{"type", "source", "receive_time", "state"}

// listEventsByTime pages a tenant's accepted events: an event still being
// accepted may yet be released, and is not one until Pub/Sub has it.
func (s *Store) listEventsByTime(ctx context.Context, tenantID string, f hookrun.EventFilter, pageSize int, token string) ([]hookrun.EventSummary, string, error) {
	coll := s.tenantRef(tenantID).Collection("events")
	q := coll.Where("state", "==", eventAccepted)
	if f.EventType != "" {
		q = q.Where("type", "==", f.EventType)
	}
	q = q.Where("shard", "in", allShards)
	if !f.Since.IsZero() {
		q = q.Where("receive_time", ">=", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("receive_time", "<", f.Until)
	}
	q, err := newestFirst(q, coll, "receive_time", pageSize, token)
	if err != nil {
		return nil, "", err
	}
	out, err := s.queryEventSummaries(ctx, tenantID, q.Select(eventListFields...))
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, pageSize, func(e hookrun.EventSummary) (time.Time, string) { return e.ReceivedAt, e.ID })
	return out, next, nil
}

// listEventsByDeliveryState pages the tenant's deliveries in f.State, newest
// event first, and keeps the first pageSize distinct events. The page
// token is the last delivery taken (its event_time and document ID), so
// the next page starts after it. An event's deliveries are next to each
// other in that order (same event_time, document IDs "{event}:{endpoint}"),
// so no event spans two pages, except two events received in the same
// microsecond where one's ID is the other's followed by ':' (both may
// then show on both pages; none is skipped). It reads, in batches of
// pageSize+1, at most the matching deliveries of pageSize+1 events: more
// than one batch only when events have several deliveries in the state.
// Its token names a delivery, not an event: it pages this query only.
func (s *Store) listEventsByDeliveryState(ctx context.Context, tenantID string, f hookrun.EventFilter, pageSize int, token string) ([]hookrun.EventSummary, string, error) {
	coll := s.tenantRef(tenantID).Collection("deliveries")
	q := coll.Where("state", "==", string(f.State))
	if f.EventType != "" {
		q = q.Where("event_type", "==", f.EventType)
	}
	q = q.Where("shard", "in", allShards)
	if !f.Since.IsZero() {
		q = q.Where("event_time", ">=", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("event_time", "<", f.Until)
	}
	var (
		ids    []string
		seen   = map[string]bool{}
		cursor = token
	)
	for {
		bq, err := newestFirst(q, coll, "event_time", pageSize, cursor)
		if err != nil {
			return nil, "", err
		}
		n, full := 0, false
		err = eachDoc(ctx, bq.Select("event_id", "event_time"), func(snap *fs.DocumentSnapshot) error {
			n++
			if full {
				return nil
			}
			var d struct {
				EventID   string    `firestore:"event_id"`
				EventTime time.Time `firestore:"event_time"`
			}
			if err := snap.DataTo(&d); err != nil {
				return fmt.Errorf("decode delivery %s: %w", snap.Ref.ID, err)
			}
			if !seen[d.EventID] {
				if len(ids) == pageSize {
					full = true // cursor is the delivery before this one
					return nil
				}
				seen[d.EventID] = true
				ids = append(ids, d.EventID)
			}
			cursor = hookrun.PageToken(d.EventTime, snap.Ref.ID)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
		switch {
		case full:
			out, err := s.eventSummaries(ctx, tenantID, ids)
			return out, cursor, err
		case n <= pageSize: // newestFirst asked for one more: the end
			out, err := s.eventSummaries(ctx, tenantID, ids)
			return out, "", err
		}
	}
}

// eventSummaries reads the events ids name, in that order, projected to
// what the list shows; an event that expired before its deliveries, or is
// still being accepted, is left out.
func (s *Store) eventSummaries(ctx context.Context, tenantID string, ids []string) ([]hookrun.EventSummary, error) {
	coll := s.tenantRef(tenantID).Collection("events")
	byID := map[string]hookrun.EventSummary{}
	for chunk := range slices.Chunk(ids, inLimit) {
		refs := make([]*fs.DocumentRef, len(chunk))
		for i, id := range chunk {
			refs[i] = coll.Doc(id)
		}
		es, err := s.queryEventSummaries(ctx, tenantID, coll.Where(fs.DocumentID, "in", refs).Select(eventListFields...))
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			byID[e.ID] = e
		}
	}
	out := make([]hookrun.EventSummary, 0, len(ids))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// queryEventSummaries runs q, a query of events projected to
// eventListFields, and returns the accepted ones.
func (s *Store) queryEventSummaries(ctx context.Context, tenantID string, q fs.Query) ([]hookrun.EventSummary, error) {
	var out []hookrun.EventSummary
	err := eachDoc(ctx, q, func(snap *fs.DocumentSnapshot) error {
		var d eventDoc
		if err := snap.DataTo(&d); err != nil {
			return fmt.Errorf("decode event %s: %w", snap.Ref.ID, err)
		}
		if d.State != eventAccepted {
			return nil
		}
		out = append(out, hookrun.EventSummary{ID: snap.Ref.ID, TenantID: tenantID, Type: d.Type, Source: d.Source, ReceivedAt: d.ReceiveTime})
		return nil
	})
	return out, err
}

// summarizeDeliveries counts the deliveries of the events es by state,
// reading only their state fields.
func (s *Store) summarizeDeliveries(ctx context.Context, tenantID string, es []hookrun.EventSummary) error {
	index := make(map[string]int, len(es))
	ids := make([]string, len(es))
	for i, e := range es {
		index[e.ID], ids[i] = i, e.ID
	}
	coll := s.tenantRef(tenantID).Collection("deliveries")
	for chunk := range slices.Chunk(ids, inLimit) {
		q := coll.Where("event_id", "in", chunk).Select("event_id", "state", "update_time", "last_status_code")
		err := eachDoc(ctx, q, func(snap *fs.DocumentSnapshot) error {
			var d deliveryDoc
			if err := snap.DataTo(&d); err != nil {
				return fmt.Errorf("decode delivery %s: %w", snap.Ref.ID, err)
			}
			if i, ok := index[d.EventID]; ok {
				es[i].Deliveries.Add(hookrun.Delivery{State: hookrun.DeliveryState(d.State), UpdatedAt: d.UpdateTime, LastStatusCode: d.LastStatusCode})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachDoc runs q and calls fn with each document it returns.
func eachDoc(ctx context.Context, q fs.Query, fn func(*fs.DocumentSnapshot) error) error {
	it := q.Documents(ctx)
	defer it.Stop()
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			return nil
		}
		if err != nil {
			return coded(err, "events")
		}
		if err := fn(snap); err != nil {
			return err
		}
	}
}
