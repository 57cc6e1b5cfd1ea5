package devstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The fault test's shape: a few hundred events, fed steadily so that the
// faults land while events are in flight; the disable threshold of the
// dispatcher low, so the doomed endpoint is disabled within seconds.
const (
	faultEvents      = 300
	faultFeedEvery   = 25 * time.Millisecond
	faultDisableAt   = 5
	faultFreeze      = 3 * time.Second
	faultFlakyPeriod = 4 * time.Second
	// faultKillWindow is how long before a kill a request may have been in
	// flight, its 2xx not yet recorded: generous for a loaded 2-core box.
	faultKillWindow = 10 * time.Second
	// faultRecordLostWindow is how long before a kill an endpoint's 2xx
	// may have come whose record the killed dispatcher still held: the
	// flush interval (100 ms) and one batched write, generous for a loaded
	// 2-core box (README, "Records written after the acknowledgement").
	faultRecordLostWindow = 2 * time.Second
	// faultSettle bounds each wait for deliveries to settle.
	faultSettle = 60 * time.Second
)

// faultTypes are the event types sent in turn. Besides the steady endpoint
// (all of them), orders, doomed and flaky subscribe to one each: every
// event goes to two endpoints, which keeps the run short on 2 cores.
var faultTypes = []string{"order.created", "user.updated", "invoice.paid"}

// TestPromisesHoldUnderFaults is issue 11's fault test. In one run it
// sends faultEvents events to four endpoints — steady (all events, 2xx),
// flaky (invoice.*, 500 for a few seconds, then 2xx), doomed (user.*, 500
// until auto-disabled) and orders (order.*, disabled through the API while
// events wait for a killed dispatcher) — kills the dispatcher twice, freezes the Pub/Sub emulator,
// then re-enables the endpoints and replays the dead letters with
// concurrent single and bulk replays. It asserts that:
//   - every accepted event ends delivered or a dead letter with its
//     history for every endpoint that was active and subscribed when it
//     was accepted; one disabled since is dead saying so; one whose
//     endpoint answered 2xx just before a kill may have no record, which
//     the killed dispatcher held for after the acknowledgement (README,
//     "Records written after the acknowledgement"), and is counted apart;
//   - every dead letter is replayed exactly once, then delivered;
//   - every request carries the event's and endpoint's webhook-id, and a
//     second 2xx for one comes only after a kill interrupted the first.
func TestPromisesHoldUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := newFaultRun(ctx, t)
	events, refused := r.sendWithFaults(ctx)

	// Phase 1: every delivery an accepted event needs ends succeeded or dead.
	var p problems
	settleStart := time.Now()
	views, needs := settleDeliveries(ctx, r.c, r.key, events, r.eps, r.watch, r.kills)
	phase1 := checkSettled(&p, events, r.eps, needs, views, r.watch, r.kills)
	settleTime := time.Since(settleStart)

	// Phase 2: heal and re-enable, then replay every dead letter once. An
	// event just before, as with traffic flowing, leaves the dispatcher's
	// endpoint cache holding the endpoints disabled when the replays come.
	r.warmUp(ctx)
	r.doomedHealed.Store(true)
	for id := range r.watch.disabled() {
		if err := r.c.Do(ctx, http.MethodPatch, "/v1/tenants/"+faultTenant+"/endpoints/"+id, r.key, map[string]any{"enabled": true}, nil); err != nil {
			t.Fatalf("enable endpoint %s: %v", id, err)
		}
	}
	replayStart := time.Now()
	rep := replayAll(ctx, t, &p, r.c, r.key)
	replayTime := time.Since(replayStart)

	// Every request's webhook-id, and duplicates only from kills.
	var dups, fromCrash int
	for _, ep := range r.eps {
		d, fc := duplicateCheck(&p, ep, r.kills, faultKillWindow, replayStart)
		dups, fromCrash = dups+d, fromCrash+fc
	}
	p.report(t.Errorf)

	accepted := 0
	for _, ev := range events {
		if !ev.Accepted.IsZero() {
			accepted++
		}
	}
	t.Logf("fault run: %d events accepted in %v (POSTs refused and sent again: %v), 2 kills at +%v and +%v, Pub/Sub frozen %v at +%v; "+
		"settled in %v: %s; dead letters %d, replayed singly %d + in bulk %d+%d, ended succeeded %d, in %v; "+
		"2xx duplicates %d, after a kill %d; disabled: %v",
		accepted, r.sendTime.Round(time.Millisecond), refused,
		r.kills[0].at.Sub(r.start).Round(time.Millisecond), r.kills[1].at.Sub(r.start).Round(time.Millisecond),
		faultFreeze, r.freezeAt.Sub(r.start).Round(time.Millisecond),
		settleTime.Round(time.Millisecond), phase1, rep.dead, rep.single, rep.bulk[0], rep.bulk[1], rep.succeeded, replayTime.Round(time.Millisecond),
		dups, fromCrash, r.watch.disabled())
}

