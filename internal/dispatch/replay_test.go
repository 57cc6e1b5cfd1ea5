package dispatch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestReplayStartsAFreshChainWithTheSameWebhookID(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	works := false
	rc := newReceiver(t, func(int) (int, string) {
		if works {
			return 200, "ok"
		}
		return 500, "down"
	})
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	ev := userCreated("evt_replay")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if d, _, _ := e.store.delivery("acme", ev.ID, ep.ID); d.State != hookrun.DeliveryDead {
		t.Fatalf("delivery %s, want dead", d.State)
	}

	works = true
	replay := apiMessage("2", ev)
	replay.attrs[wire.AttrChain] = "rp_1"
	replay.attrs[wire.AttrEndpoint] = ep.ID
	wantAck(t, e.push(t, replay))
	wantAck(t, e.push(t, replay)) // redelivered replay: nothing more
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[0].header.Get(signature.HeaderID) != reqs[1].header.Get(signature.HeaderID) {
		t.Fatalf("%d requests, want 2 with one webhook-id", len(reqs))
	}
	d, attempts, _ := e.store.delivery("acme", ev.ID, ep.ID)
	if d.State != hookrun.DeliverySucceeded || d.Chain != "rp_1" || len(attempts) != 2 || attempts[1].Number != 1 || attempts[1].Chain != "rp_1" {
		t.Errorf("after replay: %+v with attempts %+v, want succeeded in chain rp_1, attempt 1", d, attempts)
	}
	// The original message redelivered now changes nothing.
	wantAck(t, e.push(t, apiMessage("1", ev)))
	if n := len(rc.requests()); n != 2 {
		t.Errorf("original redelivered after a replay sent again (%d requests)", n)
	}
}

func TestReplayJobReplaysMatchingDeadLettersOnce(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	works := false
	respond := func(int) (int, string) {
		if works {
			return 200, ""
		}
		return 500, ""
	}
	a, b := newReceiver(t, respond), newReceiver(t, respond)
	epA, _ := e.addEndpoint(t, "acme", a.url(), []string{"*"})
	e.addEndpoint(t, "acme", b.url(), []string{"*"})
	for i, id := range []string{"evt_j1", "evt_j2"} {
		ev := userCreated(id)
		e.store.putEvent(t, ev)
		wantAck(t, e.push(t, apiMessage(string(rune('1'+i)), ev)))
	}
	works = true
	f, _ := json.Marshal(hookrun.DeadLetterFilter{EndpointID: epA.ID})
	job := message{id: "job-1", data: f, publishTime: time.Now(), attrs: map[string]string{
		wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayDeadLetters, wire.AttrChain: "rp_job"}}
	wantAck(t, e.push(t, job))
	wantAck(t, e.push(t, job)) // redelivered job: nothing twice
	if n, m := len(a.requests()), len(b.requests()); n != 4 || m != 2 {
		t.Errorf("requests: endpoint A %d, B %d; want 4 (2 dead + 2 replayed once) and 2 (not in the filter)", n, m)
	}
	for _, id := range []string{"evt_j1", "evt_j2"} {
		if d, _, _ := e.store.delivery("acme", id, epA.ID); d.State != hookrun.DeliverySucceeded || d.Chain != "rp_job" {
			t.Errorf("%s on A: %s in chain %q, want succeeded in rp_job", id, d.State, d.Chain)
		}
	}
}

// seedReplay makes n dead letters of acme to ep, claims them for chain
// and records the replay as ingest does.
func (e *env) seedReplay(t *testing.T, ep hookrun.Endpoint, chain string, n int) {
	t.Helper()
	for i := range n {
		ev := userCreated(fmt.Sprintf("evt_p%03d", i))
		e.store.putEvent(t, ev)
		e.store.PutDelivery(hookrun.Delivery{TenantID: "acme", EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type,
			WebhookID: ev.ID, State: hookrun.DeliveryDead, DeadReason: "gave up", DeadAt: time.Now().Add(-time.Hour), Attempts: 1})
	}
	f := hookrun.DeadLetterFilter{EndpointID: ep.ID}
	claims, err := e.store.ClaimDeadLetters(t.Context(), "acme", f, chain, n, nil)
	if err != nil || claims.Claimed != int64(n) {
		t.Fatalf("ClaimDeadLetters = %+v, %v; want %d claimed", claims, err, n)
	}
	if err := e.store.CreateReplay(t.Context(), hookrun.NewReplay("acme", chain, f, claims, time.Now())); err != nil {
		t.Fatalf("CreateReplay: %v", err)
	}
}

