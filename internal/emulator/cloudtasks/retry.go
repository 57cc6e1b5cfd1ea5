package cloudtasks

import (
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
)

// retryPolicy is a RetryConfig with the service defaults filled in, in Go
// types.
type retryPolicy struct {
	maxAttempts      int32 // -1: unlimited
	maxRetryDuration time.Duration
	minBackoff       time.Duration
	maxBackoff       time.Duration
	maxDoublings     int32
}

func policyOf(c *cloudtaskspb.RetryConfig) retryPolicy {
	return retryPolicy{
		maxAttempts:      c.GetMaxAttempts(),
		maxRetryDuration: c.GetMaxRetryDuration().AsDuration(),
		minBackoff:       c.GetMinBackoff().AsDuration(),
		maxBackoff:       c.GetMaxBackoff().AsDuration(),
		maxDoublings:     c.GetMaxDoublings(),
	}
}

// delay returns how long a task waits after its attempt number attempts
// (1 for the first) failed. As in the real service, the interval starts at
// min_backoff, doubles max_doublings times, then grows linearly by
// 2^max_doublings × min_backoff, and never exceeds max_backoff: with 10s,
// 300s and 3 doublings the retries come 10, 20, 40, 80, 160, 240, 300, 300…
// seconds apart.
func (p retryPolicy) delay(attempts int32) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	retries := int64(attempts - 1) // retries already made before this one
	d := p.minBackoff
	doublings := min(retries, int64(p.maxDoublings))
	for range doublings {
		if d >= p.maxBackoff {
			return p.maxBackoff
		}
		d *= 2
	}
	if linear := retries - doublings; linear > 0 && d > 0 {
		// d + linear×d, saturating instead of overflowing for tasks with
		// unlimited attempts.
		if linear >= int64(p.maxBackoff/d) {
			return p.maxBackoff
		}
		d += time.Duration(linear) * d
	}
	return min(d, p.maxBackoff)
}

// exhausted reports whether a task that failed its attempt number attempts,
// first dispatched at first, gets no further attempt at now. When both
// max_attempts and max_retry_duration are limited the task is retried until
// both are reached, as the real service does; -1 and 0 mean unlimited.
func (p retryPolicy) exhausted(attempts int32, first, now time.Time) bool {
	attemptsUsed := p.maxAttempts != -1 && attempts >= p.maxAttempts
	durationUsed := p.maxRetryDuration > 0 && now.Sub(first) >= p.maxRetryDuration
	switch {
	case p.maxAttempts == -1 && p.maxRetryDuration <= 0:
		return false
	case p.maxAttempts == -1:
		return durationUsed
	case p.maxRetryDuration <= 0:
		return attemptsUsed
	default:
		return attemptsUsed && durationUsed
	}
}
