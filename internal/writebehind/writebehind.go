// Package writebehind queues records that a request made, to be written
// after the request was answered, in batches: a record waits at most one
// interval, and the records of one interval go to the store together.
// ingest records accepted events this way, the dispatcher the attempts of
// successful first deliveries.
//
// The queue is bounded: when it is full, Add waits for a write to make
// room, or, once it has waited long enough, refuses the record, and its
// caller writes it before answering (backpressure, never a dropped
// record). A record is lost only if its instance dies before the flush
// (Flush on SIGTERM, which Cloud Run sends, writes what is queued) or if
// the write fails even when tried again (the write function's own
// business, which logs it).
package writebehind

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ShutdownTimeout bounds a service's last Flush at shutdown, after the
// server's httpapi.ShutdownBudget: the two stay within the 10 s Cloud Run
// leaves between SIGTERM and SIGKILL. A Log keeps writing every interval
// while the server shuts down, so little is left for it.
const ShutdownTimeout = time.Second

// Options configure a Log.
type Options[K comparable, R any] struct {
	// Every is how long a record may wait for its batch's write.
	Every time.Duration
	// Batch is how many queued records start a write without waiting
	// for the interval: about what one store call carries well.
	Batch int
	// Max bounds the records queued and unwritten; Add refuses more.
	Max int
	// Size, when set, is a record's weight in bytes (what it holds in
	// memory): then MaxBytes bounds the bytes unwritten as Max bounds the
	// records (Add refuses a record past it, unless none is unwritten),
	// and BatchBytes queued start a write as Batch records do.
	Size                 func(R) int
	MaxBytes, BatchBytes int
	// Key names a record, for Unwritten: records of one key are expected
	// to be about one thing (an event, a delivery), the last one wins.
	Key func(R) K
	// Write stores recs, in as few calls as the store can, and returns
	// nil when all were stored, else one error per record (nil for those
	// stored).
	Write func(ctx context.Context, recs []R) []error
	// WriteOne tries once more, on its own, a record Write could not
	// store; Lost is told of one WriteOne could not store either.
	WriteOne func(ctx context.Context, r R) error
	Lost     func(ctx context.Context, r R, err error)
	// Timeout bounds one write: the batch and its records' retries.
	Timeout time.Duration
	// Wait is how long Add waits for room in a full log before it
	// refuses a record; 0 means DefaultWait, and a negative Wait refuses
	// at once. Waiting paces the requests to the store while their
	// records still go in batches; a caller that writes its record alone
	// costs the store a call per record, when it is already behind.
	Wait time.Duration
	// Writes bounds the writes in flight at once; 0 means DefaultWrites.
	// Records queued meanwhile wait, and go together in the write that
	// follows the first to end.
	Writes int
}

// DefaultWrites is how many writes a Log runs at once unless told
// otherwise. A store slower than the requests that fill the log would
// otherwise get a new write for every Batch records, each holding its
// records encoded for the store while it waits (ingest's batch scenario
// had ten in flight, most of its memory); with two, one is sent while
// the next fills, and the queue holds the rest as plain records, within
// Max and MaxBytes, until the store catches up.
const DefaultWrites = 2

// DefaultWait is how long Add waits for room in a full log unless told
// otherwise: a write ends well within it unless the store is failing,
// and then the caller's own write, with its own deadline, says so.
const DefaultWait = time.Second

// Log is a queue of records written behind the requests that made them.
// Its writes run on timers, not on a goroutine of its own, so an idle
// instance spends nothing on it. A nil Log is off: it takes no record
// (its callers write each before answering) and has none to flush.
type Log[K comparable, R any] struct {
	o Options[K, R]

	mu     sync.Mutex
	queued []R
	// scheduled is whether a write of queued is due (a timer runs).
	scheduled bool
	// unwritten holds the last record of each key queued or being
	// written, with how many of that key are.
	unwritten map[K]unwritten[R]
	// pending counts the records queued or being written, pendingBytes
	// their Size; queuedBytes is the Size of those queued.
	pending, pendingBytes, queuedBytes int
	// writing holds a channel per write in flight, closed when it ends,
	// for Flush to wait on.
	writing map[chan struct{}]struct{}
	// due is whether queued records are owed a write that was held back
	// because Writes were in flight: the one that ends first takes them.
	due bool
	// room, when not nil, is closed when a write ends, for the Adds
	// waiting for room (Options.Wait).
	room chan struct{}
}

type unwritten[R any] struct {
	r R
	n int
}

// New returns an empty Log.
func New[K comparable, R any](o Options[K, R]) *Log[K, R] {
	if o.Writes == 0 {
		o.Writes = DefaultWrites
	}
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	return &Log[K, R]{o: o, unwritten: map[K]unwritten[R]{}, writing: map[chan struct{}]struct{}{}}
}

