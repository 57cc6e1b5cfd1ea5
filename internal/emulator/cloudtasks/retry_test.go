package cloudtasks

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	s := time.Second
	// The example of the RetryConfig documentation: 10 s, 300 s, 3 doublings.
	documented := retryPolicy{minBackoff: 10 * s, maxBackoff: 300 * s, maxDoublings: 3}
	tests := []struct {
		name     string
		p        retryPolicy
		attempts []int32
		want     []time.Duration
	}{
		{"documented example", documented,
			[]int32{1, 2, 3, 4, 5, 6, 7, 8},
			[]time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 240 * s, 300 * s, 300 * s}},
		{"no doublings grows linearly", retryPolicy{minBackoff: s, maxBackoff: 4 * s},
			[]int32{1, 2, 3, 4, 5},
			[]time.Duration{s, 2 * s, 3 * s, 4 * s, 4 * s}},
		{"defaults", retryPolicy{minBackoff: 100 * time.Millisecond, maxBackoff: time.Hour, maxDoublings: 16},
			[]int32{1, 2, 3, 10, 100},
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 51200 * time.Millisecond, time.Hour}},
		{"min equals max", retryPolicy{minBackoff: s, maxBackoff: s, maxDoublings: 16},
			[]int32{1, 2, 50},
			[]time.Duration{s, s, s}},
		{"no overflow after many attempts", retryPolicy{minBackoff: time.Hour, maxBackoff: 24 * time.Hour, maxDoublings: 1},
			[]int32{1, 2, 3, 1 << 30},
			[]time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 24 * time.Hour}},
		{"many doublings capped", retryPolicy{minBackoff: time.Hour, maxBackoff: 2 * time.Hour, maxDoublings: 1000},
			[]int32{1, 2, 3, 999},
			[]time.Duration{time.Hour, 2 * time.Hour, 2 * time.Hour, 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, n := range tt.attempts {
				if got := tt.p.delay(n); got != tt.want[i] {
					t.Errorf("delay after attempt %d: got %v, want %v", n, got, tt.want[i])
				}
			}
		})
	}
}

func TestRetryExhausted(t *testing.T) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hour := time.Hour
	tests := []struct {
		name        string
		maxAttempts int32
		maxDuration time.Duration
		attempts    int32
		elapsed     time.Duration
		want        bool
	}{
		{"attempts left", 3, 0, 2, 10 * hour, false},
		{"attempts used", 3, 0, 3, 0, true},
		{"unlimited attempts and duration", -1, 0, 1000, 1000 * hour, false},
		{"unlimited attempts, duration left", -1, hour, 1000, hour - 1, false},
		{"unlimited attempts, duration used", -1, hour, 1, hour, true},
		{"both limits: only attempts used", 3, hour, 5, hour / 2, false},
		{"both limits: only duration used", 3, hour, 2, 2 * hour, false},
		{"both limits used", 3, hour, 3, hour, true},
		{"single attempt", 1, 0, 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := retryPolicy{maxAttempts: tt.maxAttempts, maxRetryDuration: tt.maxDuration}
			if got := p.exhausted(tt.attempts, first, first.Add(tt.elapsed)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
