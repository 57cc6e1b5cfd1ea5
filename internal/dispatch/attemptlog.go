package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The attempt log writes the records of successful first attempts after
// their push is acknowledged, batched: a record waits at most
// Config.AttemptFlushInterval, and those of one interval go to the store
// together (Store.RecordAttempts). A record only waits when its attempt
// needs nothing durable first: a failed attempt's retry, or any attempt
// whose message may not be its event's first, is recorded before the
// push is acknowledged, as before.
const (
	// attemptBatch is how many records start a flush without waiting
	// for the interval: enough for one store call to carry them well.
	attemptBatch = 500
	// maxQueuedAttempts bounds the records an instance holds unwritten
	// (a few hundred bytes each). When it is reached, an attempt is
	// recorded before its push is acknowledged, as when the log is off:
	// backpressure, never a dropped record.
	maxQueuedAttempts = 5000
)

// attemptLog queues attempt records and writes them in batches. Its
// flushes run on timers, not on a goroutine of its own, so an idle
// instance spends nothing on it.
type attemptLog struct {
	store Store
	every time.Duration
	max   int // maxQueuedAttempts

	mu     sync.Mutex
	queued []hookrun.AttemptRecord
	// scheduled is whether a flush of queued is due (a timer runs).
	scheduled bool
	// unwritten holds the delivery of every record queued or being
	// written, by deliveryKey, so that a message of the same event that
	// this instance handles meanwhile finds it (fanOut).
	unwritten map[string]hookrun.Delivery
	// writing holds a channel per write in flight, closed when it ends,
	// for Flush to wait on.
	writing map[chan struct{}]struct{}
}

func newAttemptLog(store Store, every time.Duration) *attemptLog {
	return &attemptLog{store: store, every: every, max: maxQueuedAttempts, unwritten: map[string]hookrun.Delivery{}, writing: map[chan struct{}]struct{}{}}
}

func deliveryKey(tenantID, eventID, endpointID string) string {
	return tenantID + "\x00" + eventID + "\x00" + endpointID
}

// add queues r and reports true, or reports false, queueing nothing, when
// the queue is full: the caller then writes r itself.
func (l *attemptLog) add(r hookrun.AttemptRecord) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queued) >= l.max {
		return false
	}
	d := r.Delivery
	l.queued = append(l.queued, r)
	l.unwritten[deliveryKey(d.TenantID, d.EventID, d.EndpointID)] = d
	switch {
	case len(l.queued) >= attemptBatch:
		l.startFlushLocked()
	case !l.scheduled:
		l.scheduled = true
		time.AfterFunc(l.every, l.flush)
	}
	return true
}

// flush writes what is queued, on a timer's goroutine.
func (l *attemptLog) flush() {
	l.mu.Lock()
	recs, done := l.takeLocked()
	l.mu.Unlock()
	if recs != nil {
		l.write(recs, done)
	}
}

// startFlushLocked writes what is queued on a goroutine of its own: the
// caller holds l.mu and is on a request's path.
func (l *attemptLog) startFlushLocked() {
	if recs, done := l.takeLocked(); recs != nil {
		go l.write(recs, done)
	}
}

// takeLocked takes the queued records, counting their write as in flight
// until done is closed; the caller holds l.mu and must write them.
func (l *attemptLog) takeLocked() (recs []hookrun.AttemptRecord, done chan struct{}) {
	recs = l.queued
	l.queued, l.scheduled = nil, false
	if len(recs) == 0 {
		return nil, nil
	}
	done = make(chan struct{})
	l.writing[done] = struct{}{}
	return recs, done
}

// write stores recs; one the batch could not store is tried once more on
// its own, then logged as lost: its attempt was made and acknowledged, so
// only its record is missing.
func (l *attemptLog) write(recs []hookrun.AttemptRecord, done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), RecordTimeout)
	defer cancel()
	errs := l.store.RecordAttempts(ctx, recs)
	for i, err := range errs {
		if err == nil {
			continue
		}
		r := recs[i]
		if err = l.store.RecordAttempt(ctx, r.Delivery, r.Attempt); err != nil {
			d := r.Delivery
			slog.ErrorContext(ctx, "attempt record lost: the attempt succeeded, its record could not be written",
				"tenant_id", d.TenantID, "event_id", d.EventID, "endpoint_id", d.EndpointID, "attempt", r.Attempt.Number, "error", err.Error())
		}
	}
	l.mu.Lock()
	for _, r := range recs {
		d := r.Delivery
		delete(l.unwritten, deliveryKey(d.TenantID, d.EventID, d.EndpointID))
	}
	delete(l.writing, done)
	l.mu.Unlock()
	close(done)
}

// addUnwritten adds to prev the deliveries of event eventID to the
// endpoints ids whose records are queued or being written.
func (l *attemptLog) addUnwritten(prev map[string]hookrun.Delivery, tenantID, eventID string, ids []string) map[string]hookrun.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.unwritten) == 0 {
		return prev
	}
	for _, id := range ids {
		d, ok := l.unwritten[deliveryKey(tenantID, eventID, id)]
		if !ok {
			continue
		}
		if _, stored := prev[id]; stored {
			continue
		}
		if prev == nil {
			prev = map[string]hookrun.Delivery{}
		}
		prev[id] = d
	}
	return prev
}

// Flush writes the attempt records still queued and waits until every
// record queued before it is written, or ctx ends. run/dispatcher calls it
// on shutdown, once the server has stopped taking requests; without the
// attempt log (Config.AttemptFlushInterval 0) it has nothing to do.
func (s *Service) Flush(ctx context.Context) error {
	if s.attempts == nil {
		return nil
	}
	l := s.attempts
	for {
		l.flush()
		l.mu.Lock()
		var writing []chan struct{}
		for done := range l.writing {
			writing = append(writing, done)
		}
		l.mu.Unlock()
		if len(writing) == 0 {
			return nil
		}
		for _, done := range writing {
			select {
			case <-done:
			case <-ctx.Done():
				return fmt.Errorf("flush attempt records: %w", ctx.Err())
			}
		}
	}
}
