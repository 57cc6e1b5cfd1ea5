package hookrun

import "time"

// LatencyBuckets are the upper bounds of the response-time histogram kept
// with every delivery; the last bucket holds everything slower.
var LatencyBuckets = []time.Duration{
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// LatencyBucket returns the index of d's histogram bucket, from 0 to
// len(LatencyBuckets) (the overflow bucket).
func LatencyBucket(d time.Duration) int {
	for i, b := range LatencyBuckets {
		if d <= b {
			return i
		}
	}
	return len(LatencyBuckets)
}

// Metrics describe delivery over a window of event receive times.
type Metrics struct {
	Since          time.Time `json:"since"`
	Until          time.Time `json:"until"`
	EventsReceived int64     `json:"events_received"`
	Deliveries     int64     `json:"deliveries"`
	Succeeded      int64     `json:"succeeded"`
	// Retrying deliveries wait for their next attempt; Dead ones gave up.
	Retrying       int64 `json:"retrying"`
	Dead           int64 `json:"dead"`
	Attempts       int64 `json:"attempts"`
	FailedAttempts int64 `json:"failed_attempts"`
	// SuccessRate is succeeded / (succeeded + dead): the settled
	// deliveries that reached their endpoint. Absent when none settled.
	SuccessRate *float64 `json:"success_rate,omitempty"`
	// AvgResponseMS is the mean latency of every attempt.
	AvgResponseMS *float64 `json:"avg_response_ms,omitempty"`
	// P95ResponseMS is the upper bound of the histogram bucket holding the
	// 95th percentile attempt; absent when it is in the overflow bucket
	// (slower than 30 s) or there were no attempts.
	P95ResponseMS *float64 `json:"p95_response_ms,omitempty"`
	// Series splits the window into consecutive buckets, oldest first,
	// when the query asked for a step; each bucket has no series itself.
	Series []Metrics `json:"series,omitempty"`
}

// Derive fills the rates and response times from counts: latencySumMS over
// all attempts, and the attempt count of each latency bucket.
func (m *Metrics) Derive(latencySumMS float64, buckets []int64) {
	if settled := m.Succeeded + m.Dead; settled > 0 {
		r := float64(m.Succeeded) / float64(settled)
		m.SuccessRate = &r
	}
	if m.Attempts > 0 {
		avg := latencySumMS / float64(m.Attempts)
		m.AvgResponseMS = &avg
	}
	var total int64
	for _, n := range buckets {
		total += n
	}
	if total == 0 {
		return
	}
	need := (total*95 + 99) / 100 // ceil(0.95 × total)
	var seen int64
	for i, n := range buckets {
		seen += n
		if seen >= need {
			if i < len(LatencyBuckets) {
				p := float64(LatencyBuckets[i].Microseconds()) / 1000
				m.P95ResponseMS = &p
			}
			return
		}
	}
}