func replayJob(id, chain string) message {
	return message{id: id, publishTime: time.Now(), attrs: wire.ReplayClaimedAttributes("acme", chain)}
}

// A replay job writes its counts as it goes, then done; run again, it
// counts nothing twice.
func TestReplayJobRecordsProgress(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	rc := newReceiver(t, alwaysStatus(200))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	const n = 250 // over two progress writes
	e.seedReplay(t, ep, "rp_p", n)

	wantAck(t, e.push(t, replayJob("job-1", "rp_p")))
	updates := e.store.replayUpdates()
	if len(updates) < 3 {
		t.Fatalf("%d record updates (%+v); want a start, progress and an end", len(updates), updates)
	}
	first, last := updates[0], updates[len(updates)-1]
	if first.State != hookrun.ReplayRunning || first.StartedAt.IsZero() {
		t.Errorf("first update = %+v; want running with a start time", first)
	}
	var midway bool
	for i := 1; i < len(updates); i++ {
		prev, cur := updates[i-1].Counts, updates[i].Counts
		if cur.Replayed < prev.Replayed || cur.Skipped < prev.Skipped {
			t.Errorf("update %d counts %+v after %+v; want them never to fall", i, cur, prev)
		}
		midway = midway || (updates[i].State == hookrun.ReplayRunning && cur.Replayed > 0 && cur.Replayed < n)
	}
	if !midway {
		t.Errorf("updates %+v; want one running with part of the %d replayed", updates, n)
	}
	want := hookrun.ReplayCounts{Matched: n, Claimed: n, Replayed: n}
	if last.State != hookrun.ReplayDone || last.Counts != want || last.EndedAt.Before(last.StartedAt) || last.Error != "" {
		t.Errorf("last update = %+v; want done with counts %+v and an end time", last, want)
	}
	got, err := e.store.GetReplay(t.Context(), "acme", "rp_p")
	if want.Delivered = n; err != nil || got.Counts != want {
		t.Errorf("GetReplay = %+v, %v; want counts %+v", got.Counts, err, want)
	}

	wantAck(t, e.push(t, replayJob("job-1", "rp_p"))) // redelivered
	if got, _ := e.store.GetReplay(t.Context(), "acme", "rp_p"); got.State != hookrun.ReplayDone || got.Counts != want {
		t.Errorf("after the job ran twice: %s %+v; want done with %+v", got.State, got.Counts, want)
	}
	if reqs := len(rc.requests()); reqs != n {
		t.Errorf("%d requests; want %d, one per dead letter", reqs, n)
	}
}

// A job that cannot finish leaves its replay failed with a reason; its
// redelivery resumes it to done.
func TestReplayJobThatFailsIsFailedUntilResumed(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	rc := newReceiver(t, alwaysStatus(200))
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	e.seedReplay(t, ep, "rp_f", 3)

	e.store.setRecordAttemptErr(errors.New("firestore is down"))
	wantNack(t, e.push(t, replayJob("job-f", "rp_f")))
	got, err := e.store.GetReplay(t.Context(), "acme", "rp_f")
	if err != nil || got.State != hookrun.ReplayFailed || got.Error == "" || got.EndedAt.IsZero() || strings.Contains(got.Error, "firestore is down") {
		t.Errorf("after a failed job: %+v, %v; want failed with a reason that does not leak the store's error", got, err)
	}

	e.store.setRecordAttemptErr(nil)
	wantAck(t, e.push(t, replayJob("job-f", "rp_f")))
	got, err = e.store.GetReplay(t.Context(), "acme", "rp_f")
	want := hookrun.ReplayCounts{Matched: 3, Claimed: 3, Replayed: 3, Delivered: 3}
	if err != nil || got.State != hookrun.ReplayDone || got.Error != "" || got.Counts != want {
		t.Errorf("after the job resumed: %+v, %v; want done with %+v", got, err, want)
	}
}
