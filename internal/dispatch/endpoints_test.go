package dispatch_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/hookrun/hookrun/internal/wire"
)

// countingStore counts the dispatcher's calls to its store, by method, on
// the paths an event takes; the other methods pass through uncounted.
type countingStore struct {
	*testStore
	calls testenv.Calls
}

// newCountingEnv is newEnv on a store that counts calls.
func newCountingEnv(t testing.TB, cfg dispatch.Config) (*env, *countingStore) {
	cs := &countingStore{}
	e := newEnv(t, cfg, func(d *dispatch.Deps) {
		cs.testStore = d.Store.(*testStore)
		d.Store = cs
	})
	return e, cs
}

func (s *countingStore) count(method string) { s.calls.Add(method) }

// take returns the calls counted since the last take.
func (s *countingStore) take() map[string]int { return s.calls.Take() }

func (s *countingStore) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	s.count("GetTenant")
	return s.testStore.GetTenant(ctx, id)
}

func (s *countingStore) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	s.count("ListEndpoints")
	return s.testStore.ListEndpoints(ctx, tenantID)
}

func (s *countingStore) EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error) {
	s.count("EndpointsChanged")
	return s.testStore.EndpointsChanged(ctx, tenantID)
}

func (s *countingStore) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	s.count("GetDeliveries")
	return s.testStore.GetDeliveries(ctx, tenantID, eventID, endpointIDs)
}

func (s *countingStore) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	s.count("RecordAttempt")
	return s.testStore.RecordAttempt(ctx, d, a)
}

func (s *countingStore) SetDeliveryState(ctx context.Context, d hookrun.Delivery) error {
	s.count("SetDeliveryState")
	return s.testStore.SetDeliveryState(ctx, d)
}

func (s *countingStore) GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	s.count("GetEvent")
	return s.testStore.GetEvent(ctx, tenantID, eventID)
}

func (s *countingStore) GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error) {
	s.count("GetEndpoint")
	return s.testStore.GetEndpoint(ctx, tenantID, endpointID)
}

func (s *countingStore) CountDeadInARow(ctx context.Context, d hookrun.Delivery) (int, error) {
	s.count("CountDeadInARow")
	return s.testStore.CountDeadInARow(ctx, d)
}

func (s *countingStore) ResetDeadInARow(ctx context.Context, tenantID, endpointID string) error {
	s.count("ResetDeadInARow")
	return s.testStore.ResetDeadInARow(ctx, tenantID, endpointID)
}

func (s *countingStore) MarkAnnounced(ctx context.Context, tenantID, eventID, endpointID string) error {
	s.count("MarkAnnounced")
	return s.testStore.MarkAnnounced(ctx, tenantID, eventID, endpointID)
}

func (s *countingStore) SaveEvent(ctx context.Context, ev hookrun.Event, messageID string) error {
	s.count("SaveEvent")
	return s.testStore.SaveEvent(ctx, ev, messageID)
}

// nowEvent is an event accepted now, later than any endpoint list the
// dispatcher cached so far.
func nowEvent(id string) hookrun.Event {
	ev := userCreated(id)
	ev.ReceivedAt = time.Now().UTC()
	return ev
}

// An event newer than the cached endpoint list costs one read of the
// list's version while no endpoint changed, and the whole list only after
// a change; an endpoint created just before an event was accepted gets it.
func TestEndpointListIsReadAgainOnlyWhenItChanged(t *testing.T) {
	e, cs := newCountingEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	first := newReceiver(t, nil)
	for i := range 5 {
		e.addEndpoint(t, "acme", first.url(), []string{fmt.Sprintf("invoice.%d", i)})
	}
	e.addEndpoint(t, "acme", first.url(), []string{"user.*"})

	wantAck(t, e.push(t, apiMessage("m1", nowEvent("evt_1"))))
	if got := cs.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 1 {
		t.Errorf("first event: %d version reads, %d list reads; want 1 and 1", got["EndpointsChanged"], got["ListEndpoints"])
	}

	// Unchanged: the version is read, the list is not.
	wantAck(t, e.push(t, apiMessage("m2", nowEvent("evt_2"))))
	if got := cs.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 0 {
		t.Errorf("unchanged list: %d version reads, %d list reads; want 1 and 0", got["EndpointsChanged"], got["ListEndpoints"])
	}
	if n := len(first.requests()); n != 2 {
		t.Errorf("first endpoint got %d requests, want 2", n)
	}

	// Changed: an endpoint created just before the event was accepted.
	second := newReceiver(t, nil)
	created, _ := e.addEndpoint(t, "acme", second.url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m3", nowEvent("evt_3"))))
	if got := cs.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 1 {
		t.Errorf("changed list: %d version reads, %d list reads; want 1 and 1", got["EndpointsChanged"], got["ListEndpoints"])
	}
	if reqs := second.requests(); len(reqs) != 1 || reqs[0].header.Get("webhook-id") != hookrun.WebhookID("acme", "evt_3", created.ID) {
		t.Errorf("endpoint created before evt_3 got %d requests, want evt_3", len(reqs))
	}

	// An event older than the cached list is served from the cache.
	old := userCreated("evt_4")
	wantAck(t, e.push(t, apiMessage("m4", old)))
	if got := cs.take(); got["EndpointsChanged"] != 0 || got["ListEndpoints"] != 0 {
		t.Errorf("event older than the list: %d version reads, %d list reads; want none", got["EndpointsChanged"], got["ListEndpoints"])
	}
}

// A change the dispatcher makes itself, or one ingest makes to a field
// the dispatcher acts on (a status), is seen by the next event.
func TestEndpointListSeesStatusChanges(t *testing.T) {
	e, cs := newCountingEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m1", nowEvent("evt_1"))))
	cs.take()

	if err := e.store.DisableEndpoint(t.Context(), "acme", ep.ID, "by hand"); err != nil {
		t.Fatal(err)
	}
	wantAck(t, e.push(t, apiMessage("m2", nowEvent("evt_2"))))
	if got := cs.take(); got["ListEndpoints"] != 1 {
		t.Errorf("after a disable: %d list reads, want 1", got["ListEndpoints"])
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("disabled endpoint got %d requests, want only the first event's", n)
	}
}

func (s *countingStore) ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error) {
	s.count("ClaimDeadLetters")
	return s.testStore.ClaimDeadLetters(ctx, tenantID, f, chain, limit, eligible)
}

