package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Event states: an event is "accepting" while one ingest request holds its
// ID and publishes, "accepted" once Pub/Sub has it.
const (
	eventAccepting = "accepting"
	eventAccepted  = "accepted"
)

type eventDoc struct {
	Type        string    `firestore:"type"`
	Data        string    `firestore:"data"` // the producer's JSON, verbatim
	Source      string    `firestore:"source"`
	ReceiveTime time.Time `firestore:"receive_time"`
	State       string    `firestore:"state"`
	LeaseUntil  time.Time `firestore:"lease_until,omitempty"`
	MessageID   string    `firestore:"message_id,omitempty"`
	ExpireTime  time.Time `firestore:"expire_time"` // TTL policy field
	Shard       int       `firestore:"shard"`       // shardOf(ID)
}

func (s *Store) newEventDoc(e hookrun.Event, state string, leaseUntil time.Time) eventDoc {
	return eventDoc{
		Type:        e.Type,
		Data:        string(e.Data),
		Source:      e.Source,
		ReceiveTime: e.ReceivedAt,
		State:       state,
		LeaseUntil:  leaseUntil,
		ExpireTime:  e.ReceivedAt.Add(s.retention),
		Shard:       shardOf(e.ID),
	}
}

func (d eventDoc) event(tenantID, id string) hookrun.Event {
	return hookrun.Event{ID: id, TenantID: tenantID, Type: d.Type, Data: []byte(d.Data), Source: d.Source, ReceivedAt: d.ReceiveTime}
}

// ClaimEvent implements ingest.Store. The common case, a new ID, costs one
// write; only a duplicate or a retry reads.
func (s *Store) ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	ref := s.eventRef(e.TenantID, e.ID)
	doc := s.newEventDoc(e, eventAccepting, s.now().Add(lease))
	err := s.writes.write(ctx,
		func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) { return bw.Create(ref, doc) },
		func(ctx context.Context) error { _, err := ref.Create(ctx, doc); return err })
	if err == nil {
		return e, hookrun.ClaimedNew, nil
	}
	if status.Code(err) != codes.AlreadyExists {
		return hookrun.Event{}, hookrun.ClaimedNew, coded(err, fmt.Sprintf("event %q", e.ID))
	}

	var (
		stored hookrun.Event
		claim  hookrun.EventClaim
	)
	err = s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		stored, claim = e, hookrun.ClaimedNew
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound { // released meanwhile
			return tx.Create(ref, s.newEventDoc(e, eventAccepting, s.now().Add(lease)))
		}
		if err != nil {
			return err
		}
		var d eventDoc
		if err := snap.DataTo(&d); err != nil {
			return fmt.Errorf("decode event %s: %w", e.ID, err)
		}
		now := s.now()
		switch {
		case d.State == eventAccepted:
			stored, claim = d.event(e.TenantID, e.ID), hookrun.ClaimedDuplicate
			return nil
		case now.Before(d.LeaseUntil):
			return &hookrun.Error{Code: hookrun.CodeAborted, RetryAfter: d.LeaseUntil.Sub(now),
				Message: fmt.Sprintf("an earlier request with event id %q is still being accepted; retry after the seconds in Retry-After", e.ID)}
		default: // the earlier request died holding the claim, or released it: take it over
			claim = hookrun.ClaimedTakenOver
			return tx.Set(ref, s.newEventDoc(e, eventAccepting, now.Add(lease)))
		}
	})
	if hookrun.ErrorCode(err) == hookrun.CodeAborted {
		return hookrun.Event{}, hookrun.ClaimedNew, err
	}
	if err != nil {
		return hookrun.Event{}, hookrun.ClaimedNew, coded(err, fmt.Sprintf("event %q", e.ID))
	}
	return stored, claim, nil
}

