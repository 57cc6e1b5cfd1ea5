package metrics_test

import (
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
)

// BenchmarkHotPath is what an event costs the recorder: ingest counts it
// accepted, the dispatcher counts its attempt, records the attempt's
// duration and the delivery's outcome and latency.
func BenchmarkHotPath(b *testing.B) {
	rec, _ := metricstest.Serve(b)
	ctx := b.Context()
	received := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		rec.EventAccepted(ctx, metrics.SourceAPI)
		rec.Attempt(ctx, 204, 5*time.Millisecond)
		rec.Delivery(ctx, metrics.OutcomeSucceeded)
		rec.Delivered(ctx, received, received.Add(20*time.Millisecond))
	}
}