// Add queues r and reports true, or reports false, queueing nothing, when
// the queue is full and stays full for Options.Wait: the caller then
// writes r itself.
func (l *Log[K, R]) Add(r R) bool {
	if l == nil {
		return false
	}
	size := l.size(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fitsLocked(size) && !l.waitLocked(size) {
		return false
	}
	l.pending++
	l.pendingBytes += size
	l.queuedBytes += size
	l.queued = append(l.queued, r)
	k := l.o.Key(r)
	l.unwritten[k] = unwritten[R]{r: r, n: l.unwritten[k].n + 1}
	switch {
	case len(l.queued) >= l.o.Batch || l.o.Size != nil && l.queuedBytes >= l.o.BatchBytes:
		if recs, done := l.takeLocked(); recs != nil {
			go l.write(recs, done) // the caller is on a request's path
		}
	case l.due: // a write in flight takes it when it ends
	case !l.scheduled:
		l.scheduled = true
		time.AfterFunc(l.o.Every, l.flush)
	}
	return true
}

// fitsLocked is whether a record of size fits within Max and MaxBytes.
func (l *Log[K, R]) fitsLocked(size int) bool {
	return l.pending < l.o.Max && (l.pending == 0 || l.o.Size == nil || l.pendingBytes+size <= l.o.MaxBytes)
}

// waitLocked waits, for at most Options.Wait, until a record of size fits,
// and reports whether it does. It lets go of l.mu while it waits: a full
// log always has a write in flight, whose end makes room.
func (l *Log[K, R]) waitLocked(size int) bool {
	if l.o.Wait <= 0 {
		return false
	}
	timer := time.NewTimer(l.o.Wait)
	defer timer.Stop()
	for !l.fitsLocked(size) {
		if l.room == nil {
			l.room = make(chan struct{})
		}
		room := l.room
		l.mu.Unlock()
		select {
		case <-room:
		case <-timer.C:
			l.mu.Lock()
			return l.fitsLocked(size)
		}
		l.mu.Lock()
	}
	return true
}

func (l *Log[K, R]) size(r R) int {
	if l.o.Size == nil {
		return 0
	}
	return l.o.Size(r)
}

// Unwritten returns the record of key k that is queued or being written,
// if any.
func (l *Log[K, R]) Unwritten(k K) (R, bool) {
	if l == nil {
		var none R
		return none, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.unwritten[k]
	return u.r, ok
}

// flush writes what is queued, on a timer's goroutine (or Flush's).
func (l *Log[K, R]) flush() {
	l.mu.Lock()
	recs, done := l.takeLocked()
	l.mu.Unlock()
	if recs != nil {
		l.write(recs, done)
	}
}

// takeLocked takes the queued records, counting their write as in flight
// until done is closed; the caller holds l.mu and must write them. With
// Writes already in flight it takes none and marks them due, for the
// first of those to take when it ends.
func (l *Log[K, R]) takeLocked() (recs []R, done chan struct{}) {
	if len(l.queued) == 0 {
		return nil, nil
	}
	if len(l.writing) >= l.o.Writes {
		l.due = true
		return nil, nil
	}
	recs = l.queued
	// The next batch starts at this one's size (at most Batch) rather
	// than grow (and be copied) from nothing again: records are large (a
	// delivery and its attempt), and under steady load batches are alike.
	l.queued = make([]R, 0, min(len(recs), max(l.o.Batch, 1)))
	l.scheduled, l.queuedBytes, l.due = false, 0, false
	done = make(chan struct{})
	l.writing[done] = struct{}{}
	return recs, done
}

// write writes recs, then the records due meanwhile, if any.
func (l *Log[K, R]) write(recs []R, done chan struct{}) {
	for recs != nil {
		recs, done = l.writeOnce(recs, done)
	}
}

// writeOnce writes recs and returns the records that became due while
// Writes were in flight, taken for the caller to write next.
func (l *Log[K, R]) writeOnce(recs []R, done chan struct{}) (next []R, nextDone chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	defer cancel()
	for i, err := range l.o.Write(ctx, recs) {
		if err == nil {
			continue
		}
		if err = l.o.WriteOne(ctx, recs[i]); err != nil {
			l.o.Lost(ctx, recs[i], err)
		}
	}
	cancel()
	l.mu.Lock()
	l.pending -= len(recs)
	for _, r := range recs {
		l.pendingBytes -= l.size(r)
		k := l.o.Key(r)
		if u := l.unwritten[k]; u.n > 1 {
			u.n--
			l.unwritten[k] = u
		} else {
			delete(l.unwritten, k)
		}
	}
	delete(l.writing, done)
	if l.room != nil {
		close(l.room)
		l.room = nil
	}
	if l.due {
		next, nextDone = l.takeLocked()
	}
	l.mu.Unlock()
	close(done)
	return next, nextDone
}

// Flush writes the records still queued and waits until every record
// queued before it is written, or ctx ends. A service calls it on
// shutdown, once its server has stopped taking requests.
func (l *Log[K, R]) Flush(ctx context.Context) error {
	if l == nil {
		return nil
	}
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
				return fmt.Errorf("flush records written behind: %w", ctx.Err())
			}
		}
	}
}
