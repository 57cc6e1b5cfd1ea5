package hookrun

import (
	"testing"
	"time"
)

func TestLatencyBucket(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {10 * time.Millisecond, 0}, {11 * time.Millisecond, 1}, {time.Second, 6}, {30 * time.Second, 10}, {time.Minute, 11}} {
		if got := LatencyBucket(tt.d); got != tt.want {
			t.Errorf("LatencyBucket(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestMetricsDerive(t *testing.T) {
	m := Metrics{Succeeded: 9, Dead: 1, Attempts: 20}
	buckets := make([]int64, len(LatencyBuckets)+1)
	buckets[0], buckets[3], buckets[6] = 18, 1, 1 // 90 % ≤10ms, 95 % ≤100ms
	m.Derive(400, buckets)
	if m.SuccessRate == nil || *m.SuccessRate != 0.9 {
		t.Errorf("success rate = %v, want 0.9", m.SuccessRate)
	}
	if m.AvgResponseMS == nil || *m.AvgResponseMS != 20 {
		t.Errorf("avg = %v, want 20", m.AvgResponseMS)
	}
	if m.P95ResponseMS == nil || *m.P95ResponseMS != 100 {
		t.Errorf("p95 = %v, want 100 (the bucket holding the 19th of 20)", m.P95ResponseMS)
	}

	empty := Metrics{}
	empty.Derive(0, make([]int64, len(LatencyBuckets)+1))
	if empty.SuccessRate != nil || empty.AvgResponseMS != nil || empty.P95ResponseMS != nil {
		t.Errorf("no data gave figures: %+v", empty)
	}
	slow := Metrics{Attempts: 1}
	b := make([]int64, len(LatencyBuckets)+1)
	b[len(LatencyBuckets)] = 1
	slow.Derive(60000, b)
	if slow.P95ResponseMS != nil {
		t.Errorf("p95 in the overflow bucket = %v, want absent", *slow.P95ResponseMS)
	}
}
