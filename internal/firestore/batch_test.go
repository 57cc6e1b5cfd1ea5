package firestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Writes that share a window keep their own preconditions and outcomes, and
// a second write to one document in a window still lands.
func TestWriteBatcher(t *testing.T) {
	for _, window := range []time.Duration{-1, DefaultBatchWindow, 50 * time.Millisecond} {
		t.Run(fmt.Sprintf("window %v", window), func(t *testing.T) {
			s := newTestStore(t)
			b := newWriteBatcher(s.c, window)
			ctx := context.Background()
			col := s.c.Collection("batch-test")
			var alone atomic.Int32 // creates sent by themselves
			create := func(id string, v int) error {
				ref := col.Doc(id)
				data := map[string]any{"v": v}
				return b.write(ctx,
					func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) { return bw.Create(ref, data) },
					func(ctx context.Context) error { alone.Add(1); _, err := ref.Create(ctx, data); return err })
			}
			set := func(id string, v int) error {
				ref := col.Doc(id)
				data := map[string]any{"n": fs.Increment(v)}
				return b.write(ctx,
					func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) { return bw.Set(ref, data, fs.MergeAll) },
					func(ctx context.Context) error { _, err := ref.Set(ctx, data, fs.MergeAll); return err })
			}

			// 40 creates at once, 5 of them of a document another one
			// creates too: exactly one of each pair may succeed.
			var wg sync.WaitGroup
			errs := make([]error, 40)
			for i := range errs {
				wg.Go(func() { errs[i] = create(fmt.Sprintf("doc-%d", i%35), i) })
			}
			wg.Wait()
			created, exists := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case status.Code(err) == codes.AlreadyExists:
					exists++
				default:
					t.Errorf("create: %v", err)
				}
			}
			if created != 35 || exists != 5 {
				t.Errorf("created %d, already existing %d; want 35 and 5", created, exists)
			}
			// In a window that holds them all, only a write that found
			// none in flight and the second writes of a document go
			// alone; without batching, every write does.
			switch got := alone.Load(); {
			case window < 0 && got != 40:
				t.Errorf("%d creates sent alone without batching, want 40", got)
			case window >= 50*time.Millisecond && got > 10:
				t.Errorf("%d of 40 concurrent creates sent alone in a 50 ms window, want at most 10", got)
			}

			// Increments of one document in one window all count.
			for i := range 10 {
				wg.Go(func() {
					if err := set("counter", i+1); err != nil {
						t.Errorf("set: %v", err)
					}
				})
			}
			wg.Wait()
			snap, err := col.Doc("counter").Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := snap.DataAt("n"); n != int64(55) {
				t.Errorf("counter = %v, want 55", n)
			}
		})
	}
}

// A write alone goes at once, without waiting for the window.
func TestWriteBatcherAloneGoesAtOnce(t *testing.T) {
	s := newTestStore(t)
	b := newWriteBatcher(s.c, time.Hour)
	ref := s.c.Collection("batch-test").Doc("alone")
	sent := false
	err := b.write(context.Background(),
		func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) {
			t.Error("a write with none in flight waited for a window")
			return bw.Create(ref, map[string]any{"v": 1})
		},
		func(ctx context.Context) error {
			sent = true
			_, err := ref.Create(ctx, map[string]any{"v": 1})
			return err
		})
	if err != nil || !sent {
		t.Errorf("write = %v, sent alone %v; want nil, true", err, sent)
	}
}

func TestWriteBatcherHonoursContext(t *testing.T) {
	s := newTestStore(t)
	b := newWriteBatcher(s.c, 200*time.Millisecond)
	b.inFlight.Add(1) // another write is in flight: this one waits for the window
	defer b.inFlight.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ref := s.c.Collection("batch-test").Doc("slow")
	err := b.write(ctx,
		func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) { return bw.Create(ref, map[string]any{"v": 1}) },
		func(ctx context.Context) error {
			t.Error("the batch took the write: it must not be sent alone")
			return nil
		})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("write = %v, want the caller's deadline", err)
	}
	b.flush()
}