// faultRun is the fault test's stack, tenant, endpoints and what the
// sending phase did.
type faultRun struct {
	t      *testing.T
	stack  *Stack
	pubsub *Emulator
	c      *Client
	key    string
	// eps are steady, flaky, doomed and orders, in this order.
	eps          []*faultEndpoint
	doomedHealed atomic.Bool
	watch        *endpointWatch
	sender       *eventSender

	start, freezeAt time.Time
	sendTime        time.Duration
	kills           []faultKill
}

// faultTenant is the fault test's one tenant.
const faultTenant = "fault"

// newFaultRun starts the stack with its own Pub/Sub emulator (to freeze
// it without stalling other packages' tests; Firestore is the shared one),
// creates the tenant and the four endpoints.
func newFaultRun(ctx context.Context, t *testing.T) *faultRun {
	t.Helper()
	stack, _ := startTestStackWith(t, func(cfg *StackConfig) {
		cfg.PubSubHost = ""
		cfg.EmulatorOutput = io.Discard // a line per push: too much for the test log
		cfg.Env = []string{
			fmt.Sprintf("HOOKRUN_DISABLE_AFTER_DEAD_LETTERS=%d", faultDisableAt),
			// Shorter than the freeze, so some POSTs are refused (503)
			// and sent again with their id.
			"HOOKRUN_PUBLISH_TIMEOUT=1s",
		}
	})
	r := &faultRun{t: t, stack: stack, pubsub: stack.Emulator("pubsub"), c: &Client{BaseURL: stack.IngestURL, HTTP: &http.Client{Timeout: 30 * time.Second}}}
	if r.pubsub == nil {
		t.Fatal("the stack has no Pub/Sub emulator of its own to freeze")
	}
	t.Cleanup(r.pubsub.Resume) // before the stack stops, whatever happened
	r.key = createTestTenant(ctx, t, stack, faultTenant, "Fault")

	var flakyUntil time.Time // set at the flaky receiver's first request
	ok := func(string, int) int { return http.StatusOK }
	r.eps = []*faultEndpoint{
		r.newEndpoint(ctx, "steady", []string{"*"}, nil, ok),
		r.newEndpoint(ctx, "flaky", []string{"invoice.*"},
			// Outlasts faultFlakyPeriod and the faults: about 13 s of retries.
			map[string]any{"initial_delay": "1s", "multiplier": 2, "max_delay": "2s", "max_attempts": 8, "jitter": 0.1},
			func(string, int) int {
				if flakyUntil.IsZero() {
					flakyUntil = time.Now().Add(faultFlakyPeriod)
				}
				if time.Now().Before(flakyUntil) {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			}),
		r.newEndpoint(ctx, "doomed", []string{"user.*"},
			map[string]any{"initial_delay": "1s", "max_attempts": 2, "jitter": 0.1},
			func(string, int) int {
				if r.doomedHealed.Load() {
					return http.StatusOK
				}
				return http.StatusInternalServerError
			}),
		r.newEndpoint(ctx, "orders", []string{"order.*"}, nil, ok),
	}
	r.watch = newEndpointWatch(r.c, r.key, faultTenant)
	return r
}

// sendWithFaults sends the events while the faults happen, in this order:
// 0–59 flow; the dispatcher is killed and stays down while 60–89 are
// accepted; the orders endpoint is disabled through the API with those
// still waiting, and 90–109 are accepted while it is; the dispatcher comes
// back; the Pub/Sub emulator freezes while 110–199 flow; the dispatcher is
// killed and started again at once while 200–299 flow. It returns the
// events once the doomed endpoint has disabled itself and the endpoint
// watch has seen every status it needs.
func (r *faultRun) sendWithFaults(ctx context.Context) ([]sentEvent, map[string]int) {
	t := r.t
	t.Helper()
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Go(func() { r.watch.watch(watchCtx, 200*time.Millisecond) })
	defer func() { stopWatch(); watching.Wait() }()
	r.sender = newEventSender(ctx, r.c, r.key, faultEvents, 4, faultTypes)
	settled := func(n int) {
		t.Helper()
		if err := r.sender.waitSettled(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	look := func() {
		t.Helper()
		if err := r.watch.look(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.start = time.Now()
	r.sender.feed(ctx, 0, 60, faultFeedEvery)
	settled(60)

	r.kill(ctx, false)
	r.sender.feed(ctx, 60, 90, faultFeedEvery)
	settled(90)
	look() // orders was active after 60–89 were accepted
	if err := r.c.Do(ctx, http.MethodPatch, "/v1/tenants/"+faultTenant+"/endpoints/"+r.eps[3].id, r.key, map[string]any{"enabled": false}, nil); err != nil {
		t.Fatalf("disable orders endpoint: %v", err)
	}
	look()
	r.sender.feed(ctx, 90, 110, faultFeedEvery)
	settled(110)
	r.restart(ctx)

	go r.sender.feed(ctx, 110, 200, faultFeedEvery)
	settled(130)
	r.freezeAt = time.Now()
	func() {
		r.pubsub.Pause()
		defer r.pubsub.Resume()
		select {
		case <-time.After(faultFreeze): // the fault's length, not a wait for something
		case <-ctx.Done():
		}
	}()
	settled(200)

	go r.sender.feed(ctx, 200, faultEvents, faultFeedEvery)
	settled(240)
	r.kill(ctx, true)
	settled(faultEvents)
	r.sender.close()
	r.sendTime = time.Since(r.start)
	events, refused, failed := r.sender.snapshot()
	for _, f := range failed {
		t.Errorf("not accepted: %s", f)
	}

	// The doomed endpoint disables itself after faultDisableAt dead
	// letters; then every endpoint still active was so for every event.
	doomed := r.eps[2].id
	dctx, cancel := context.WithTimeout(ctx, faultSettle)
	defer cancel()
	if err := r.watch.waitDisabled(dctx, doomed); err != nil {
		t.Errorf("doomed endpoint after %d dead letters in a row: %v", faultDisableAt, err)
	}
	look()
	for _, o := range r.watch.oddities() {
		t.Errorf("endpoint status: %s", o)
	}
	return events, refused
}

// warmUp sends one more event, to the steady and doomed endpoints, and
// waits until the steady one has it: the dispatcher has just read the
// endpoints, the doomed one disabled.
func (r *faultRun) warmUp(ctx context.Context) {
	t := r.t
	t.Helper()
	const id = "fault-warm-up"
	if _, err := r.c.SendEvent(ctx, r.key, id, "user.updated", map[string]any{}); err != nil {
		t.Fatalf("send %s: %v", id, err)
	}
	if err := r.eps[0].rc.waitUntil(ctx, id+" at the steady endpoint", func(m map[string][]scriptedReq) bool { return len(m[id]) > 0 }); err != nil {
		t.Fatal(err)
	}
}

// kill kills the dispatcher with SIGKILL and, if restart, starts it again
// at once.
func (r *faultRun) kill(ctx context.Context, restart bool) {
	r.t.Helper()
	r.kills = append(r.kills, faultKill{at: time.Now()})
	if err := r.stack.Kill(ctx, "dispatcher"); err != nil {
		r.t.Fatalf("kill dispatcher: %v", err)
	}
	if restart {
		r.restart(ctx)
	}
}

// restart starts the killed dispatcher again.
func (r *faultRun) restart(ctx context.Context) {
	r.t.Helper()
	r.kills[len(r.kills)-1].restarted = time.Now()
	if err := r.stack.StartService(ctx, "dispatcher"); err != nil {
		r.t.Fatalf("start dispatcher again: %v", err)
	}
}

// newEndpoint starts a receiver answering status(eventID, n) and creates
// an active endpoint for it.
func (r *faultRun) newEndpoint(ctx context.Context, name string, types []string, policy map[string]any,
	status func(eventID string, n int) int) *faultEndpoint {
	t := r.t
	t.Helper()
	rc, u := newScripted(t, func(eventID string, n int) (int, http.Header) { return status(eventID, n), nil })
	body := map[string]any{"url": u + "?" + name, "event_types": types, "description": "fault test: " + name}
	if policy != nil {
		body["retry_policy"] = policy
	}
	var ep hookrun.Endpoint
	if err := r.c.Do(ctx, http.MethodPost, "/v1/tenants/"+faultTenant+"/endpoints", r.key, body, &ep); err != nil {
		t.Fatalf("create %s endpoint: %v", name, err)
	}
	if ep.Status != hookrun.EndpointActive {
		t.Fatalf("%s endpoint is %s (%s), want active", name, ep.Status, ep.VerificationError)
	}
	f, err := hookrun.ParsePatterns(types)
	if err != nil {
		t.Fatal(err)
	}
	return &faultEndpoint{name: name, id: ep.ID, filter: f, rc: rc}
}
