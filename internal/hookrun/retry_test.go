package hookrun

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestBaseDelayGrowsMonotonicallyToTheCap(t *testing.T) {
	p := DefaultRetryPolicy
	prev := time.Duration(0)
	for n := 1; n <= 200; n++ {
		d := p.BaseDelay(n)
		if d < prev {
			t.Fatalf("BaseDelay(%d) = %v < BaseDelay(%d) = %v", n, d, n-1, prev)
		}
		if d > time.Duration(p.MaxDelay) {
			t.Fatalf("BaseDelay(%d) = %v exceeds max %v", n, d, time.Duration(p.MaxDelay))
		}
		prev = d
	}
	if got := p.BaseDelay(1); got != 5*time.Second {
		t.Errorf("first retry after %v, want 5s", got)
	}
	if got := p.BaseDelay(200); got != 12*time.Hour {
		t.Errorf("BaseDelay(200) = %v, want the 12h cap", got)
	}
}

func TestDelayStaysWithinJitterBounds(t *testing.T) {
	p := RetryPolicy{InitialDelay: Duration(time.Second), Multiplier: 2, MaxDelay: Duration(time.Minute), MaxAttempts: 10, Jitter: 0.3}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 10; n++ {
		base := p.BaseDelay(n)
		lo, hi := time.Duration(float64(base)*0.7), min(time.Duration(float64(base)*1.3), time.Minute)
		for i := 0; i < 1000; i++ {
			if d := p.Delay(n, r.Float64()); d < lo || d > hi {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, lo, hi)
			}
		}
		if d := p.Delay(n, 0); d != lo {
			t.Errorf("Delay(%d, u=0) = %v, want lower bound %v", n, d, lo)
		}
	}
	p.Jitter = 0
	if d := p.Delay(3, 0.9); d != 4*time.Second {
		t.Errorf("Delay without jitter = %v, want 4s", d)
	}
}

// The default schedule's last attempt lands about three days after the
// event, as the README's table says.
func TestDefaultScheduleSpansAboutThreeDays(t *testing.T) {
	p := DefaultRetryPolicy
	var total time.Duration
	for n := 1; n < p.MaxAttempts; n++ {
		total += p.BaseDelay(n)
	}
	if total < 60*time.Hour || total > 84*time.Hour {
		t.Errorf("last attempt %v after the first, want about 3 days", total)
	}
}

func TestDecide(t *testing.T) {
	p := RetryPolicy{InitialDelay: Duration(10 * time.Second), Multiplier: 2, MaxDelay: Duration(time.Hour), MaxAttempts: 3, Jitter: 0}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		a          Attempt
		action     ClientErrorAction
		retryAfter string
		want       Verdict
		wantDelay  time.Duration
	}{
		{"2xx", Attempt{Number: 1, StatusCode: 204}, "", "", VerdictSucceeded, 0},
		{"5xx retries", Attempt{Number: 1, StatusCode: 500}, "", "", VerdictRetry, 10 * time.Second},
		{"timeout retries", Attempt{Number: 2, Error: "no response"}, "", "", VerdictRetry, 20 * time.Second},
		{"last attempt", Attempt{Number: 3, StatusCode: 502}, "", "", VerdictDead, 0},
		{"410", Attempt{Number: 1, StatusCode: 410}, "", "", VerdictGone, 0},
		{"4xx retried by default", Attempt{Number: 1, StatusCode: 404}, "", "", VerdictRetry, 10 * time.Second},
		{"4xx dead when configured", Attempt{Number: 1, StatusCode: 400}, ClientErrorDeadLetter, "", VerdictDead, 0},
		{"408 still retried", Attempt{Number: 1, StatusCode: 408}, ClientErrorDeadLetter, "", VerdictRetry, 10 * time.Second},
		{"429 Retry-After seconds", Attempt{Number: 1, StatusCode: 429}, ClientErrorDeadLetter, "120", VerdictRetry, 2 * time.Minute},
		{"503 Retry-After date", Attempt{Number: 1, StatusCode: 503}, "", now.Add(90 * time.Second).Format(http.TimeFormat), VerdictRetry, 90 * time.Second},
		{"Retry-After capped at max delay", Attempt{Number: 1, StatusCode: 429}, "", "86400", VerdictRetry, time.Hour},
		{"Retry-After at least 1s", Attempt{Number: 1, StatusCode: 429}, "", "0", VerdictRetry, time.Second},
		{"Retry-After ignored on 500", Attempt{Number: 1, StatusCode: 500}, "", "120", VerdictRetry, 10 * time.Second},
		{"garbage Retry-After", Attempt{Number: 1, StatusCode: 429}, "soon", "", VerdictRetry, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.a, p, tt.action, tt.retryAfter, now, 0.5)
			if d.Verdict != tt.want || d.Delay != tt.wantDelay {
				t.Errorf("Decide = %+v, want verdict %d delay %v", d, tt.want, tt.wantDelay)
			}
			if (d.Verdict == VerdictDead || d.Verdict == VerdictGone) && d.Reason == "" {
				t.Error("final verdict without a reason")
			}
		})
	}
}

func TestRetryPolicyJSONAndDefaults(t *testing.T) {
	var p RetryPolicy
	if err := json.Unmarshal([]byte(`{"initial_delay":"30s","max_attempts":5}`), &p); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	got := p.Over(DefaultRetryPolicy)
	if time.Duration(got.InitialDelay) != 30*time.Second || got.MaxAttempts != 5 || got.Multiplier != 4 || got.MaxDelay != DefaultRetryPolicy.MaxDelay {
		t.Errorf("Over = %+v", got)
	}
	b, _ := json.Marshal(RetryPolicy{InitialDelay: Duration(time.Minute)})
	if string(b) != `{"initial_delay":"1m0s"}` {
		t.Errorf("Marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"initial_delay":5}`), &p); err == nil {
		t.Error("numeric duration accepted")
	}
	for _, bad := range []RetryPolicy{
		{InitialDelay: Duration(time.Millisecond)},
		{Multiplier: 0.5},
		{MaxAttempts: 101},
		{Jitter: 1.5},
		{InitialDelay: Duration(time.Hour), MaxDelay: Duration(time.Minute)},
		{MaxDelay: Duration(8 * 24 * time.Hour)},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", bad)
		}
	}
}
