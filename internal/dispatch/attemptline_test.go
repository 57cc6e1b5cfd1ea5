package dispatch_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging/logtest"
)

// TestAttemptLogLine: each attempt's line names the delivery and its
// outcome; a failed one (WARNING) says why and when the next attempt is,
// and a success carries none of the fields it has no value for.
func TestAttemptLogLine(t *testing.T) {
	logs := logtest.Capture(t)
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	flaky := newReceiver(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusInternalServerError, "down"
		}
		return http.StatusOK, "ok"
	})
	ep, _ := e.addEndpoint(t, "acme", flaky.url(), []string{"*"})
	ev := userCreated("evt_log")
	wantAck(t, e.push(t, apiMessage("3001", ev)))
	tasks := e.scheduler.scheduled()
	if len(tasks) != 1 {
		t.Fatalf("%d retry tasks, want 1", len(tasks))
	}
	wantAck(t, e.runTask(t, tasks[0]))

	var lines []map[string]any
	for _, l := range logs.Lines(t) {
		if l["message"] == "delivery attempt" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d attempt lines, want 2: %v", len(lines), lines)
	}
	always := []string{"tenant_id", "event_id", "event_type", "endpoint_id", "webhook_id", "attempt", "status", "latency_ms", "state"}
	for i, want := range []struct {
		severity, state string
		status          float64
		with, without   []string
	}{
		{"WARNING", string(hookrun.DeliveryRetrying), 500, []string{"error", "next_attempt_time"}, []string{"chain", "dead_reason"}},
		{"INFO", string(hookrun.DeliverySucceeded), 200, nil, []string{"chain", "error", "next_attempt_time", "dead_reason"}},
	} {
		l := lines[i]
		for _, k := range append(slices.Clone(always), want.with...) {
			if _, ok := l[k]; !ok {
				t.Errorf("attempt %d: no %s in %v", i+1, k, l)
			}
		}
		for _, k := range want.without {
			if v, ok := l[k]; ok {
				t.Errorf("attempt %d: %s = %v, want it left out", i+1, k, v)
			}
		}
		if l["severity"] != want.severity || l["state"] != want.state || l["status"] != want.status ||
			l["attempt"] != float64(i+1) || l["endpoint_id"] != ep.ID || l["event_id"] != ev.ID {
			t.Errorf("attempt %d: %v, want %s, %s, status %v, attempt %d of %s to %s", i+1, l, want.severity, want.state, want.status, i+1, ev.ID, ep.ID)
		}
	}
}
