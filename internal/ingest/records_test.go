package ingest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// instance is one ingest instance over a store that others share, with a
// flush interval long enough that nothing is recorded until Flush.
type instance struct {
	svc *ingest.Service
	h   http.Handler
}

func newInstance(t *testing.T, e *env, store ingest.Store) instance {
	t.Helper()
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken, EventFlushInterval: 5 * time.Second}, store, e.pub, e.secrets,
		ingest.WithChallenger(e.challenger), ingest.WithRetirer(e.retirer))
	if err != nil {
		t.Fatal(err)
	}
	return instance{svc: svc, h: svc.Handler()}
}

func (in instance) do(t *testing.T, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, req)
	return w
}

func (in instance) flush(t *testing.T) {
	t.Helper()
	if err := in.svc.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// An event sent without an ID is answered once Pub/Sub has it, before
// any store call: no claim, and its record is written after the answer
// (by Flush here, on the interval or SIGTERM in service). Meanwhile the
// instance that accepted it finds it by ID, and the store does not.
func TestEventWithoutIDIsRecordedAfterTheAnswer(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	cs := &countingStore{testStore: e.store}
	in := newInstance(t, e, cs)
	in.do(t, http.MethodPost, "/v1/events", key, `{"id":"warm","type":"user.created","data":{}}`) // key and tenant cached
	in.flush(t)
	cs.take()

	w := in.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{"n":1}}`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s, want 202", w.Code, w.Body)
	}
	id := decode[struct{ ID string }](t, w).ID
	if calls := cs.take(); len(calls) != 0 {
		t.Errorf("store calls before the 202: %v, want none", calls)
	}
	if made, ok := hookrun.MadeEventTime(id); !ok || time.Since(made) > time.Minute {
		t.Errorf("made ID %q: MadeEventTime = %v, %v; want about now", id, made, ok)
	}
	if _, err := e.store.GetEvent(t.Context(), "acme", id); hookrun.ErrorCode(err) != hookrun.CodeNotFound {
		t.Errorf("store before the flush: GetEvent = %v, want NOT_FOUND", err)
	}
	if w := in.do(t, http.MethodGet, "/v1/tenants/acme/events/"+id, key, ""); w.Code != http.StatusOK {
		t.Errorf("GET on the accepting instance before the flush = %d %s, want 200", w.Code, w.Body)
	}

	in.flush(t)
	got, err := e.store.GetEvent(t.Context(), "acme", id)
	if err != nil || string(got.Data) != `{"n":1}` {
		t.Errorf("store after the flush: GetEvent = %+v, %v; want the event", got, err)
	}
	if calls := cs.take(); calls["RecordEvents"] != 1 || len(calls) != 1 {
		t.Errorf("store calls of the flush: %v, want one record", calls)
	}
}

// A producer's retry of an ID this instance accepted moments ago is a
// duplicate at once, before the record is written: nothing is claimed or
// published again.
func TestRetryBeforeTheRecordIsADuplicate(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	cs := &countingStore{testStore: e.store}
	in := newInstance(t, e, cs)
	body := `{"id":"order-1","type":"user.created","data":{}}`
	if w := in.do(t, http.MethodPost, "/v1/events", key, body); w.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	published := len(e.pub.published())
	cs.take()
	if w := in.do(t, http.MethodPost, "/v1/events", key, body); w.Code != http.StatusAccepted {
		t.Fatalf("retry = %d %s, want 202", w.Code, w.Body)
	}
	if calls := cs.take(); len(calls) != 0 {
		t.Errorf("store calls of the retry: %v, want none", calls)
	}
	if n := len(e.pub.published()) - published; n != 0 {
		t.Errorf("retry published %d messages, want 0", n)
	}
	in.flush(t)
	if w := in.do(t, http.MethodPost, "/v1/events", key, body); w.Code != http.StatusAccepted || len(e.pub.published()) != published {
		t.Errorf("retry after the record = %d, %d published; want 202, nothing more", w.Code, len(e.pub.published())-published)
	}
}

// A producer that sends as its own an ID another instance made moments
// ago waits (409 with Retry-After) until that instance has recorded the
// event, then gets a duplicate: the event is never published twice.
func TestMadeIDSentBackWaitsForItsRecord(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	a, b := newInstance(t, e, e.store), newInstance(t, e, e.store)
	w := a.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	id := decode[struct{ ID string }](t, w).ID
	published := len(e.pub.published())
	back := `{"id":"` + id + `","type":"user.created","data":{}}`

	w = b.do(t, http.MethodPost, "/v1/events", key, back)
	if w.Code != http.StatusConflict || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "ABORTED") {
		t.Errorf("made ID sent back to another instance before its record = %d %s (Retry-After %q), want 409 ABORTED with Retry-After",
			w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	a.flush(t)
	if w = b.do(t, http.MethodPost, "/v1/events", key, back); w.Code != http.StatusAccepted {
		t.Errorf("made ID sent back after its record = %d %s, want 202", w.Code, w.Body)
	}
	if n := len(e.pub.published()) - published; n != 0 {
		t.Errorf("sending the made ID back published %d messages, want 0", n)
	}
}

// A failed publish of an event without an ID leaves nothing behind: no
// claim to release, no record.
func TestFailedPublishOfMadeIDLeavesNothing(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	cs := &countingStore{testStore: e.store}
	in := newInstance(t, e, cs)
	in.do(t, http.MethodPost, "/v1/events", key, `{"id":"warm","type":"user.created","data":{}}`)
	in.flush(t)
	cs.take()
	e.pub.setErr(errors.New("pubsub down"))
	if w := in.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "an id of your own") {
		t.Fatalf("POST with Pub/Sub down = %d %s, want 503 telling to retry with an id of one's own", w.Code, w.Body)
	}
	in.flush(t)
	if calls := cs.take(); len(calls) != 0 {
		t.Errorf("store calls after the failed publish: %v, want none", calls)
	}
}

// slowRecords is a store whose record writes take a while, as Firestore's
// do when it is behind, and that tells how many events each carried.
type slowRecords struct {
	*testStore
	delay time.Duration
	mu    sync.Mutex
	sizes []int
}

func (s *slowRecords) RecordEvents(ctx context.Context, evs []hookrun.AcceptedEvent) []error {
	time.Sleep(s.delay)
	s.mu.Lock()
	s.sizes = append(s.sizes, len(evs))
	s.mu.Unlock()
	return s.testStore.RecordEvents(ctx, evs)
}

// More events than the event log holds, faster than the store writes
// them: every one is answered and recorded, and the log's backpressure
// paces the producers rather than making each event write its own
// record (README, "Records written after the answer").
func TestFullEventLogPacesProducersInBatches(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	store := &slowRecords{testStore: e.store, delay: 50 * time.Millisecond}
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken, EventFlushInterval: 100 * time.Millisecond}, store, e.pub, e.secrets,
		ingest.WithChallenger(e.challenger), ingest.WithRetirer(e.retirer))
	if err != nil {
		t.Fatal(err)
	}
	in := instance{svc: svc, h: svc.Handler()}
	event := `{"type":"user.created","data":{"n":1}}`
	body := `{"events":[` + strings.Repeat(event+",", 499) + event + `]}`
	const batches = 8 // 4,000 events: twice what an instance holds unwritten
	var wg sync.WaitGroup
	for range batches {
		wg.Go(func() {
			if w := in.do(t, http.MethodPost, "/v1/events:batch", key, body); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"accepted":500`) {
				t.Errorf("POST batch = %d %.200s, want 200 with 500 accepted", w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	in.flush(t)

	store.mu.Lock()
	defer store.mu.Unlock()
	total := 0
	for _, n := range store.sizes {
		total += n
	}
	if total != batches*500 {
		t.Errorf("events recorded = %d, want %d", total, batches*500)
	}
	// Written in batches, the 4,000 take about ten writes (a few more
	// when the interval flushes small ones on a slow machine); written one
	// by one once the log is full, they took hundreds.
	if len(store.sizes) > batches*500/40 {
		t.Errorf("%d writes for %d events (sizes %v): events were recorded on their own", len(store.sizes), total, store.sizes)
	}
}
