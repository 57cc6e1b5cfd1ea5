package firestore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	fs "cloud.google.com/go/firestore"
)

// DefaultBatchWindow is how long a hot-path write or read waits for others
// to share its RPC with.
const DefaultBatchWindow = time.Millisecond

// On the hot paths (ingest's claim and accepted mark; the dispatcher's read
// of earlier deliveries and its attempt record) an RPC costs far more CPU
// than the document it carries (BenchmarkRecordAttempt), so the calls of
// concurrent requests share one: writes one BatchWrite, reads one
// BatchGetDocuments, per short window. Each keeps its own outcome (a
// write its preconditions), as when sent alone.
//
// A call waits for company only while another is in flight: alone, it goes
// at once, so a quiet instance pays neither the window's latency nor the
// batching's bookkeeping.

// windows hands out the open window of a batcher (a *W collecting calls),
// opening one and scheduling its close when there is none, and tells
// whether a call has company at all.
type windows[W any] struct {
	every time.Duration // 0 or less: every call goes alone
	open  func() *W
	// send runs when the window closed and nothing is being added to it.
	send func(*W)

	inFlight atomic.Int64 // calls between enter and their leave

	mu  sync.Mutex
	cur *window[W]
}

// window is one open window and the calls still adding to it.
type window[W any] struct {
	batch  *W
	adding sync.WaitGroup
}

// enter counts a call in flight and reports whether it should join a
// window (another call is in flight) rather than go alone. leave must
// follow.
func (ws *windows[W]) enter() (batch bool) {
	n := ws.inFlight.Add(1)
	return ws.every > 0 && n > 1
}

func (ws *windows[W]) leave() { ws.inFlight.Add(-1) }

// join returns the open window, counting the caller as adding to it until
// it calls adding.Done.
func (ws *windows[W]) join() *window[W] {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.cur
	if w == nil {
		w = &window[W]{batch: ws.open()}
		ws.cur = w
		time.AfterFunc(ws.every, func() { ws.close(w) })
	}
	w.adding.Add(1)
	return w
}

// close closes w to new calls, waits for those being added, and sends it.
func (ws *windows[W]) close(w *window[W]) {
	ws.mu.Lock()
	if ws.cur != w {
		ws.mu.Unlock()
		return // already closed (flush)
	}
	ws.cur = nil
	ws.mu.Unlock()
	w.adding.Wait()
	ws.send(w.batch)
}

// flush sends the open window now (before the client closes).
func (ws *windows[W]) flush() {
	ws.mu.Lock()
	w := ws.cur
	ws.mu.Unlock()
	if w != nil {
		ws.close(w)
	}
}

// writeBatcher batches single-document writes through the client's own
// BulkWriter, one per window, ended when the window closes: a BulkWriter
// holds writes for up to a second unless flushed, and refuses a second
// write to a document for as long as it lives.
type writeBatcher struct{ windows[fs.BulkWriter] }

func newWriteBatcher(c *fs.Client, every time.Duration) *writeBatcher {
	return &writeBatcher{windows[fs.BulkWriter]{
		every: every,
		// Not a caller's ctx: a window's writes belong to several
		// requests, and each waits for its own outcome with its own ctx.
		open: func() *fs.BulkWriter { return c.BulkWriter(context.Background()) },
		send: (*fs.BulkWriter).End,
	}}
}

// write sends a write that add puts on a BulkWriter, with the window's
// other writes, and waits for its outcome or ctx. When no other write is
// in flight, batching is off, or the BulkWriter refuses the write (a
// second write to one document in one window), alone sends it by itself.
func (b *writeBatcher) write(ctx context.Context, add func(*fs.BulkWriter) (*fs.BulkWriterJob, error), alone func(context.Context) error) error {
	defer b.leave()
	if !b.enter() {
		return alone(ctx)
	}
	w := b.join()
	job, err := add(w.batch)
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

// readTimeout bounds a window's BatchGetDocuments, which no single
// caller's ctx may cancel.
const readTimeout = 30 * time.Second

// readBatcher batches document reads into one GetAll per window.
type readBatcher struct {
	windows[readBatch]
	c *fs.Client
}

// readBatch is the documents a window's calls asked for, and, once done is
// closed, what came back.
type readBatch struct {
	mu    sync.Mutex
	refs  []*fs.DocumentRef
	done  chan struct{}
	snaps []*fs.DocumentSnapshot
	err   error
}

func newReadBatcher(c *fs.Client, every time.Duration) *readBatcher {
	return &readBatcher{c: c, windows: windows[readBatch]{
		every: every,
		open:  func() *readBatch { return &readBatch{done: make(chan struct{})} },
		send: func(r *readBatch) {
			ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
			defer cancel()
			r.snaps, r.err = c.GetAll(ctx, r.refs)
			close(r.done)
		},
	}}
}

// getAll reads refs, with the window's other reads when another is in
// flight, as the client's GetAll would: a snapshot per ref, in order.
func (b *readBatcher) getAll(ctx context.Context, refs []*fs.DocumentRef) ([]*fs.DocumentSnapshot, error) {
	defer b.leave()
	if !b.enter() {
		return b.c.GetAll(ctx, refs)
	}
	w := b.join()
	r := w.batch
	r.mu.Lock()
	first := len(r.refs)
	r.refs = append(r.refs, refs...)
	r.mu.Unlock()
	w.adding.Done()
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.snaps[first : first+len(refs)], nil
}

// Limits of one commit. Firestore takes at most 500 writes and 10 MiB per
// commit; the emulator refuses a request over 4 MiB (gRPC's default
// limit), and a commit it refuses is retried until the call's deadline. A
// commit of about 3 MiB holds 500 ordinary events all the same.
const (
	commitWrites = 500
	commitBytes  = 3 << 20
)

// commitAll writes n documents in as few commits as the limits allow,
// each one transaction that only writes: write(tx, i) adds the i-th, size(i)
// estimates its bytes. It returns the indices whose commit failed, for
// the caller to write one by one, each with its own outcome (a create of
// a document that exists fails its whole commit).
//
// The write-behind logs (RecordEvents, RecordAttempts) write this way
// rather than through a BulkWriter: one commit of n new documents costs
// the Firestore emulator about a third less CPU than a BulkWriter's n
// independent writes, in batches of 20, and ingest's client fewer RPCs
// (`scripts/bench -scenarios ingest`, paired runs). What each costs in
// production is the same: one write per document.
func (s *Store) commitAll(ctx context.Context, n int, size func(i int) int, write func(tx *fs.Transaction, i int) error) (failed []int) {
	start := 0
	for _, end := range commitEnds(n, size) {
		err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
			for i := start; i < end; i++ {
				if err := write(tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for i := start; i < end; i++ {
				failed = append(failed, i)
			}
		}
		start = end
	}
	return failed
}

// commitEnds splits n documents, in order, into commits within the limits:
// the end (exclusive) of each. A document over commitBytes goes alone, for
// Firestore to refuse it alone.
func commitEnds(n int, size func(i int) int) []int {
	var ends []int
	for start := 0; start < n; {
		end, bytes := start, 0
		for end < n && end-start < commitWrites && (end == start || bytes+size(end) <= commitBytes) {
			bytes += size(end)
			end++
		}
		ends = append(ends, end)
		start = end
	}
	return ends
}