func (s *countingStore) EachReplayClaim(ctx context.Context, tenantID, chain string, fn func(hookrun.Delivery) error) error {
	s.count("EachReplayClaim")
	return s.testStore.EachReplayClaim(ctx, tenantID, chain, fn)
}

func (s *countingStore) StartReplay(ctx context.Context, tenantID, eventID, endpointID, chain string) (bool, error) {
	s.count("StartReplay")
	return s.testStore.StartReplay(ctx, tenantID, eventID, endpointID, chain)
}

func (s *countingStore) UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error) {
	s.count("UpdateReplay")
	return s.testStore.UpdateReplay(ctx, tenantID, id, apply)
}

func (s *countingStore) DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error {
	s.count("DisableEndpoint")
	return s.testStore.DisableEndpoint(ctx, tenantID, endpointID, reason)
}

// changeDelayConfig is the local configuration with an endpoint change
// delay.
func changeDelayConfig(delay time.Duration) dispatch.Config {
	c := localConfig
	c.EndpointChangeDelay = delay
	return c
}

// signallingStore is countingStore telling on checked each time it
// answered a read of an endpoint list's version, which the dispatcher may
// make in the background; once hold is called, such reads wait until the
// test ends.
type signallingStore struct {
	*countingStore
	checked chan struct{}
	held    atomic.Pointer[chan struct{}]
}

func (s *signallingStore) EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error) {
	if held := s.held.Load(); held != nil {
		<-*held
	}
	v, err := s.countingStore.EndpointsChanged(ctx, tenantID)
	select {
	case s.checked <- struct{}{}:
	default:
	}
	return v, err
}

// hold makes reads of the list's version wait until the test ends: a
// push that needs one does not answer meanwhile.
func (s *signallingStore) hold(t testing.TB) {
	held := make(chan struct{})
	s.held.Store(&held)
	t.Cleanup(func() { close(held) })
}

// newSignallingEnv is newCountingEnv on a signallingStore.
func newSignallingEnv(t testing.TB, cfg dispatch.Config) (*env, *signallingStore) {
	ss := &signallingStore{countingStore: &countingStore{}, checked: make(chan struct{}, 1)}
	e := newEnv(t, cfg, func(d *dispatch.Deps) {
		ss.testStore = d.Store.(*testStore)
		d.Store = ss
	})
	return e, ss
}

// eventAt is an event accepted at, pushed no earlier than that.
func eventAt(id string, at time.Time) hookrun.Event {
	time.Sleep(time.Until(at))
	ev := userCreated(id)
	ev.ReceivedAt = at.UTC()
	return ev
}

