package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/wire"
)

// testPolicy is short enough for tests: attempts 1s, then 2s, 2s apart.
var testPolicy = map[string]any{"initial_delay": "1s", "multiplier": 2, "max_delay": "2s", "max_attempts": 4, "jitter": 0.1}

// createTestTenant creates tenant id with testPolicy's retries through the
// API of stack and returns its API key.
func createTestTenant(ctx context.Context, t *testing.T, stack *Stack, id, name string) string {
	t.Helper()
	var created struct {
		APIKey string `json:"api_key"`
	}
	c := &Client{BaseURL: stack.IngestURL}
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants", stack.AdminToken,
		map[string]any{"id": id, "name": name, "retry_policy": testPolicy}, &created); err != nil {
		t.Fatalf("create tenant %s: %v", id, err)
	}
	return created.APIKey
}

// scripted is a receiver whose answer to the n-th request for an event is
// chosen by the test; it records every request.
type scripted struct {
	respond func(eventID string, n int) (status int, header http.Header)

	mu      sync.Mutex
	reqs    map[string][]scriptedReq
	changed chan struct{}
	// keepHeaders records each request's headers and body, in order.
	keepHeaders bool
	kept        []keptReq
}

type keptReq struct {
	header http.Header
	body   []byte
}

// signatures returns the webhook-signature, body and headers of each kept
// request, in arrival order.
func (s *scripted) signatures() ([]string, [][]byte, []http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sigs []string
	var bodies [][]byte
	var hs []http.Header
	for _, k := range s.kept {
		sigs = append(sigs, k.header.Get("webhook-signature"))
		bodies = append(bodies, k.body)
		hs = append(hs, k.header)
	}
	return sigs, bodies, hs
}

type scriptedReq struct {
	at        time.Time
	webhookID string
	status    int
}

func newScripted(t *testing.T, respond func(eventID string, n int) (int, http.Header)) (*scripted, string) {
	s := &scripted{respond: respond, reqs: map[string][]scriptedReq{}, changed: make(chan struct{})}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/hooks"
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The sender died before the body was all sent (a kill of the
		// dispatcher in the fault test): nothing was delivered.
		return
	}
	if AnswerChallenge(w, body) {
		return
	}
	var p struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &p)
	s.mu.Lock()
	n := len(s.reqs[p.ID]) + 1
	status, header := s.respond(p.ID, n)
	if s.keepHeaders {
		s.kept = append(s.kept, keptReq{header: r.Header.Clone(), body: body})
	}
	s.reqs[p.ID] = append(s.reqs[p.ID], scriptedReq{at: time.Now(), webhookID: r.Header.Get("webhook-id"), status: status})
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
}

func (s *scripted) requests(eventID string) []scriptedReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]scriptedReq(nil), s.reqs[eventID]...)
}

