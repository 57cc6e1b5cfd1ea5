package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryConfig says how a Client retries a failed call: exponential backoff
// with full jitter, never sooner than the answer's Retry-After, and never
// past the context's deadline (the last failure is answered at once when
// the next attempt could not start in time). Zero fields take the
// defaults.
type RetryConfig struct {
	// MaxAttempts counts every attempt of a call, the first included;
	// default 4, 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the largest wait before the first retry; default
	// 200ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait of backoff alone (a Retry-After may ask
	// for more); default 10s.
	MaxBackoff time.Duration
	// Multiplier grows the wait per retry; default 2.
	Multiplier float64
}

func (r *RetryConfig) setDefaults() {
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 4
	}
	if r.InitialBackoff == 0 {
		r.InitialBackoff = 200 * time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 10 * time.Second
	}
	if r.Multiplier == 0 {
		r.Multiplier = 2
	}
}

// Validate reports a setting out of range.
func (r RetryConfig) Validate() error {
	switch {
	case r.MaxAttempts < 1:
		return fmt.Errorf("retry: MaxAttempts %d: want at least 1", r.MaxAttempts)
	case r.InitialBackoff < 0 || r.MaxBackoff < r.InitialBackoff:
		return fmt.Errorf("retry: want 0 <= InitialBackoff (%s) <= MaxBackoff (%s)", r.InitialBackoff, r.MaxBackoff)
	case r.Multiplier < 1:
		return fmt.Errorf("retry: Multiplier %g: want at least 1", r.Multiplier)
	}
	return nil
}

// backoff answers the wait before retry number n (1 for the first): a
// random duration up to InitialBackoff·Multiplier^(n-1), capped at
// MaxBackoff ("full jitter", so that clients refused together do not come
// back together), and at least the Retry-After of err.
func (r RetryConfig) backoff(n int, err error) time.Duration {
	ceiling := float64(r.InitialBackoff)
	for i := 1; i < n && ceiling < float64(r.MaxBackoff); i++ {
		ceiling *= r.Multiplier
	}
	ceiling = min(ceiling, float64(r.MaxBackoff))
	d := time.Duration(rand.Float64() * ceiling)
	var apiErr *Error
	if errors.As(err, &apiErr) {
		d = max(d, apiErr.RetryAfter)
	}
	return d
}

// wait sleeps before retry number n after err. It answers err itself when
// ctx would end before the retry could start, and ctx's error (wrapping
// err) when ctx ends while it waits.
func (r RetryConfig) wait(ctx context.Context, n int, err error) error {
	d := r.backoff(n, err)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (while waiting to retry after: %w)", context.Cause(ctx), err)
	}
}
