package hookrun_test

import (
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// fuzzNow is the clock of the retry fuzz targets.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// FuzzParseRetryAfter feeds receivers' Retry-After headers to the parser
// whose result delays the next attempt.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"120", " 5 ", "0", "-1", "+7", "1.5", "", "9223372036854775807", "99999999999999999999",
		"Sun, 01 Mar 2026 12:01:00 GMT", "Sunday, 01-Mar-26 12:01:00 GMT", "Sun Mar  1 12:01:00 2026",
		"Sat, 28 Feb 2026 12:00:00 GMT", "Sun, 01 Mar 2026 12:01:00 UTC", "soon",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := hookrun.ParseRetryAfter(v, fuzzNow)
		if !ok {
			if d != 0 {
				t.Fatalf("ParseRetryAfter(%q) = %v, false: want 0 when not understood", v, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, want no negative delay", v, d)
		}
		// delay-seconds (RFC 9110, 10.2.3) is 1*DIGIT: a small one is
		// taken exactly.
		if s := strings.TrimSpace(v); len(s) <= 9 && strings.Trim(s, "0123456789") == "" {
			n, _ := strconv.Atoi(s)
			if d != time.Duration(n)*time.Second {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %ds", v, d, n)
			}
		}
	})
}

// FuzzRetryPolicy feeds retry policies as the API takes them (JSON with
// duration strings) and what receivers answer to the schedule they set.
func FuzzRetryPolicy(f *testing.F) {
	for _, s := range []struct {
		policy     string
		attempt    int
		u          float64
		status     int
		retryAfter string
	}{
		{`{}`, 1, 0.5, 500, ""},
		{`{"initial_delay":"30s","max_attempts":5}`, 4, 0.99, 503, "3600"},
		{`{"initial_delay":"1s","multiplier":10,"max_delay":"168h","max_attempts":100,"jitter":1}`, 100, 0, 429, "Sun, 01 Mar 2026 13:00:00 GMT"},
		{`{"initial_delay":"1h","max_delay":"1m"}`, 2, 0.1, 0, ""},
		{`{"initial_delay":"-2562047h47m16.854775808s"}`, 1, 0.5, 408, ""},
		{`{"max_delay":"2562047h47m16.854775807s"}`, 1, 0.5, 410, ""},
		{`{"multiplier":1e308,"jitter":0.5}`, 50, 0.75, 502, "-1"},
		{`{"initial_delay":5}`, 1, 0.5, 500, ""},
		{`{"initial_delay":"1.5µs"}`, 1, 0.5, 500, ""},
	} {
		f.Add([]byte(s.policy), s.attempt, s.u, s.status, s.retryAfter)
	}
	f.Fuzz(func(t *testing.T, policy []byte, attempt int, u float64, status int, retryAfter string) {
		var p hookrun.RetryPolicy
		if json.Unmarshal(policy, &p) != nil {
			return
		}
		// Durations and all survive being stored and read back.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		var back hookrun.RetryPolicy
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("policy %+v → %s → %+v, %v: does not round-trip", p, b, back, err)
		}
		if p.Validate() != nil {
			return
		}
		// Fields may combine into a policy Validate would refuse alone
		// ({"max_delay":"1s"} under the default 5s initial delay): the
		// schedule's bounds hold all the same.
		eff := p.Over(hookrun.DefaultRetryPolicy)
		maxDelay := time.Duration(eff.MaxDelay)
		u = math.Abs(math.Mod(u, 1)) // uniform in [0, 1) as the dispatcher draws it
		if math.IsNaN(u) {
			u = 0
		}
		var prev time.Duration
		for n := 1; n <= eff.MaxAttempts; n++ {
			base := eff.BaseDelay(n)
			if base < prev || base > maxDelay {
				t.Fatalf("policy %+v: BaseDelay(%d) = %v after %v, want non-decreasing up to %v", eff, n, base, prev, maxDelay)
			}
			prev = base
			if d := eff.Delay(n, u); d < 0 || d > maxDelay {
				t.Fatalf("policy %+v: Delay(%d, %v) = %v, want within [0, %v]", eff, n, u, d, maxDelay)
			}
		}

		n := 1 + int(uint(attempt)%uint(eff.MaxAttempts+1)) // 1 … MaxAttempts+1
		a := hookrun.Attempt{Number: n, StatusCode: status}
		dec := hookrun.Decide(a, eff, hookrun.ClientErrorRetry, retryAfter, fuzzNow, u)
		switch {
		case a.Succeeded():
			if dec.Verdict != hookrun.VerdictSucceeded {
				t.Fatalf("Decide(%d) = %+v, want success", status, dec)
			}
		case status == http.StatusGone:
			if dec.Verdict != hookrun.VerdictGone {
				t.Fatalf("Decide(410) = %+v, want gone", dec)
			}
		case n >= eff.MaxAttempts:
			if dec.Verdict != hookrun.VerdictDead {
				t.Fatalf("Decide(attempt %d of %d) = %+v, want dead", n, eff.MaxAttempts, dec)
			}
		default:
			if dec.Verdict != hookrun.VerdictRetry || dec.Delay < 0 || dec.Delay > maxDelay {
				t.Fatalf("Decide(attempt %d, %d, Retry-After %q) = %+v, want a retry within [0, %v]", n, status, retryAfter, dec, maxDelay)
			}
		}
	})
}
