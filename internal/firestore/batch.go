package firestore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	fs "cloud.google.com/go/firestore"
)

// DefaultBatchWindow is how long a hot-path write waits for others to share
// its RPC with.
const DefaultBatchWindow = time.Millisecond

// writeBatcher sends the single-document writes of concurrent requests
// together, one BatchWrite RPC per short window, through the client's own
// BulkWriter. On the hot paths (ingest's claim and accepted mark, the
// dispatcher's attempt record) an RPC costs far more CPU than the write it
// carries (BenchmarkRecordAttempt), so sharing one among the writes of a
// window is most of what a write costs. The writes stay independent: each
// has its own preconditions and its own outcome, as when sent alone.
//
// A write waits for company only while another is in flight: alone, it
// goes at once, so a quiet instance pays neither the window's latency nor
// a BulkWriter for one write.
//
// Each window gets a BulkWriter of its own, ended when the window closes:
// a BulkWriter holds writes for up to a second unless flushed, and refuses
// a second write to a document for as long as it lives.
type writeBatcher struct {
	c      *fs.Client
	window time.Duration // 0 or less: every write goes alone

	inFlight atomic.Int64 // writes between the start and the end of write

	mu  sync.Mutex
	cur *batchWindow
}

// batchWindow is the BulkWriter of one window and the writes still being
// added to it.
type batchWindow struct {
	bw     *fs.BulkWriter
	adding sync.WaitGroup
}

// write sends a write that add puts on a BulkWriter, with the window's
// other writes, and waits for its outcome or ctx. When batching is off, no
// other write is in flight, or the BulkWriter refuses the write (a second
// write to one document in one window), alone sends it by itself instead.
func (b *writeBatcher) write(ctx context.Context, add func(*fs.BulkWriter) (*fs.BulkWriterJob, error), alone func(context.Context) error) error {
	defer b.inFlight.Add(-1)
	if n := b.inFlight.Add(1); b.window <= 0 || n == 1 {
		return alone(ctx)
	}
	w := b.join()
	job, err := add(w.bw)
	w.adding.Done()
	if err != nil {
		return alone(ctx)
	}
	// Results has no context; the BulkWriter's RPC is bounded by the
	// client's own timeout, so the goroutine ends.
	done := make(chan error, 1)
	go func() {
		_, err := job.Results()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join returns the open window, opening one (and scheduling its end) if
// there is none, and counts the caller as adding to it.
func (b *writeBatcher) join() *batchWindow {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.cur
	if w == nil {
		// Not the caller's ctx: the window's writes belong to several
		// requests, and each waits for its own outcome with its own ctx.
		w = &batchWindow{bw: b.c.BulkWriter(context.Background())}
		b.cur = w
		time.AfterFunc(b.window, func() { b.end(w) })
	}
	w.adding.Add(1)
	return w
}

// end closes w to new writes, waits for those being added, and sends them.
func (b *writeBatcher) end(w *batchWindow) {
	b.mu.Lock()
	if b.cur == w {
		b.cur = nil
	}
	b.mu.Unlock()
	w.adding.Wait()
	w.bw.End()
}

// flush sends the open window's writes now (before the client closes).
func (b *writeBatcher) flush() {
	b.mu.Lock()
	w := b.cur
	b.mu.Unlock()
	if w != nil {
		b.end(w)
	}
}
