package firestore

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The hot-path writes, against the Firestore emulator. ns/op is mostly the
// emulator's time; cpu-µs/op is this process's CPU (user + system, from
// getrusage) per operation: what the adapter costs a Cloud Run instance.
// Run them through scripts/test without -race, which would dominate:
//
//	.bin/hookrun-dev test -- go test -run '^$' -bench . ./internal/firestore/

func BenchmarkRecordAttempt(b *testing.B) {
	s := newTestStore(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(8)
	measureCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			// Each its own delivery, as a fan-out writes them.
			i := n.Add(1)
			d := hookrun.Delivery{
				TenantID: "t1", EventID: "evt_" + strconv.FormatInt(i, 10), EndpointID: "ep_1", EventType: "user.created",
				WebhookID: "msg_x", State: hookrun.DeliverySucceeded, LastStatusCode: 204, ChainAttempts: 1,
				UpdatedAt: now(), EventAt: now(),
			}
			a := hookrun.Attempt{Number: 1, StartedAt: now(), StatusCode: 204, Latency: 3 * time.Millisecond}
			if err := s.RecordAttempt(ctx, d, a); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRecordAttempts is the attempt log's write: batches of 100
// records, as a busy dispatcher flushes them; the figures are per record.
func BenchmarkRecordAttempts(b *testing.B) {
	s := newTestStore(b)
	benchBatches(b, s.RecordAttempts, func(n int64) hookrun.AttemptRecord {
		return firstSuccess("evt_"+strconv.FormatInt(n, 10), now())
	})
}

// BenchmarkRecordEvents is ingest's event log write: batches of 100
// events without a producer's id, 1 KiB of data each, as a busy instance
// flushes them; the figures are per event.
func BenchmarkRecordEvents(b *testing.B) {
	s := newTestStore(b)
	data := []byte(`{"payload":"` + strings.Repeat("x", 1000) + `"}`)
	benchBatches(b, s.RecordEvents, func(n int64) hookrun.AcceptedEvent {
		id := "evt_" + strconv.FormatInt(n, 10)
		return hookrun.AcceptedEvent{Event: hookrun.Event{ID: id, TenantID: "t1", Type: "user.created", Data: data, Source: hookrun.SourceAPI, ReceivedAt: now()}, MessageID: "m" + id}
	})
}

// benchBatches writes b.N records made by record (numbered from 1) in
// batches of 100 through write, as a write-behind log flushes them, and
// reports the process's CPU per record as cpu-µs/op.
func benchBatches[R any](b *testing.B, write func(context.Context, []R) []error, record func(n int64) R) {
	const batch = 100
	ctx := context.Background()
	recs := make([]R, batch)
	var n int64
	before := processCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		k := min(batch, b.N-i)
		for j := range k {
			n++
			recs[j] = record(n)
		}
		if errs := write(ctx, recs[:k]); errs != nil {
			b.Fatal(errs)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-before)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

func BenchmarkClaimAndAcceptEvent(b *testing.B) {
	s := newTestStore(b)
	ctx := context.Background()
	var n atomic.Int64
	data := []byte(`{"user_id":"usr_2fd4e1c67a2d28fce","plan":"pro"}`)
	b.SetParallelism(8)
	measureCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			id := "evt_" + strconv.FormatInt(n.Add(1), 10)
			e := hookrun.Event{ID: id, TenantID: "t1", Type: "user.created", Data: data, Source: hookrun.SourceAPI, ReceivedAt: now()}
			if _, _, err := s.ClaimEvent(ctx, e, time.Minute); err != nil {
				b.Error(err)
				return
			}
			if errs := s.RecordEvents(ctx, []hookrun.AcceptedEvent{{Event: e, MessageID: "m1", Claimed: true}}); errs != nil {
				b.Error(errs)
				return
			}
		}
	})
}

// measureCPU runs body in parallel and reports the process's CPU time per
// operation as cpu-µs/op.
func measureCPU(b *testing.B, body func(*testing.PB)) {
	b.Helper()
	before := processCPU(b)
	b.ResetTimer()
	b.RunParallel(body)
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-before)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
