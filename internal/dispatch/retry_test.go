package dispatch_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

// shortPolicy makes retries quick to reason about: 3 attempts, no jitter.
var shortPolicy = hookrun.RetryPolicy{InitialDelay: hookrun.Duration(10 * time.Second), Multiplier: 2,
	MaxDelay: hookrun.Duration(time.Hour), MaxAttempts: 3, Jitter: 0.0001}

func (e *env) addTenantWithPolicy(id string, p hookrun.RetryPolicy) {
	e.store.putTenant(hookrun.Tenant{ID: id, Name: id, Status: hookrun.TenantActive, RetryPolicy: p})
}

func alwaysStatus(code int) func(int) (int, string) {
	return func(int) (int, string) { return code, "nope" }
}

// runAll runs the scheduled tasks one by one, as Cloud Tasks would at
// their times, until none is left that has not run.
func (e *env) runAll(t *testing.T) []scheduledTask {
	t.Helper()
	var ran []scheduledTask
	for i := 0; i < 50; i++ {
		tasks := e.scheduler.scheduled()
		if len(ran) == len(tasks) {
			return ran
		}
		next := tasks[len(ran)]
		wantAck(t, e.runTask(t, next))
		ran = append(ran, next)
	}
	t.Fatal("tasks keep being scheduled")
	return nil
}

func TestRetriesUntilSuccessThenStop(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, func(n int) (int, string) {
		if n <= 2 {
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusOK, "ok"
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_r1")
	start := time.Now()
	wantAck(t, e.push(t, apiMessage("1", ev)))
	ran := e.runAll(t)

	if len(ran) != 2 {
		t.Fatalf("%d retry tasks ran, want 2", len(ran))
	}
	// Delays follow the policy: 10s then 20s (jitter ~0).
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second} {
		if got := ran[i].at.Sub(start); got < want-time.Second || got > want+5*time.Second {
			t.Errorf("retry %d scheduled %v after the first attempt, want about %v", i+1, got, want)
		}
	}
	d, attempts, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliverySucceeded || len(attempts) != 3 || len(rc.requests()) != 3 {
		t.Errorf("delivery %s after %d attempts (%d requests), want succeeded after 3", d.State, len(attempts), len(rc.requests()))
	}
	ids := map[string]bool{}
	for _, r := range rc.requests() {
		ids[r.header.Get(signature.HeaderID)] = true
	}
	if len(ids) != 1 {
		t.Errorf("webhook-id differs across attempts: %v", ids)
	}
	if n := len(e.deadLetters.published()); n != 0 {
		t.Errorf("%d dead letters for a delivery that succeeded", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	rc := newReceiver(t, alwaysStatus(http.StatusTooManyRequests))
	rc.header = http.Header{"Retry-After": {"120"}}
	e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	start := time.Now()
	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_429"))))
	tasks := e.scheduler.scheduled()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	if got := tasks[0].at.Sub(start); got < 119*time.Second || got > 125*time.Second {
		t.Errorf("retry after %v, want the receiver's Retry-After of 120s", got)
	}
}

func TestFollowUpFailuresAreRetriedByRedelivery(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	rc := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_announce")
	msg := apiMessage("1", ev)

	e.deadLetters.err = errors.New("pubsub down")
	wantNack(t, e.push(t, msg))
	e.deadLetters.err = nil
	wantAck(t, e.push(t, msg))
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); !d.Announced || len(e.deadLetters.published()) != 1 {
		t.Errorf("dead letter announced=%v, %d messages; want announced once", d.Announced, len(e.deadLetters.published()))
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1: redelivery only finishes the follow-up", n)
	}

	// Scheduling failure: nack, and the redelivery schedules.
	e2 := newEnv(t, localConfig)
	e2.addTenantWithPolicy("acme", shortPolicy)
	e2.addEndpoint(t, "acme", rc.url(), []string{"*"})
	e2.scheduler.err = errors.New("cloud tasks down")
	wantNack(t, e2.push(t, msg))
	e2.scheduler.err = nil
	wantAck(t, e2.push(t, msg))
	if n := len(e2.scheduler.scheduled()); n != 1 {
		t.Errorf("%d tasks after the redelivery, want 1", n)
	}
}

// A retry of an event too large for its task reads the event back: the
// one ingest recorded, or, when ingest's record (written after its 202)
// is not there yet or was lost with its instance, the one the dispatcher
// kept when the first attempt failed.
func TestLargeEventIsReadBackForRetries(t *testing.T) {
	for _, recorded := range []bool{true, false} {
		t.Run(fmt.Sprintf("recorded by ingest %v", recorded), func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenantWithPolicy("acme", shortPolicy)
			n := 0
			rc := newReceiver(t, func(int) (int, string) {
				n++
				if n == 1 {
					return 500, ""
				}
				return 200, ""
			})
			ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
			ev := userCreated("evt_big")
			ev.Data = []byte(`{"blob":"` + strings.Repeat("x", 100<<10) + `"}`)
			if recorded {
				e.store.putEvent(t, ev)
			}
			wantAck(t, e.push(t, apiMessage("1", ev)))
			tasks := e.scheduler.scheduled()
			if len(tasks) != 1 || len(tasks[0].body) > 4<<10 {
				t.Fatalf("task body is %d bytes, want a reference, not the 100 KiB event", len(tasks[0].body))
			}
			wantAck(t, e.runTask(t, tasks[0]))
			reqs := rc.requests()
			if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliverySucceeded || len(reqs) != 2 || string(reqs[1].body) != string(reqs[0].body) {
				t.Errorf("retry of a large event: state %s, %d requests; want succeeded with the same body", d.State, len(reqs))
			}
		})
	}
}
