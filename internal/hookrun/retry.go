package hookrun

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string
// ("5s", "12h"), so API users can read and write policies.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string like \"30s\" or \"2h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"30s\" or \"2h\"", s)
	}
	*d = Duration(v)
	return nil
}

// RetryPolicy is the schedule of attempts for one delivery. A tenant has
// one; an endpoint may override it. Zero fields take the value of the
// policy underneath (endpoint → tenant → DefaultRetryPolicy).
type RetryPolicy struct {
	// InitialDelay is the wait before the first retry.
	InitialDelay Duration `json:"initial_delay,omitempty"`
	// Multiplier grows the delay from one retry to the next.
	Multiplier float64 `json:"multiplier,omitempty"`
	// MaxDelay caps any one delay, Retry-After included.
	MaxDelay Duration `json:"max_delay,omitempty"`
	// MaxAttempts counts every attempt, the first included.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Jitter spreads each delay uniformly over ±Jitter of it (0 to 1), so
	// deliveries failed by one outage do not all return at once.
	Jitter float64 `json:"jitter,omitempty"`
}

// DefaultRetryPolicy resembles what senders users trust (Stripe, Svix): a
// first retry within seconds, then growing by 4× up to 12 h between
// attempts, the last attempt about three days after the event.
var DefaultRetryPolicy = RetryPolicy{
	InitialDelay: Duration(5 * time.Second),
	Multiplier:   4,
	MaxDelay:     Duration(12 * time.Hour),
	MaxAttempts:  13,
	Jitter:       0.2,
}

// Over returns p with its zero fields taken from base.
func (p RetryPolicy) Over(base RetryPolicy) RetryPolicy {
	if p.InitialDelay == 0 {
		p.InitialDelay = base.InitialDelay
	}
	if p.Multiplier == 0 {
		p.Multiplier = base.Multiplier
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = base.MaxDelay
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = base.MaxAttempts
	}
	if p.Jitter == 0 {
		p.Jitter = base.Jitter
	}
	return p
}

// Validate checks the fields that are set; field names follow the JSON.
func (p RetryPolicy) Validate() error {
	switch {
	case p.InitialDelay < 0 || (p.InitialDelay > 0 && time.Duration(p.InitialDelay) < time.Second):
		return Errorf(CodeInvalidArgument, "retry_policy.initial_delay: at least 1s")
	case p.MaxDelay < 0 || time.Duration(p.MaxDelay) > 7*24*time.Hour:
		return Errorf(CodeInvalidArgument, "retry_policy.max_delay: at most 168h")
	case p.MaxDelay > 0 && p.InitialDelay > p.MaxDelay:
		return Errorf(CodeInvalidArgument, "retry_policy.max_delay: must not be below initial_delay")
	case p.Multiplier != 0 && (p.Multiplier < 1 || p.Multiplier > 10):
		return Errorf(CodeInvalidArgument, "retry_policy.multiplier: between 1 and 10")
	case p.MaxAttempts < 0 || p.MaxAttempts > 100:
		return Errorf(CodeInvalidArgument, "retry_policy.max_attempts: between 1 and 100")
	case p.Jitter < 0 || p.Jitter > 1:
		return Errorf(CodeInvalidArgument, "retry_policy.jitter: between 0 and 1")
	}
	return nil
}

// BaseDelay is the wait after failed attempt n (1-based) before attempt
// n+1, without jitter: InitialDelay × Multiplierⁿ⁻¹, capped at MaxDelay.
// It never decreases as n grows.
func (p RetryPolicy) BaseDelay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := float64(p.InitialDelay) * math.Pow(p.Multiplier, float64(n-1))
	if d > float64(p.MaxDelay) || math.IsInf(d, 0) || math.IsNaN(d) {
		return time.Duration(p.MaxDelay)
	}
	return time.Duration(d)
}

// Delay is BaseDelay spread by jitter: u is uniform in [0, 1) (the caller's
// random source, so this stays a pure function). The result lies within
// [base×(1−Jitter), base×(1+Jitter)] and never exceeds MaxDelay.
func (p RetryPolicy) Delay(n int, u float64) time.Duration {
	base := float64(p.BaseDelay(n))
	d := base * (1 - p.Jitter + 2*p.Jitter*u)
	return min(time.Duration(d), time.Duration(p.MaxDelay))
}

// ClientErrorAction says what a 4xx answer (other than 408, 410 and 429)
// does to a delivery.
type ClientErrorAction string

// Client error actions.
const (
	// ClientErrorRetry retries 4xx like any failure: the default, because
	// a 4xx is often a receiver being deployed or misconfigured for a
	// while, and giving up early turns it into lost events.
	ClientErrorRetry ClientErrorAction = "retry"
	// ClientErrorDeadLetter makes a 4xx final at once: for receivers that
	// answer 4xx only for payloads they will never accept.
	ClientErrorDeadLetter ClientErrorAction = "dead_letter"
)

// Validate checks the action; empty means ClientErrorRetry.
func (a ClientErrorAction) Validate() error {
	switch a {
	case "", ClientErrorRetry, ClientErrorDeadLetter:
		return nil
	}
	return Errorf(CodeInvalidArgument, "on_client_error: %q is not retry or dead_letter", string(a))
}

// Verdict is what happens to a delivery after an attempt.
type Verdict int

// Verdicts.
const (
	VerdictSucceeded Verdict = iota
	VerdictRetry
	// VerdictGone: the endpoint answered 410; disable it, dead-letter.
	VerdictGone
	// VerdictDead: no more attempts (exhausted, or a final 4xx).
	VerdictDead
)

// Decision is the verdict on an attempt with what it needs.
type Decision struct {
	Verdict Verdict
	// Delay before the next attempt, for VerdictRetry.
	Delay time.Duration
	// Reason explains VerdictGone and VerdictDead.
	Reason string
}

// Decide judges attempt a (its Number within the current chain) under
// policy p. retryAfter is the response's Retry-After header, honoured on
// 429 and 503 within [1s, MaxDelay]; u is uniform in [0, 1) for jitter.
func Decide(a Attempt, p RetryPolicy, onClientError ClientErrorAction, retryAfter string, now time.Time, u float64) Decision {
	if a.Succeeded() {
		return Decision{Verdict: VerdictSucceeded}
	}
	code := a.StatusCode
	if code == http.StatusGone {
		return Decision{Verdict: VerdictGone, Reason: "endpoint answered 410 Gone: endpoint disabled"}
	}
	if onClientError == ClientErrorDeadLetter && code >= 400 && code < 500 &&
		code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
		return Decision{Verdict: VerdictDead, Reason: fmt.Sprintf("endpoint answered %d and is set to dead-letter client errors", code)}
	}
	if a.Number >= p.MaxAttempts {
		attempts := "attempts"
		if a.Number == 1 {
			attempts = "attempt"
		}
		return Decision{Verdict: VerdictDead, Reason: fmt.Sprintf("gave up after %d %s; last: %s", a.Number, attempts, a.Error)}
	}
	delay := p.Delay(a.Number, u)
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		if ra, ok := ParseRetryAfter(retryAfter, now); ok {
			delay = min(max(ra, time.Second), time.Duration(p.MaxDelay))
		}
	}
	return Decision{Verdict: VerdictRetry, Delay: delay}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
