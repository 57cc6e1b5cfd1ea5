package dispatch_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
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
