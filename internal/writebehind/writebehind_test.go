package writebehind_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/writebehind"
)

type rec struct{ key, val string }

// store records the batches a Log writes; block, when set, holds each
// write until it is closed.
type store struct {
	mu      sync.Mutex
	batches [][]rec
	block   chan struct{}
}

func (s *store) write(recs []rec) {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, slices.Clone(recs))
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
		Every: every, Batch: batch, Max: max,
		Key:   func(r rec) string { return r.key },
		Write: s.write,
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
