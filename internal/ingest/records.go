package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/writebehind"
)

// Accepted events are recorded after their 202, in batches (the event
// log, a writebehind.Log): the 202 waits for Pub/Sub alone. An ID ingest
// made (hookrun.NewEventID) needs nothing before it; a producer's ID is
// claimed first (claim), and its record completes the claim.
const (
	// eventBatch is how many records start a write without waiting for
	// the interval.
	eventBatch = 500
	// maxQueuedEvents bounds the records an instance holds unwritten;
	// when it is reached, or maxQueuedEventBytes, an event's 202 waits
	// for room (writebehind.DefaultWait), then for its record
	// (backpressure, never a dropped record). Four batches: the two
	// writes in flight
	// (writebehind.DefaultWrites) and as many filling behind them. More
	// only holds more memory while the store is behind (5,000 held
	// 78 MiB at the peak of `scripts/bench -scenarios batch`, 2,000
	// 67 MiB, at the same rate).
	maxQueuedEvents = 2000
	// maxQueuedEventBytes bounds the events' data an instance holds
	// unwritten (HOOKRUN_MAX_BODY_BYTES each at most), well within the
	// service's memory (infra: 512 MiB); eventBatchBytes queued start a
	// write at once.
	maxQueuedEventBytes = 16 << 20
	eventBatchBytes     = 4 << 20
	// eventRecordTimeout bounds one write of records, and the retry of
	// each one that failed in it.
	eventRecordTimeout = 10 * time.Second
	// madeIDWindow is how long after it made an ID an instance may still
	// be writing its record: the wait for room in a full log, the
	// interval, a write in flight that its own waits for
	// (writebehind.DefaultWrites), then its own write (its retry
	// included), each write within eventRecordTimeout, with one more to
	// spare. Within it, a producer that sends that ID back as its own is
	// told to wait (claim), so that no other instance claims and
	// publishes an ID whose first publish is not yet recorded.
	madeIDWindow = writebehind.DefaultWait + maxEventFlushInterval + 3*eventRecordTimeout
)

type eventLog = writebehind.Log[string, hookrun.AcceptedEvent]

func newEventLog(store Store, every time.Duration) *eventLog {
	return writebehind.New(writebehind.Options[string, hookrun.AcceptedEvent]{
		Every: every, Batch: eventBatch, Max: maxQueuedEvents, Timeout: eventRecordTimeout,
		Size:     func(ae hookrun.AcceptedEvent) int { return len(ae.Event.Data) },
		MaxBytes: maxQueuedEventBytes, BatchBytes: eventBatchBytes,
		Key:   func(ae hookrun.AcceptedEvent) string { return eventKey(ae.Event.TenantID, ae.Event.ID) },
		Write: store.RecordEvents,
		WriteOne: func(ctx context.Context, ae hookrun.AcceptedEvent) error {
			return errors.Join(store.RecordEvents(ctx, []hookrun.AcceptedEvent{ae})...)
		},
		Lost: eventLost,
	})
}

func eventKey(tenantID, eventID string) string { return tenantID + "\x00" + eventID }

// eventLost logs the record of ae as lost. Pub/Sub has the event, which
// is delivered all the same, but the API does not show it, and a
// producer's retry with its ID after the claim's lease publishes it again
// (the dispatcher then skips endpoints that already have it).
func eventLost(ctx context.Context, ae hookrun.AcceptedEvent, err error) {
	e := ae.Event
	slog.ErrorContext(ctx, "event record lost: Pub/Sub has the event, its record could not be written",
		"tenant_id", e.TenantID, "event_id", e.ID, "error", err.Error())
}

// recordEvent stores ae before its answer, with a deadline of its own,
// logging a failure (eventLost).
func recordEvent(store Store, ae hookrun.AcceptedEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), eventRecordTimeout)
	defer cancel()
	if errs := store.RecordEvents(ctx, []hookrun.AcceptedEvent{ae}); errs != nil {
		eventLost(ctx, ae, errors.Join(errs...))
	}
}

// record records ae, an event Pub/Sub has: in the event log, or at once
// when there is none (Config.EventFlushInterval 0) or it is full.
func (s *Service) record(ae hookrun.AcceptedEvent) {
	if s.events.Add(ae) {
		return
	}
	recordEvent(s.store, ae)
}

// unrecorded returns the event with this ID that this instance accepted
// and has not yet recorded, if any.
func (s *Service) unrecorded(tenantID, eventID string) (hookrun.Event, bool) {
	ae, ok := s.events.Unwritten(eventKey(tenantID, eventID))
	return ae.Event, ok
}

// event returns a tenant's event: stored, or accepted by this instance
// and not yet recorded, so that a read just after the 202 on the instance
// that answered it finds it.
func (s *Service) event(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	e, err := s.store.GetEvent(ctx, tenantID, eventID)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		if u, ok := s.unrecorded(tenantID, eventID); ok {
			return u, nil
		}
	}
	return e, err
}

// Flush writes the event records still queued and waits until every
// record queued before it is written, or ctx ends. run/ingest calls it on
// shutdown, once the server has stopped taking requests; without the
// event log (Config.EventFlushInterval 0) it has nothing to do.
func (s *Service) Flush(ctx context.Context) error { return s.events.Flush(ctx) }
