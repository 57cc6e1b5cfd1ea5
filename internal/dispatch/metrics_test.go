package dispatch_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
)

// After a run of deliveries, the dispatcher's Prometheus endpoint shows
// each counter with the value the run makes: one endpoint that succeeds,
// one that fails once and then succeeds, one that fails until its delivery
// is dead, one that answers 410 Gone, a message from another publisher on
// the topic, and one that is rejected.
func TestMetricsAfterARun(t *testing.T) {
	rec, url := metricstest.Serve(t)
	e := newEnv(t, localConfig, func(d *dispatch.Deps) { d.Metrics = rec })
	twoAttempts := shortPolicy
	twoAttempts.MaxAttempts = 2
	e.addTenantWithPolicy("acme", twoAttempts)
	e.addEndpoint(t, "acme", newReceiver(t, nil).url(), []string{"user.*"})
	flaky := newReceiver(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusInternalServerError, "once"
		}
		return http.StatusOK, ""
	})
	e.addEndpoint(t, "acme", flaky.url(), []string{"user.*"})
	e.addEndpoint(t, "acme", newReceiver(t, alwaysStatus(http.StatusServiceUnavailable)).url(), []string{"order.*"})
	gone, _ := e.addEndpoint(t, "acme", newReceiver(t, alwaysStatus(http.StatusGone)).url(), []string{"order.*"})

	// user.created: ok 200, flaky 500 (retry scheduled).
	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_m1"))))
	// order.paid: the failing endpoint 503 (retry scheduled), the gone
	// one 410 (dead, endpoint disabled).
	paid := userCreated("evt_m2")
	paid.Type = "order.paid"
	wantAck(t, e.push(t, apiMessage("2", paid)))
	// From another publisher on the topic: accepted by the dispatcher;
	// ok 200, flaky 200.
	topic := message{id: "3", data: []byte(`{"a":1}`), attrs: map[string]string{"tenant_id": "acme", "event_type": "user.updated"}, publishTime: paid.ReceivedAt}
	wantAck(t, e.push(t, topic))
	// No tenant: rejected.
	wantAck(t, e.push(t, message{id: "4", data: []byte(`{}`), attrs: map[string]string{"event_type": "user.updated"}, publishTime: paid.ReceivedAt}))
	// The retries: flaky 200; the failing endpoint 503 at its last
	// attempt, dead.
	if ran := e.runAll(t); len(ran) != 2 {
		t.Fatalf("%d retry tasks ran, want 2", len(ran))
	}
	if got := e.store.endpoint("acme", gone.ID).Status; got != hookrun.EndpointDisabled {
		t.Fatalf("the 410 endpoint is %s, want disabled", got)
	}

	got := metricstest.Scrape(t, url).Hookrun()
	for _, sum := range []string{"hookrun_attempt_duration_seconds_sum", "hookrun_delivery_latency_seconds_sum"} {
		if got[sum] <= 0 {
			t.Errorf("%s = %v, want a positive duration", sum, got[sum])
		}
		delete(got, sum)
	}
	want := metricstest.Samples{
		`hookrun_events_accepted_total{source="topic"}`:   1,
		`hookrun_messages_rejected_total`:                 1,
		`hookrun_attempts_total{status_class="2xx"}`:      4,
		`hookrun_attempts_total{status_class="4xx"}`:      1,
		`hookrun_attempts_total{status_class="5xx"}`:      3,
		`hookrun_attempt_duration_seconds_count`:          8,
		`hookrun_deliveries_total{outcome="succeeded"}`:   4,
		`hookrun_deliveries_total{outcome="retrying"}`:    2,
		`hookrun_deliveries_total{outcome="dead"}`:        2,
		`hookrun_delivery_latency_seconds_count`:          4,
		`hookrun_retries_scheduled_total`:                 2,
		`hookrun_endpoints_disabled_total{reason="gone"}`: 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("scraped:\n%v\nwant:\n%v", got, want)
	}
}
