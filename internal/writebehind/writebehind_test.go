package writebehind_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/writebehind"
)

type rec struct{ key, val string }

// store records the batches a Log writes; block, when set, holds each
// write until it is closed. Records whose val is "fail" fail in a batch,
// "lost" fail on their own too.
type store struct {
	mu sync.Mutex
	// started counts the writes begun, held or not.
	started int
	batches [][]rec
	alone   []rec // written by writeOne
	lost    []rec
	block   chan struct{}
}

func (s *store) write(_ context.Context, recs []rec) []error {
	s.mu.Lock()
	s.started++
	s.mu.Unlock()
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	var stored []rec
	for i, r := range recs {
		if r.val == "fail" || r.val == "lost" {
			if errs == nil {
				errs = make([]error, len(recs))
			}
			errs[i] = errors.New("refused")
			continue
		}
		stored = append(stored, r)
	}
	s.batches = append(s.batches, stored)
	return errs
}

func (s *store) writeOne(_ context.Context, r rec) error {
	if r.val == "lost" {
		return errors.New("refused again")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alone = append(s.alone, r)
	return nil
}

func (s *store) lose(_ context.Context, r rec, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = append(s.lost, r)
}

func (s *store) written() []rec {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []rec
	for _, b := range s.batches {
		all = append(all, b...)
	}
	return all
}

func newLog(s *store, every time.Duration, batch, max int) *writebehind.Log[string, rec] {
	return writebehind.New(writebehind.Options[string, rec]{
		Every: every, Batch: batch, Max: max, Wait: -1,
		Key:   func(r rec) string { return r.key },
		Write: s.write, WriteOne: s.writeOne, Lost: s.lose, Timeout: time.Minute,
	})
}

// A full log takes no more: the caller writes the record itself before
// answering (backpressure), and nothing is dropped. Records being
// written count until their write ends.
func TestFullLogRefusesRecords(t *testing.T) {
	s := &store{block: make(chan struct{})}
	l := newLog(s, time.Hour, 100, 2)
	for i, want := range []bool{true, true, false} {
		if got := l.Add(rec{key: string(rune('a' + i))}); got != want {
			t.Errorf("Add %d = %v, want %v", i+1, got, want)
		}
	}
	flushed := make(chan error)
	go func() { flushed <- l.Flush(context.Background()) }()
	if l.Add(rec{key: "d"}) {
		t.Error("Add while the full log's records are being written = true, want false")
	}
	close(s.block)
	if err := <-flushed; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if !l.Add(rec{key: "d"}) {
		t.Error("Add after the write = false, want true")
	}
}

// A record can be found by its key until its write has ended, and a
// later record of the same key is found until it too is written.
func TestUnwrittenUntilWritten(t *testing.T) {
	s := &store{block: make(chan struct{})}
	l := newLog(s, time.Hour, 100, 10)
	l.Add(rec{key: "a", val: "1"})
	l.Add(rec{key: "a", val: "2"})
	if r, ok := l.Unwritten("a"); !ok || r.val != "2" {
		t.Fatalf("Unwritten(a) = %v, %v; want the last record", r, ok)
	}
	if _, ok := l.Unwritten("b"); ok {
		t.Error("Unwritten(b) found a record never added")
	}
	flushed := make(chan error)
	go func() { flushed <- l.Flush(context.Background()) }()
	time.Sleep(10 * time.Millisecond) // the write has started and is held
	if _, ok := l.Unwritten("a"); !ok {
		t.Error("Unwritten(a) during its write = false, want true")
	}
	close(s.block)
	if err := <-flushed; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if _, ok := l.Unwritten("a"); ok {
		t.Error("Unwritten(a) after its write = true, want false")
	}
	if got := s.written(); len(got) != 2 {
		t.Errorf("written %v, want both records", got)
	}
}

// Records wait at most the interval, and a full batch goes at once.
func TestWritesOnIntervalAndBatch(t *testing.T) {
	s := &store{}
	l := newLog(s, 20*time.Millisecond, 3, 100)
	l.Add(rec{key: "a"})
	deadline := time.Now().Add(5 * time.Second)
	for len(s.written()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.written(); len(got) != 1 {
		t.Fatalf("after the interval: written %v, want the one record", got)
	}

	l = newLog(s, time.Hour, 3, 100)
	for _, k := range []string{"b", "c", "d"} {
		l.Add(rec{key: k})
	}
	for len(s.written()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.written(); len(got) != 4 {
		t.Fatalf("after a full batch, with an hour's interval: written %v, want 4 records", got)
	}
}

// A record its batch could not store is tried once more on its own, and
// one that fails again is reported lost; the others are written once.
func TestFailedRecordIsRetriedThenLost(t *testing.T) {
	s := &store{}
	l := newLog(s, time.Hour, 100, 10)
	for _, r := range []rec{{"a", "ok"}, {"b", "fail"}, {"c", "lost"}} {
		l.Add(r)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.written(); !slices.Equal(got, []rec{{"a", "ok"}}) {
		t.Errorf("written in the batch: %v, want a", got)
	}
	if !slices.Equal(s.alone, []rec{{"b", "fail"}}) || !slices.Equal(s.lost, []rec{{"c", "lost"}}) {
		t.Errorf("written alone %v, lost %v; want b alone, c lost", s.alone, s.lost)
	}
	if _, ok := l.Unwritten("c"); ok {
		t.Error("a lost record is still unwritten: the log would hold it forever")
	}
}

// Flush gives up when its context ends, saying so.
func TestFlushHonoursContext(t *testing.T) {
	s := &store{block: make(chan struct{})}
	defer close(s.block)
	l := newLog(s, time.Hour, 100, 10)
	l.Add(rec{key: "a"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	go l.Flush(context.Background()) // starts the write, held
	time.Sleep(5 * time.Millisecond)
	if err := l.Flush(ctx); err == nil {
		t.Error("Flush with a write held past its deadline = nil, want an error")
	}
}

// A store slower than the records coming gets at most Writes writes at
// once; the batches that fill meanwhile wait queued, and go in one write
// when a write ends. Flush waits for those too.
func TestWritesInFlightAreBounded(t *testing.T) {
	s := &store{block: make(chan struct{})}
	l := writebehind.New(writebehind.Options[string, rec]{
		Every: time.Hour, Batch: 1, Max: 100, Timeout: time.Minute, Writes: 2,
		Key:   func(r rec) string { return r.key },
		Write: s.write, WriteOne: s.writeOne, Lost: s.lose,
	})
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if !l.Add(rec{key: k}) {
			t.Fatalf("Add(%s) refused", k)
		}
	}
	time.Sleep(20 * time.Millisecond) // any write that would start has
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started != 2 {
		t.Fatalf("writes started with five full batches and a held store = %d, want 2", started)
	}
	if _, ok := l.Unwritten("e"); !ok {
		t.Error("a record waiting for a write is not found unwritten")
	}
	flushed := make(chan error)
	go func() { flushed <- l.Flush(context.Background()) }()
	close(s.block)
	if err := <-flushed; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := s.written(); len(got) != 5 {
		t.Errorf("written %v, want all five records", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started != 3 {
		t.Errorf("writes = %d, want 3: the two held, then the three waiting records together", s.started)
	}
}

// A full log with Wait set holds Add until a write makes room, so that
// the record still goes in a batch; past Wait, Add refuses it.
func TestAddWaitsForRoom(t *testing.T) {
	s := &store{block: make(chan struct{})}
	l := writebehind.New(writebehind.Options[string, rec]{
		Every: time.Hour, Batch: 2, Max: 2, Timeout: time.Minute, Wait: time.Minute,
		Key:   func(r rec) string { return r.key },
		Write: s.write, WriteOne: s.writeOne, Lost: s.lose,
	})
	l.Add(rec{key: "a"})
	l.Add(rec{key: "b"}) // a full batch: its write starts, held
	added := make(chan bool)
	go func() { added <- l.Add(rec{key: "c"}) }()
	select {
	case ok := <-added:
		t.Fatalf("Add to a full log returned %v before any write ended", ok)
	case <-time.After(50 * time.Millisecond):
	}
	close(s.block)
	if !<-added {
		t.Fatal("Add after a write made room = false, want true")
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.written(); len(got) != 3 {
		t.Errorf("written %v, want all three records", got)
	}
	if len(s.alone) != 0 {
		t.Errorf("records written alone: %v, want none", s.alone)
	}

	s2 := &store{block: make(chan struct{})}
	defer close(s2.block)
	l = writebehind.New(writebehind.Options[string, rec]{
		Every: time.Hour, Batch: 1, Max: 1, Timeout: time.Minute, Wait: 30 * time.Millisecond,
		Key:   func(r rec) string { return r.key },
		Write: s2.write, WriteOne: s2.writeOne, Lost: s2.lose,
	})
	l.Add(rec{key: "a"})
	start := time.Now()
	if l.Add(rec{key: "b"}) {
		t.Error("Add to a log full past Wait = true, want false")
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Errorf("Add refused after %v, before Wait", waited)
	}
}

// A nil Log is off: it takes nothing, so its callers write each record
// themselves, and has nothing to flush.
func TestNilLogIsOff(t *testing.T) {
	var l *writebehind.Log[string, rec]
	if l.Add(rec{key: "a"}) {
		t.Error("nil Log took a record")
	}
	if _, ok := l.Unwritten("a"); ok {
		t.Error("nil Log has a record unwritten")
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Errorf("nil Log's Flush = %v", err)
	}
}

// With Size set, the bytes unwritten are bounded as the records are (a
// record larger than the bound alone is still taken, when nothing else
// waits), and a batch's worth of bytes starts a write at once.
func TestBytesBoundTheLog(t *testing.T) {
	s := &store{block: make(chan struct{})}
	l := writebehind.New(writebehind.Options[string, rec]{
		Every: time.Hour, Batch: 100, Max: 100, Timeout: time.Minute, Wait: -1,
		Key:   func(r rec) string { return r.key },
		Write: s.write, WriteOne: s.writeOne, Lost: s.lose,
		Size: func(r rec) int { return len(r.val) }, MaxBytes: 10, BatchBytes: 100,
	})
	if !l.Add(rec{"big", strings.Repeat("x", 50)}) {
		t.Fatal("a record over MaxBytes with nothing unwritten was refused")
	}
	if l.Add(rec{"a", "x"}) {
		t.Error("a record past MaxBytes was taken")
	}
	close(s.block)
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false} {
		if got := l.Add(rec{string(rune('a' + i)), "xxxx"}); got != want {
			t.Errorf("Add of 4 bytes with %d unwritten = %v, want %v", 4*i, got, want)
		}
	}

	s2 := &store{}
	l = writebehind.New(writebehind.Options[string, rec]{
		Every: time.Hour, Batch: 100, Max: 100, Timeout: time.Minute,
		Key:   func(r rec) string { return r.key },
		Write: s2.write, WriteOne: s2.writeOne, Lost: s2.lose,
		Size: func(r rec) int { return len(r.val) }, MaxBytes: 1000, BatchBytes: 8,
	})
	l.Add(rec{"a", "xxxx"})
	l.Add(rec{"b", "xxxx"}) // 8 bytes queued: written without waiting the hour
	deadline := time.Now().Add(5 * time.Second)
	for len(s2.written()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s2.written(); len(got) != 2 {
		t.Errorf("after BatchBytes queued: written %v, want both records", got)
	}
}

// BenchmarkAdd is a record's cost in the log on a request's path, and
// its share of the batch write, with a store that takes no time: what
// ingest's event log and the dispatcher's attempt log add per record.
func BenchmarkAdd(b *testing.B) {
	l := writebehind.New(writebehind.Options[string, rec]{
		Every: 10 * time.Millisecond, Batch: 500, Max: 5000, Timeout: time.Minute,
		Key:      func(r rec) string { return r.key },
		Write:    func(context.Context, []rec) []error { return nil },
		WriteOne: func(context.Context, rec) error { return nil },
		Lost:     func(context.Context, rec, error) {},
	})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key-" + strings.Repeat("x", i%16) + string(rune('a'+i%26))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if !l.Add(rec{key: keys[i%len(keys)]}) {
			b.Fatal("Add refused a record")
		}
		i++
	}
	if err := l.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}
