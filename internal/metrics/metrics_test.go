package metrics_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
)

// Every helper lands on its instrument with its label, under the name the
// README's Metrics table gives (Prometheus's spelling of the OTel name).
func TestRecorderExportsEachInstrument(t *testing.T) {
	rec, url := metricstest.Serve(t)
	ctx := t.Context()
	rec.EventAccepted(ctx, metrics.SourceAPI)
	rec.EventAccepted(ctx, metrics.SourceTopic)
	rec.EventRefused(ctx, hookrun.Errorf(hookrun.CodeInvalidArgument, "bad"))
	rec.EventRefused(ctx, errors.New("no code"))
	rec.MessageRejected(ctx)
	rec.Attempt(ctx, 204, 10*time.Millisecond)
	rec.Attempt(ctx, 0, 2*time.Second)
	rec.Delivery(ctx, metrics.OutcomeDead)
	rec.Delivered(ctx, time.Unix(100, 0), time.Unix(103, 0))
	rec.RetryScheduled(ctx)
	rec.EndpointDisabled(ctx, hookrun.DisabledByGone)
	rec.DependencyError(ctx, metrics.Firestore)

	got := metricstest.Scrape(t, url).Hookrun()
	want := metricstest.Samples{
		`hookrun_events_accepted_total{source="api"}`:             1,
		`hookrun_events_accepted_total{source="topic"}`:           1,
		`hookrun_events_refused_total{reason="INVALID_ARGUMENT"}`: 1,
		`hookrun_events_refused_total{reason="INTERNAL"}`:         1,
		`hookrun_messages_rejected_total`:                         1,
		`hookrun_attempts_total{status_class="2xx"}`:              1,
		`hookrun_attempts_total{status_class="error"}`:            1,
		`hookrun_attempt_duration_seconds_count`:                  2,
		`hookrun_attempt_duration_seconds_sum`:                    2.01,
		`hookrun_deliveries_total{outcome="dead"}`:                1,
		`hookrun_delivery_latency_seconds_count`:                  1,
		`hookrun_delivery_latency_seconds_sum`:                    3,
		`hookrun_retries_scheduled_total`:                         1,
		`hookrun_endpoints_disabled_total{reason="gone"}`:         1,
		`hookrun_dependency_errors_total{dependency="firestore"}`: 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("scraped:\n%v\nwant:\n%v", got, want)
	}
}

// A nil Recorder is how code without metrics runs: every helper is safe.
func TestNilRecorderRecordsNothing(t *testing.T) {
	var rec *metrics.Recorder
	ctx := t.Context()
	rec.EventAccepted(ctx, metrics.SourceAPI)
	rec.EventRefused(ctx, errors.New("x"))
	rec.MessageRejected(ctx)
	rec.Attempt(ctx, 500, time.Second)
	rec.Delivery(ctx, metrics.OutcomeRetrying)
	rec.Delivered(ctx, time.Now(), time.Now())
	rec.RetryScheduled(ctx)
	rec.EndpointDisabled(ctx, hookrun.DisabledByAPI)
	rec.DependencyError(ctx, metrics.PubSub)
	if opts := rec.ClientOptions(metrics.PubSub); opts != nil {
		t.Errorf("ClientOptions on nil = %v, want none", opts)
	}
}

func TestStatusClass(t *testing.T) {
	for _, c := range []struct {
		status int
		want   string
	}{{0, "error"}, {99, "error"}, {200, "2xx"}, {301, "3xx"}, {410, "4xx"}, {503, "5xx"}, {600, "error"}} {
		if got := metrics.StatusClass(c.status); got != c.want {
			t.Errorf("StatusClass(%d) = %q, want %q", c.status, got, c.want)
		}
	}
}

func TestDependencyFailed(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"success", nil, false},
		{"not found is an answer", status.Error(codes.NotFound, "x"), false},
		{"already exists is an answer", status.Error(codes.AlreadyExists, "x"), false},
		{"transaction contention", status.Error(codes.Aborted, "x"), false},
		{"caller gave up", status.Error(codes.Canceled, "x"), false},
		{"unavailable", status.Error(codes.Unavailable, "x"), true},
		{"deadline", status.Error(codes.DeadlineExceeded, "x"), true},
		{"permission denied", status.Error(codes.PermissionDenied, "x"), true},
		{"overloaded", status.Error(codes.ResourceExhausted, "x"), true},
		{"not a status", errors.New("connection reset"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := metrics.DependencyFailed(c.err); got != c.want {
				t.Errorf("DependencyFailed(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		exporter string
		ok       bool
	}{{"", true}, {"none", true}, {"gcp", true}, {"otlp", false}, {"prometheus", false}} {
		err := metrics.Config{Exporter: c.exporter}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", c.exporter, err, c.ok)
		}
	}
}