// An event accepted within the endpoint change delay of the list's last
// check is served the cached list, with no store call before its push is
// acknowledged: an endpoint created meanwhile, not through the ingest
// instance that accepted the event, gets only events accepted later.
func TestEndpointListIsServedWithinTheChangeDelay(t *testing.T) {
	e, cs := newCountingEnv(t, changeDelayConfig(10*time.Second))
	e.addTenant("acme", hookrun.TenantActive)
	first := newReceiver(t, nil)
	e.addEndpoint(t, "acme", first.url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m1", nowEvent("evt_1"))))
	cs.take()

	second := newReceiver(t, nil)
	e.addEndpoint(t, "acme", second.url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m2", nowEvent("evt_2"))))
	if got := cs.take(); got["EndpointsChanged"] != 0 || got["ListEndpoints"] != 0 {
		t.Errorf("event within the delay: %d version reads, %d list reads; want none", got["EndpointsChanged"], got["ListEndpoints"])
	}
	if n, m := len(first.requests()), len(second.requests()); n != 2 || m != 0 {
		t.Errorf("endpoints got %d and %d requests; want 2 for the first, none yet for the one created within the delay", n, m)
	}
}

// An event accepted later than the delay after the list's last check
// waits for the check, and an endpoint created before it gets it.
func TestEndpointListIsCheckedForEventsLaterThanTheDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	e, cs := newCountingEnv(t, changeDelayConfig(delay))
	e.addTenant("acme", hookrun.TenantActive)
	e.addEndpoint(t, "acme", newReceiver(t, nil).url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m1", nowEvent("evt_1"))))
	loaded := time.Now() // the list was loaded before
	cs.take()

	second := newReceiver(t, nil)
	created, _ := e.addEndpoint(t, "acme", second.url(), []string{"user.*"})
	wantAck(t, e.push(t, apiMessage("m2", eventAt("evt_2", loaded.Add(delay+time.Millisecond)))))
	if got := cs.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 1 {
		t.Errorf("event later than the delay: %d version reads, %d list reads; want 1 and 1", got["EndpointsChanged"], got["ListEndpoints"])
	}
	if reqs := second.requests(); len(reqs) != 1 || reqs[0].header.Get("webhook-id") != hookrun.WebhookID("acme", "evt_2", created.ID) {
		t.Errorf("endpoint created before evt_2 got %d requests, want evt_2", len(reqs))
	}
}

// Under steady traffic the list is checked in the background once it was
// confirmed more than half the delay ago, so that a later event, which
// the list as first loaded would be too old for, waits for no check.
func TestEndpointListIsRefreshedAhead(t *testing.T) {
	const delay = 200 * time.Millisecond
	e, ss := newSignallingEnv(t, changeDelayConfig(delay))
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	start := time.Now()
	wantAck(t, e.push(t, apiMessage("m1", eventAt("evt_1", start))))
	loaded := time.Now() // the list was loaded before
	<-ss.checked         // by the first push
	ss.take()

	// Accepted before the list was loaded, pushed more than half the
	// delay after: served, and the list checked in the background.
	time.Sleep(time.Until(loaded.Add(delay/2 + time.Millisecond)))
	wantAck(t, e.push(t, apiMessage("m2", eventAt("evt_2", start))))
	select {
	case <-ss.checked:
	case <-time.After(5 * time.Second):
		t.Fatal("no background check of the list 5 s after an event was served a list to refresh")
	}

	// Accepted later than the delay after the first load: the background
	// check, which started after evt_2's push, is recent enough, and the
	// push answers while any further check hangs.
	ss.hold(t)
	m3 := apiMessage("m3", eventAt("evt_3", loaded.Add(delay+time.Millisecond)))
	var w *httptest.ResponseRecorder
	_ = testenv.AnswerWithin(t, time.Second, func() error { w = e.push(t, m3); return nil })
	wantAck(t, w)
	if got := ss.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 0 {
		t.Errorf("two events of steady traffic: %d version reads, %d list reads; want the 1 background check", got["EndpointsChanged"], got["ListEndpoints"])
	}
	if n := len(rc.requests()); n != 3 {
		t.Errorf("endpoint got %d requests, want 3", n)
	}
}

// Whatever the delay, the list is checked before sending an event that
// ingest marks as accepted just after it changed the tenant's endpoints
// itself, a test event to one endpoint, and a redelivery.
func TestEndpointListIsExactWhenItMatters(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(m *message, created hookrun.Endpoint)
	}{
		{"ingest changed the endpoints", func(m *message, _ hookrun.Endpoint) { m.attrs[wire.AttrEndpointsChanged] = "true" }},
		{"test event", func(m *message, created hookrun.Endpoint) { m.attrs[wire.AttrEndpoint] = created.ID }},
		{"redelivery", func(m *message, _ hookrun.Endpoint) { m.attrs[wire.AttrChain] = "redeliver_1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, cs := newCountingEnv(t, changeDelayConfig(10*time.Second))
			e.addTenant("acme", hookrun.TenantActive)
			e.addEndpoint(t, "acme", newReceiver(t, nil).url(), []string{"user.*"})
			wantAck(t, e.push(t, apiMessage("m1", nowEvent("evt_1"))))
			cs.take()

			second := newReceiver(t, nil)
			created, _ := e.addEndpoint(t, "acme", second.url(), []string{"user.*"})
			m := apiMessage("m2", nowEvent("evt_2"))
			tc.mark(&m, created)
			wantAck(t, e.push(t, m))
			if got := cs.take(); got["EndpointsChanged"] != 1 || got["ListEndpoints"] != 1 {
				t.Errorf("%d version reads, %d list reads; want 1 and 1", got["EndpointsChanged"], got["ListEndpoints"])
			}
			if n := len(second.requests()); n != 1 {
				t.Errorf("endpoint created just before got %d requests, want 1", n)
			}
		})
	}
}