// waitUntil waits until cond holds over the recorded requests.
func (s *scripted) waitUntil(ctx context.Context, what string, cond func(map[string][]scriptedReq) bool) error {
	for {
		s.mu.Lock()
		ok, changed := cond(s.reqs), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// deadLetterSink receives the dead-letters topic through a push
// subscription and records the announced event IDs.
type deadLetterSink struct{ scripted }

func newDeadLetterSink(t *testing.T, ctx context.Context, stack *Stack, project string) *deadLetterSink {
	t.Helper()
	sink := &deadLetterSink{scripted{reqs: map[string][]scriptedReq{}, changed: make(chan struct{})}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env wire.PushEnvelope
		_ = json.NewDecoder(r.Body).Decode(&env)
		var dl wire.DeadLetter
		_ = json.Unmarshal(env.Message.Data, &dl)
		sink.mu.Lock()
		sink.reqs[dl.EventID] = append(sink.reqs[dl.EventID], scriptedReq{at: time.Now()})
		close(sink.changed)
		sink.changed = make(chan struct{})
		sink.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	admin, err := pubsub.NewAdmin(ctx, project, emulatorOption(stack.Env)...)
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	defer admin.Close()
	if err := admin.EnsurePushSubscription(ctx, pubsub.PushSubscription{ID: "dead-letters-test", Topic: DeadLettersTopic, Endpoint: srv.URL}); err != nil {
		t.Fatalf("subscribe to dead-letters: %v", err)
	}
	return sink
}

type eventView struct {
	Deliveries []struct {
		ID         string            `json:"id"`
		EndpointID string            `json:"endpoint_id"`
		State      string            `json:"state"`
		DeadReason string            `json:"dead_reason"`
		AttemptLog []hookrun.Attempt `json:"attempt_log"`
	} `json:"deliveries"`
}

func TestRetriesDeadLettersAndReplayEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	// Its own project and services on the shared emulators; waits on
	// deliveries, which overlap well with the other end-to-end tests.
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stack, project := startTestStack(t)
	c := &Client{BaseURL: stack.IngestURL}
	key := createTestTenant(ctx, t, stack, "retry", "Retry Inc.")
	sink := newDeadLetterSink(t, ctx, stack, project)

	healed := false
	var mu sync.Mutex
	rc, url := newScripted(t, func(eventID string, n int) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		switch eventID {
		case "flaky-1": // fails twice, then succeeds
			if n <= 2 {
				return http.StatusInternalServerError, nil
			}
		case "doomed-1": // fails until healed
			if !healed {
				return http.StatusBadGateway, nil
			}
		case "gone-1":
			return http.StatusGone, nil
		case "busy-1": // 429 with Retry-After: 3 first
			if n == 1 {
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}
			}
		}
		return http.StatusOK, nil
	})
	epID, _, err := c.CreateEndpoint(ctx, key, "retry", url, []string{"order.*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	goneURL := url + "?gone"
	goneEP, _, err := c.CreateEndpoint(ctx, key, "retry", goneURL, []string{"gone.*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	for _, ev := range [][2]string{{"flaky-1", "order.created"}, {"doomed-1", "order.created"}, {"busy-1", "order.created"}, {"gone-1", "gone.away"}} {
		if _, err := c.SendEvent(ctx, key, ev[0], ev[1], map[string]any{"n": 1}); err != nil {
			t.Fatalf("send %s: %v", ev[0], err)
		}
	}
	getEvent := func(id string) eventView {
		t.Helper()
		var v eventView
		if err := c.Do(ctx, http.MethodGet, "/v1/tenants/retry/events/"+id, key, nil, &v); err != nil {
			t.Fatalf("get event %s: %v", id, err)
		}
		return v
	}

	t.Run("fails twice then succeeds", func(t *testing.T) {
		if err := rc.waitUntil(ctx, "flaky-1 delivered", func(m map[string][]scriptedReq) bool { return len(m["flaky-1"]) >= 3 }); err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests("flaky-1")
		// Policy: 1s, then 2s, each ±10 %; the schedule is met within the
		// emulators' latency.
		for i, want := range []time.Duration{time.Second, 2 * time.Second} {
			gap := reqs[i+1].at.Sub(reqs[i].at)
			if lo, hi := time.Duration(float64(want)*0.9), time.Duration(float64(want)*1.1)+time.Second; gap < lo || gap > hi {
				t.Errorf("gap before attempt %d = %v, want within [%v, %v]", i+2, gap, lo, hi)
			}
		}
		if reqs[0].webhookID == "" || reqs[0].webhookID != reqs[2].webhookID {
			t.Errorf("webhook-id changed across attempts")
		}
		// The receiver answers before the dispatcher records: poll the
		// record (Firestore has no change feed to wait on).
		v := getEvent("flaky-1")
		for len(v.Deliveries) == 0 || v.Deliveries[0].State != "succeeded" {
			if ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
			v = getEvent("flaky-1")
		}
		d := v.Deliveries[0]
		if d.State != "succeeded" || len(d.AttemptLog) != 3 {
			t.Errorf("delivery %s with %d attempts, want succeeded with 3", d.State, len(d.AttemptLog))
		}
		if len(rc.requests("flaky-1")) != 3 {
			t.Errorf("delivered again after success")
		}
	})

	t.Run("429 Retry-After is honoured", func(t *testing.T) {
		if err := rc.waitUntil(ctx, "busy-1 retried", func(m map[string][]scriptedReq) bool { return len(m["busy-1"]) >= 2 }); err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests("busy-1")
		// Retry-After 3s beats the policy's 1s (and its 2s max delay caps it).
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 1800*time.Millisecond {
			t.Errorf("retried after %v, want the Retry-After (bounded by the 2s max delay)", gap)
		}
	})

	t.Run("never succeeds: dead letter", func(t *testing.T) {
		if err := sink.waitUntil(ctx, "doomed-1 announced", func(m map[string][]scriptedReq) bool { return len(m["doomed-1"]) > 0 }); err != nil {
			t.Fatal(err)
		}
		v := getEvent("doomed-1")
		d := v.Deliveries[0]
		if d.State != "dead" || len(d.AttemptLog) != 4 || d.DeadReason == "" {
			t.Fatalf("delivery %s with %d attempts (%q), want dead after 4 with a reason", d.State, len(d.AttemptLog), d.DeadReason)
		}
		for _, a := range d.AttemptLog {
			if a.StatusCode != http.StatusBadGateway || a.StartedAt.IsZero() || a.Error == "" {
				t.Errorf("attempt %+v lacks its status, time or error", a)
			}
		}
		var list struct {
			DeadLetters []struct {
				ID string `json:"id"`
			} `json:"dead_letters"`
		}
		if err := c.Do(ctx, http.MethodGet, "/v1/tenants/retry/dead-letters?endpoint_id="+epID, key, nil, &list); err != nil {
			t.Fatalf("list dead letters: %v", err)
		}
		if len(list.DeadLetters) != 1 || list.DeadLetters[0].ID != d.ID {
			t.Fatalf("dead letters = %+v, want just %s", list.DeadLetters, d.ID)
		}

		// Replay once the receiver works: delivered, same webhook-id.
		mu.Lock()
		healed = true
		mu.Unlock()
		if err := c.Do(ctx, http.MethodPost, "/v1/tenants/retry/dead-letters/"+d.ID+":replay", key, nil, nil); err != nil {
			t.Fatalf("replay: %v", err)
		}
		if err := rc.waitUntil(ctx, "doomed-1 replayed", func(m map[string][]scriptedReq) bool {
			r := m["doomed-1"]
			return len(r) == 5 && r[4].status == http.StatusOK
		}); err != nil {
			t.Fatal(err)
		}
		reqs := rc.requests("doomed-1")
		if reqs[4].webhookID != reqs[0].webhookID {
			t.Errorf("replay webhook-id %q, want the original %q", reqs[4].webhookID, reqs[0].webhookID)
		}
	})

	t.Run("410 disables the endpoint", func(t *testing.T) {
		if err := sink.waitUntil(ctx, "gone-1 announced", func(m map[string][]scriptedReq) bool { return len(m["gone-1"]) > 0 }); err != nil {
			t.Fatal(err)
		}
		var ep hookrun.Endpoint
		if err := c.Do(ctx, http.MethodGet, "/v1/tenants/retry/endpoints/"+goneEP, key, nil, &ep); err != nil {
			t.Fatalf("get endpoint: %v", err)
		}
		if ep.Status != hookrun.EndpointDisabled || ep.DisabledReason == "" {
			t.Errorf("endpoint %s (%q), want disabled with the reason", ep.Status, ep.DisabledReason)
		}
		if n := len(rc.requests("gone-1")); n != 1 {
			t.Errorf("410 endpoint got %d requests, want 1", n)
		}
	})
}

// TestNoEventLostWhenDispatcherIsKilled sends a few hundred events to a
// flaky receiver, kills the dispatcher with SIGKILL midway and restarts it:
// every event ends delivered or dead-lettered, none lost.
func TestNoEventLostWhenDispatcherIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	// Its own project and services on the shared emulators; waits on
	// deliveries, which overlap well with the other end-to-end tests.
	t.Parallel()
	const events = 300
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack, _ := startTestStack(t)
	c := &Client{BaseURL: stack.IngestURL}
	key := createTestTenant(ctx, t, stack, "chaos", "Chaos")
	// Every third event fails its first attempt; every 25th never succeeds.
	rc, url := newScripted(t, func(eventID string, n int) (int, http.Header) {
		i, _ := strconv.Atoi(eventID[len("chaos-"):])
		switch {
		case i%25 == 0:
			return http.StatusInternalServerError, nil
		case i%3 == 0 && n == 1:
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	epID, _, err := c.CreateEndpoint(ctx, key, "chaos", url, []string{"*"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}

	var wg sync.WaitGroup
	sendErrs := make(chan error, events)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.SendEvent(ctx, key, fmt.Sprintf("chaos-%d", i), "load.test", map[string]any{"i": i}); err != nil {
					sendErrs <- err
				}
			}()
		}
	}
	send(1, events/2+1)
	// Kill the dispatcher once some deliveries are in flight.
	if err := rc.waitUntil(ctx, "first deliveries", func(m map[string][]scriptedReq) bool { return len(m) >= 30 }); err != nil {
		t.Fatal(err)
	}
	if err := stack.KillAndRestart(ctx, "dispatcher"); err != nil {
		t.Fatalf("kill and restart dispatcher: %v", err)
	}
	send(events/2+1, events+1)
	wg.Wait()
	close(sendErrs)
	for err := range sendErrs {
		t.Fatalf("send: %v", err)
	}

	delivered := func(m map[string][]scriptedReq) int {
		n := 0
		for _, reqs := range m {
			for _, r := range reqs {
				if r.status == http.StatusOK {
					n++
					break
				}
			}
		}
		return n
	}
	const wantDead = events / 25
	if err := rc.waitUntil(ctx, "all deliveries", func(m map[string][]scriptedReq) bool { return delivered(m) == events-wantDead }); err != nil {
		rc.mu.Lock()
		t.Fatalf("%v: %d of %d events delivered", err, delivered(rc.reqs), events-wantDead)
	}
	// The always-failing ones end as dead letters: poll the API (Firestore
	// has no change feed to wait on).
	for {
		var list struct {
			DeadLetters []json.RawMessage `json:"dead_letters"`
		}
		if err := c.Do(ctx, http.MethodGet, "/v1/tenants/chaos/dead-letters?page_size=500&endpoint_id="+epID, key, nil, &list); err != nil {
			t.Fatalf("list dead letters: %v", err)
		}
		if len(list.DeadLetters) == wantDead {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d dead letters, want %d", len(list.DeadLetters), wantDead)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
