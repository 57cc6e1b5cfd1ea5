package dispatch_test

import (
	"encoding/json"
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
