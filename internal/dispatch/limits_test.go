package dispatch_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func TestRateLimitedDeliveriesWaitAsTasks(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) { ep.RateLimit = 1 })
	start := time.Now()
	for i := 0; i < 3; i++ {
		wantAck(t, e.push(t, apiMessage(fmt.Sprint(i), userCreated(fmt.Sprintf("evt_rl%d", i)))))
	}
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d requests at once, want 1 under a limit of 1/s", n)
	}
	tasks := e.scheduler.scheduled()
	if len(tasks) != 2 {
		t.Fatalf("%d deferred tasks, want 2", len(tasks))
	}
	for i, task := range tasks {
		want := time.Duration(i+1) * time.Second
		if got := task.at.Sub(start); got < want-200*time.Millisecond || got > want+time.Second {
			t.Errorf("deferred task %d due in %v, want about %v", i, got, want)
		}
	}
	for i := 1; i < 3; i++ {
		d, attempts, _ := e.store.delivery("acme", fmt.Sprintf("evt_rl%d", i), ep.ID)
		if d.State != hookrun.DeliveryRetrying || d.ChainAttempts != 0 || len(attempts) != 0 {
			t.Errorf("deferred delivery %d = %+v with %d attempts, want waiting with none counted", i, d, len(attempts))
		}
	}
	// A redelivered message schedules nothing twice.
	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_rl1"))))
	if n := len(e.scheduler.scheduled()); n != 2 {
		t.Errorf("%d tasks after a redelivery, want 2", n)
	}
	// A task that runs while the limit is still used up waits again, under
	// a task of its own.
	wantAck(t, e.runTask(t, tasks[1]))
	if n, m := len(rc.requests()), len(e.scheduler.scheduled()); n != 1 || m != 3 {
		t.Errorf("after an early task: %d requests, %d tasks; want 1 and 3", n, m)
	}
}

func TestEndpointDisabledAfterTooManyDeadLettersInARow(t *testing.T) {
	cfg := localConfig
	cfg.DisableAfterDead = 2
	e := newEnv(t, cfg)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	failing := true
	rc := newReceiver(t, func(int) (int, string) {
		if failing {
			return http.StatusInternalServerError, ""
		}
		return http.StatusOK, ""
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	send := func(id string) { wantAck(t, e.push(t, apiMessage(id, userCreated(id)))) }

	send("evt_d1") // dead: 1 in a row
	failing = false
	send("evt_ok") // success resets
	failing = true
	send("evt_d2") // dead: 1 in a row
	if got := e.store.endpoint("acme", ep.ID); got.Status != hookrun.EndpointActive {
		t.Fatalf("endpoint %s after dead letters separated by a success, want active", got.Status)
	}
	send("evt_d3") // dead: 2 in a row → disabled
	got := e.store.endpoint("acme", ep.ID)
	if got.Status != hookrun.EndpointDisabled || !strings.Contains(got.DisabledReason, "2 deliveries in a row") {
		t.Errorf("endpoint %s (%q), want disabled after 2 dead letters in a row", got.Status, got.DisabledReason)
	}
}
