package client

import (
	"testing"
	"time"
)

func TestBackoffGrowsWithJitterUpToItsCapAndHonoursRetryAfter(t *testing.T) {
	r := RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2}
	tests := []struct {
		retry   int
		err     error
		atLeast time.Duration
		atMost  time.Duration
	}{
		{retry: 1, atMost: 100 * time.Millisecond},
		{retry: 2, atMost: 200 * time.Millisecond},
		{retry: 3, atMost: 400 * time.Millisecond},
		{retry: 10, atMost: time.Second},
		{retry: 1, err: &Error{StatusCode: 429, Code: CodeResourceExhausted, RetryAfter: 3 * time.Second}, atLeast: 3 * time.Second, atMost: 3 * time.Second},
	}
	for _, tt := range tests {
		var spread bool
		first := r.backoff(tt.retry, tt.err)
		for range 50 {
			d := r.backoff(tt.retry, tt.err)
			if d < tt.atLeast || d > tt.atMost {
				t.Errorf("backoff(%d, %v) = %s, want within [%s, %s]", tt.retry, tt.err, d, tt.atLeast, tt.atMost)
			}
			spread = spread || d != first
		}
		if !spread && tt.atLeast != tt.atMost {
			t.Errorf("backoff(%d) = %s every time: no jitter", tt.retry, first)
		}
	}
}

func TestRetryConfigDefaultsAndValidate(t *testing.T) {
	var r RetryConfig
	r.setDefaults()
	if err := r.Validate(); err != nil || r.MaxAttempts != 4 {
		t.Errorf("defaults %+v: %v", r, err)
	}
	for _, bad := range []RetryConfig{
		{MaxAttempts: -1, InitialBackoff: 1, MaxBackoff: 1, Multiplier: 1},
		{MaxAttempts: 1, InitialBackoff: 2, MaxBackoff: 1, Multiplier: 1},
		{MaxAttempts: 1, InitialBackoff: 1, MaxBackoff: 1, Multiplier: 0.5},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) accepted it", bad)
		}
	}
}