// RecordEvents implements ingest.Store: a claimed event's claim is marked
// accepted (or, if the claim is gone, the event recorded as SaveEvent
// records one); an unclaimed one is created, keeping a record the
// dispatcher made first (SaveEvent). All go in as few commits as they fit
// (commitAll); the events of a commit that failed, for one of them, then
// go through one BulkWriter, each with its own outcome.
func (s *Store) RecordEvents(ctx context.Context, evs []hookrun.AcceptedEvent) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(evs))
		}
		errs[i] = coded(err, fmt.Sprintf("event %q", evs[i].Event.ID))
	}
	again := s.commitAll(ctx, len(evs),
		func(i int) int { return len(evs[i].Event.Data) + 1024 },
		func(tx *fs.Transaction, i int) error {
			ae := evs[i]
			ref := s.eventRef(ae.Event.TenantID, ae.Event.ID)
			if ae.Claimed {
				return tx.Update(ref, acceptedUpdates(ae.MessageID))
			}
			return tx.Create(ref, s.acceptedDoc(ae.Event, ae.MessageID))
		})
	if len(again) == 0 {
		return nil
	}
	bw := s.c.BulkWriter(ctx)
	jobs := make([]*fs.BulkWriterJob, len(evs))
	for _, i := range again {
		e := evs[i].Event
		ref := s.eventRef(e.TenantID, e.ID)
		var err error
		if evs[i].Claimed {
			jobs[i], err = bw.Update(ref, acceptedUpdates(evs[i].MessageID))
		} else {
			jobs[i], err = bw.Create(ref, s.acceptedDoc(e, evs[i].MessageID))
		}
		if err != nil {
			fail(i, err)
		}
	}
	bw.End()
	for i, job := range jobs {
		if job == nil {
			continue
		}
		_, err := job.Results()
		switch code := status.Code(err); {
		case err == nil, code == codes.AlreadyExists:
		case code == codes.NotFound: // a claim gone (past retention): record it anew
			if err := s.SaveEvent(ctx, evs[i].Event, evs[i].MessageID); err != nil {
				fail(i, err)
			}
		default:
			fail(i, err)
		}
	}
	return errs
}

// acceptedUpdates mark a claimed event's record accepted, as message
// messageID.
func acceptedUpdates(messageID string) []fs.Update {
	return []fs.Update{
		{Path: "state", Value: eventAccepted},
		{Path: "message_id", Value: messageID},
		{Path: "lease_until", Value: fs.Delete},
	}
}

// acceptedDoc is the record of event e, accepted as message messageID.
func (s *Store) acceptedDoc(e hookrun.Event, messageID string) eventDoc {
	d := s.newEventDoc(e, eventAccepted, time.Time{})
	d.MessageID = messageID
	return d
}

// ReleaseEvent implements ingest.Store: it ends the claim's lease only
// while it is still a claim, never an accepted event. The claim stays, so
// that the request that takes it over knows an earlier publish may have
// gone through (hookrun.ClaimedTakenOver); the event's TTL removes one
// nobody takes over.
func (s *Store) ReleaseEvent(ctx context.Context, tenantID, eventID string) error {
	ref := s.eventRef(tenantID, eventID)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if st, _ := snap.DataAt("state"); st != eventAccepting {
			return nil
		}
		return tx.Update(ref, []fs.Update{{Path: "lease_until", Value: time.Time{}}})
	})
	return coded(err, fmt.Sprintf("event %q", eventID))
}

// SaveEvent records an event that arrived straight on the topic (not through
// ingest) as accepted, so it can be replayed; an existing record is kept.
func (s *Store) SaveEvent(ctx context.Context, e hookrun.Event, messageID string) error {
	_, err := s.eventRef(e.TenantID, e.ID).Create(ctx, s.acceptedDoc(e, messageID))
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	return coded(err, fmt.Sprintf("event %q", e.ID))
}

// GetEvent returns a stored event.
func (s *Store) GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	snap, err := s.eventRef(tenantID, eventID).Get(ctx)
	if err != nil {
		return hookrun.Event{}, coded(err, fmt.Sprintf("event %q", eventID))
	}
	var d eventDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Event{}, fmt.Errorf("decode event %s: %w", eventID, err)
	}
	return d.event(tenantID, eventID), nil
}