// Reads that share a window each get their own documents, in order, and a
// document two of them ask for.
func TestReadBatcher(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	col := s.c.Collection("batch-read")
	for i := range 5 {
		if _, err := col.Doc(fmt.Sprint(i)).Set(ctx, map[string]any{"v": i}); err != nil {
			t.Fatal(err)
		}
	}
	b := newReadBatcher(s.c, 50*time.Millisecond)
	b.inFlight.Add(1) // as if a read were in flight: every call joins the window
	defer b.inFlight.Add(-1)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			// Each asks for docs g%5 and (g+1)%5, and one that does not exist.
			ids := []string{fmt.Sprint(g % 5), "missing", fmt.Sprint((g + 1) % 5)}
			refs := []*fs.DocumentRef{col.Doc(ids[0]), col.Doc(ids[1]), col.Doc(ids[2])}
			snaps, err := b.getAll(ctx, refs)
			if err != nil {
				t.Errorf("getAll: %v", err)
				return
			}
			if len(snaps) != 3 {
				t.Errorf("got %d snapshots, want 3", len(snaps))
				return
			}
			for i, snap := range snaps {
				if snap.Ref.ID != ids[i] {
					t.Errorf("snapshot %d is %s, want %s", i, snap.Ref.ID, ids[i])
				}
				if snap.Exists() != (ids[i] != "missing") {
					t.Errorf("%s exists = %v", ids[i], snap.Exists())
				}
			}
		})
	}
	wg.Wait()
}

// A flush is split into commits Firestore takes: at most commitWrites
// documents and about commitBytes each, in order, none empty.
func TestCommitEnds(t *testing.T) {
	const kib = 1 << 10
	sizes := func(ns ...int) func(int) int { return func(i int) int { return ns[i] } }
	same := func(n, size int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = size
		}
		return out
	}
	big := same(40, 250*kib) // the largest events: 12 fit in 3 MiB
	for _, tt := range []struct {
		name  string
		sizes []int
		want  []int
	}{
		{"none", nil, nil},
		{"one", []int{kib}, []int{1}},
		{"by count", same(1200, kib), []int{500, 1000, 1200}},
		{"by bytes", big, []int{12, 24, 36, 40}},
		{"one over the limit goes alone", []int{kib, commitBytes + 1, kib}, []int{1, 2, 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := commitEnds(len(tt.sizes), sizes(tt.sizes...)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("commitEnds = %v, want %v", got, tt.want)
			}
		})
	}
}

// RecordEvents stores a flush larger than one commit in full: more
// documents than a commit takes, and events of the largest size.
func TestRecordEventsBeyondOneCommit(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	large := []byte(`"` + strings.Repeat("x", 250<<10) + `"`)
	var evs []hookrun.AcceptedEvent
	for i := range commitWrites + 40 {
		data := []byte(`{"n":1}`)
		if i < 40 {
			data = large
		}
		evs = append(evs, hookrun.AcceptedEvent{Event: hookrun.Event{ID: fmt.Sprintf("evt_%04d", i), TenantID: "t1", Type: "user.created",
			Data: data, Source: hookrun.SourceAPI, ReceivedAt: time.Now().UTC()}, MessageID: fmt.Sprint(i)})
	}
	if errs := s.RecordEvents(ctx, evs); errs != nil {
		t.Fatalf("RecordEvents = %v", errs)
	}
	for _, ae := range evs {
		got, err := s.GetEvent(ctx, "t1", ae.Event.ID)
		if err != nil || string(got.Data) != string(ae.Event.Data) {
			t.Fatalf("GetEvent(%s) = %d bytes of data, %v; want its %d bytes", ae.Event.ID, len(got.Data), err, len(ae.Event.Data))
		}
	}
}
