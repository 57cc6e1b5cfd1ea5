package dispatch_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// pathCounts is what one step of an event's path costs the dispatcher:
// its store calls by method, and its Pub/Sub publishes and Cloud Tasks.
type pathCounts struct {
	store     map[string]int
	publishes int
	tasks     int
}

// costEnv is a dispatcher with one tenant and one endpoint, warmed by one
// delivered event, so that what a step costs is what it costs on a busy
// instance: tenant cached, endpoint list cached and confirmed within the
// endpoint change delay. The delay is the longest allowed rather than the
// default 1 s, so that no background check of the list (one every half
// delay under steady traffic, shared by the events of that time: the
// table's notes count it) falls within a step on a slow machine.
type costEnv struct {
	*env
	cs *countingStore
	rc *receiver
	ep hookrun.Endpoint
	// published and scheduled are the counts before the step.
	published, scheduled int
}

func newCostEnv(t *testing.T, policy hookrun.RetryPolicy, respond func(n int) (int, string)) *costEnv {
	e, cs := newCountingEnv(t, changeDelayConfig(10*time.Second))
	e.addTenantWithPolicy("acme", policy)
	calls := 0
	warm := func(n int) (int, string) {
		calls++
		if calls == 1 {
			return http.StatusNoContent, ""
		}
		return respond(calls - 1)
	}
	rc := newReceiver(t, warm)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	wantAck(t, e.push(t, apiMessage("warm", nowEvent("evt_warm"))))
	c := &costEnv{env: e, cs: cs, rc: rc, ep: ep}
	c.take()
	return c
}

// take returns the counts since the last take.
func (c *costEnv) take() pathCounts {
	pub := len(c.deadLetters.published()) + len(c.events.published())
	sched := len(c.scheduler.scheduled())
	p := pathCounts{store: c.cs.take(), publishes: pub - c.published, tasks: sched - c.scheduled}
	c.published, c.scheduled = pub, sched
	return p
}

// measurePaths runs one event through each path the README's "Cost and
// scale" table has a row for, and returns each step's counts.
func measurePaths(t *testing.T) map[string]pathCounts {
	out := map[string]pathCounts{}

	ok := newCostEnv(t, hookrun.RetryPolicy{}, func(int) (int, string) { return http.StatusNoContent, "" })
	wantAck(t, ok.push(t, apiMessage("m1", nowEvent("evt_1"))))
	out["delivered first time"] = ok.take()

	retried := newCostEnv(t, hookrun.RetryPolicy{MaxAttempts: 3}, func(n int) (int, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusNoContent, ""
	})
	wantAck(t, retried.push(t, apiMessage("m1", nowEvent("evt_1"))))
	out["first attempt failed"] = retried.take()
	tasks := retried.scheduler.scheduled()
	wantAck(t, retried.runTask(t, tasks[len(tasks)-1]))
	out["retried, delivered"] = retried.take()

	works := false
	dead := newCostEnv(t, hookrun.RetryPolicy{MaxAttempts: 1}, func(int) (int, string) {
		if works {
			return http.StatusNoContent, ""
		}
		return http.StatusInternalServerError, ""
	})
	ev := nowEvent("evt_1")
	dead.store.putEvent(t, ev)
	wantAck(t, dead.push(t, apiMessage("m1", ev)))
	out["dead-lettered"] = dead.take()

	// The replay of that dead letter by a replay job, the endpoint fixed.
	f, _ := json.Marshal(hookrun.DeadLetterFilter{EndpointID: dead.ep.ID})
	job := message{id: "job-1", data: f, publishTime: time.Now(), attrs: map[string]string{
		wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayDeadLetters, wire.AttrChain: "rp_job"}}
	works = true
	wantAck(t, dead.push(t, job))
	out["replayed"] = dead.take()
	return out
}

// firestoreOps is what one call of a store method costs in Firestore's
// billed document reads and writes, for one event, one endpoint and one
// dead letter (internal/firestore: a transaction's Get is a read, each
// document it writes a write; an endpoint change also writes the list's
// version).
var firestoreOps = map[string]struct{ reads, writes int }{
	"GetTenant":        {1, 0},
	"EndpointsChanged": {1, 0},
	"GetDeliveries":    {1, 0}, // one per endpoint asked for
	"RecordAttempt":    {0, 1},
	"SetDeliveryState": {0, 1},
	"GetEvent":         {1, 0},
	"GetEndpoint":      {1, 0},
	"CountDeadInARow":  {1, 4}, // the mark, the delivery, the endpoint and the version; the count read back
	"ResetDeadInARow":  {1, 2}, // when not zero already (no write then)
	"MarkAnnounced":    {0, 1},
	"SaveEvent":        {0, 1},
	"ClaimDeadLetters": {1, 1}, // one of each per dead letter claimed
	"EachReplayClaim":  {1, 0}, // one per dead letter claimed
	"StartReplay":      {1, 1},
	"UpdateReplay":     {1, 1},
	"DisableEndpoint":  {2, 4}, // the change, then the second stamp
}

// costRows are the rows of the README's per-path table the dispatcher's
// steps fill: the step measured, whether a Pub/Sub push started it (one
// message) and whether a Cloud Tasks task did (one operation, besides the
// tasks it creates).
var costRows = []struct {
	row, step        string
	pushed, fromTask bool
}{
	{"delivered first time", "delivered first time", true, false},
	{"first attempt failed, retry scheduled", "first attempt failed", true, false},
	{"retried (each scheduled attempt)", "retried, delivered", false, true},
	{"dead-lettered (last attempt failed)", "dead-lettered", true, false},
	{"replayed (one dead letter, by a replay job)", "replayed", true, false},
}

// The README's "Cost and scale" table says what each path costs: this
// counts it on the dispatcher's code as it is. A change that makes a path
// cheaper or dearer fails here until the table (and its prices below it)
// says so.
func TestREADMECostTableIsTheCode(t *testing.T) {
	measured := measurePaths(t)
	rows := testenv.CostTable(t)
	for _, r := range costRows {
		c := measured[r.step]
		var want testenv.CostRow
		for method, n := range c.store {
			ops, ok := firestoreOps[method]
			if !ok {
				t.Fatalf("%s calls %s, which firestoreOps does not price: add it", r.step, method)
			}
			want[0] += n * ops.reads
			want[1] += n * ops.writes
		}
		want[2] = c.publishes + b2i(r.pushed)
		want[3] = c.tasks + b2i(r.fromTask)
		got, ok := rows[r.row]
		if !ok {
			t.Errorf("README.md cost table has no row %q", r.row)
			continue
		}
		if got != want {
			t.Errorf("README.md cost row %q says %v (reads, writes, messages, task operations); the code makes %v (store calls %v): update the table and its costs", r.row, got, want, c.store)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
