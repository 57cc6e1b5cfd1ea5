package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// eventListFixture stores six accepted events of acme, one minute apart
// (ev1 oldest), with deliveries in every state, beside an event still
// being accepted and an event of another tenant. newest lists their IDs
// newest first.
type eventListFixture struct {
	at     func(i int) time.Time // receive time of ev{i}
	newest []string
}

func seedEventList(t *testing.T, s Store) eventListFixture {
	t.Helper()
	ctx := t.Context()
	t0 := Now().Add(-time.Hour)
	fx := eventListFixture{at: func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }}
	type delivery struct {
		endpointID string
		state      hookrun.DeliveryState
		status     int
	}
	seeds := []struct {
		id, typ    string
		deliveries []delivery
	}{
		{"ev1", "order.created", []delivery{{"ep_a", hookrun.DeliverySucceeded, 200}, {"ep_b", hookrun.DeliverySucceeded, 204}}},
		{"ev2", "invoice.paid", []delivery{{"ep_a", hookrun.DeliveryDead, 500}, {"ep_b", hookrun.DeliverySucceeded, 200}}},
		{"ev3", "order.created", nil}, // no endpoint wanted it
		{"ev4", "order.created", []delivery{{"ep_a", hookrun.DeliveryRetrying, 503}, {"ep_b", hookrun.DeliveryDead, 500}, {"ep_c", hookrun.DeliveryDead, 410}}},
		{"ev:5", "invoice.paid", []delivery{{"ep_a", hookrun.DeliveryPending, 0}}}, // event IDs may hold ':'
		{"ev6", "order.created", []delivery{{"ep_a", hookrun.DeliveryDead, 500}, {"ep_b", hookrun.DeliveryDead, 500}, {"ep_c", hookrun.DeliveryDead, 500}}},
	}
	for i, sd := range seeds {
		e := hookrun.Event{ID: sd.id, TenantID: "acme", Type: sd.typ, Data: []byte(`{"big":"data"}`), Source: hookrun.SourceAPI, ReceivedAt: fx.at(i + 1)}
		if err := s.SaveEvent(ctx, e, "m"); err != nil {
			t.Fatalf("SaveEvent(%s): %v", e.ID, err)
		}
		fx.newest = append([]string{e.ID}, fx.newest...)
		for j, sdd := range sd.deliveries {
			// Each delivery of an event changes a second after the one
			// before: the last one's status is the summary's.
			seedDelivery(t, s, e, sdd.endpointID, sdd.state, sdd.status, e.ReceivedAt.Add(time.Duration(j+1)*time.Second))
		}
	}
	// Not listed: an event still being accepted, another tenant's.
	claimed := hookrun.Event{ID: "ev_claimed", TenantID: "acme", Type: "order.created", Data: []byte(`{}`), Source: hookrun.SourceAPI, ReceivedAt: fx.at(7)}
	if _, _, err := s.ClaimEvent(ctx, claimed, time.Hour); err != nil {
		t.Fatalf("ClaimEvent: %v", err)
	}
	seedDelivery(t, s, claimed, "ep_a", hookrun.DeliveryDead, 500, fx.at(7))
	globex := hookrun.Event{ID: "ev_globex", TenantID: "globex", Type: "order.created", Data: []byte(`{}`), Source: hookrun.SourceAPI, ReceivedAt: fx.at(3)}
	if err := s.SaveEvent(ctx, globex, "m"); err != nil {
		t.Fatalf("SaveEvent(%s): %v", globex.ID, err)
	}
	seedDelivery(t, s, globex, "ep_g", hookrun.DeliveryDead, 500, fx.at(3))
	return fx
}

// seedDelivery stores the delivery of e to endpointID in state st, as the
// dispatcher does: a pending one (a replay's fresh chain) without an
// attempt, the others with their last attempt, answered with status.
func seedDelivery(t *testing.T, s Store, e hookrun.Event, endpointID string, st hookrun.DeliveryState, status int, at time.Time) {
	t.Helper()
	d := hookrun.Delivery{TenantID: e.TenantID, EventID: e.ID, EndpointID: endpointID, EventType: e.Type, EventAt: e.ReceivedAt,
		WebhookID: hookrun.WebhookID(e.TenantID, e.ID, endpointID), State: st, UpdatedAt: at}
	if st == hookrun.DeliveryDead {
		d.DeadAt, d.DeadReason = at, "gave up"
	}
	if st == hookrun.DeliveryPending {
		if err := s.SetDeliveryState(t.Context(), d); err != nil {
			t.Fatalf("SetDeliveryState(%s): %v", hookrun.DeliveryID(e.ID, endpointID), err)
		}
		return
	}
	a := hookrun.Attempt{Number: 1, StartedAt: at, StatusCode: status, Latency: 0}
	d.LastStatusCode, d.UpdatedAt = status, at
	if err := s.RecordAttempt(t.Context(), d, a); err != nil {
		t.Fatalf("RecordAttempt(%s): %v", hookrun.DeliveryID(e.ID, endpointID), err)
	}
}

// listEvents pages through ListEvents with pages of pageSize, returning
// each page's event IDs and the events.
func listEvents(t *testing.T, s Store, tenantID string, f hookrun.EventFilter, pageSize int) ([][]string, []hookrun.EventSummary) {
	t.Helper()
	var (
		pages [][]string
		all   []hookrun.EventSummary
		token string
	)
	for range 1000 {
		es, next, err := s.ListEvents(t.Context(), tenantID, f, pageSize, token)
		if err != nil {
			t.Fatalf("ListEvents(%+v, %d, %q): %v", f, pageSize, token, err)
		}
		if len(es) > pageSize {
			t.Fatalf("ListEvents(%+v, %d) returned %d events", f, pageSize, len(es))
		}
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.ID
		}
		if len(ids) > 0 {
			pages = append(pages, ids)
		}
		all = append(all, es...)
		if next == "" {
			return pages, all
		}
		token = next
	}
	t.Fatalf("ListEvents(%+v, %d): no end after 1000 pages", f, pageSize)
	return nil, nil
}

func testListEvents(t *testing.T, open Opener) {
	s := open.store(t)
	fx := seedEventList(t, s)
	all := fx.newest // ev6, ev:5, ev4, ev3, ev2, ev1
	tests := []struct {
		name string
		f    hookrun.EventFilter
		want []string
	}{
		{"all accepted events of the tenant", hookrun.EventFilter{}, all},
		{"by type", hookrun.EventFilter{EventType: "order.created"}, only(all, "ev6", "ev4", "ev3", "ev1")},
		{"any delivery dead", hookrun.EventFilter{State: hookrun.DeliveryDead}, only(all, "ev6", "ev4", "ev2")},
		{"any delivery succeeded", hookrun.EventFilter{State: hookrun.DeliverySucceeded}, only(all, "ev2", "ev1")},
		{"any delivery retrying", hookrun.EventFilter{State: hookrun.DeliveryRetrying}, []string{"ev4"}},
		{"any delivery pending", hookrun.EventFilter{State: hookrun.DeliveryPending}, []string{"ev:5"}},
		{"dead and of a type", hookrun.EventFilter{State: hookrun.DeliveryDead, EventType: "invoice.paid"}, []string{"ev2"}},
		{"since is inclusive", hookrun.EventFilter{Since: fx.at(2)}, only(all, "ev6", "ev:5", "ev4", "ev3", "ev2")},
		{"until is exclusive", hookrun.EventFilter{Until: fx.at(4)}, only(all, "ev3", "ev2", "ev1")},
		{"dead in a time range", hookrun.EventFilter{State: hookrun.DeliveryDead, Since: fx.at(3), Until: fx.at(6)}, []string{"ev4"}},
		{"nothing matches", hookrun.EventFilter{EventType: "user.created"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 500} {
				pages, _ := listEvents(t, s, "acme", tt.f, size)
				if got := slices.Concat(pages...); !slices.Equal(got, tt.want) {
					t.Errorf("pages of %d = %v, want %v in that order, each once", size, pages, tt.want)
				}
			}
		})
	}
	t.Run("another tenant's", func(t *testing.T) {
		if pages, _ := listEvents(t, s, "globex", hookrun.EventFilter{State: hookrun.DeliveryDead}, 10); !slices.Equal(slices.Concat(pages...), []string{"ev_globex"}) {
			t.Errorf("globex's dead events = %v, want only its own", pages)
		}
	})
}

func testListEventsSummaries(t *testing.T, open Opener) {
	s := open.store(t)
	fx := seedEventList(t, s)
	want := map[string]hookrun.EventSummary{
		"ev4": {ID: "ev4", TenantID: "acme", Type: "order.created", Source: hookrun.SourceAPI, ReceivedAt: fx.at(4),
			Deliveries: hookrun.DeliverySummary{Retrying: 1, Dead: 2, UpdatedAt: fx.at(4).Add(3 * time.Second), LastStatusCode: 410}},
		"ev:5": {ID: "ev:5", TenantID: "acme", Type: "invoice.paid", Source: hookrun.SourceAPI, ReceivedAt: fx.at(5),
			Deliveries: hookrun.DeliverySummary{Pending: 1, UpdatedAt: fx.at(5).Add(time.Second)}},
		"ev3": {ID: "ev3", TenantID: "acme", Type: "order.created", Source: hookrun.SourceAPI, ReceivedAt: fx.at(3)},
		"ev1": {ID: "ev1", TenantID: "acme", Type: "order.created", Source: hookrun.SourceAPI, ReceivedAt: fx.at(1),
			Deliveries: hookrun.DeliverySummary{Succeeded: 2, UpdatedAt: fx.at(1).Add(2 * time.Second), LastStatusCode: 204}},
	}
	// Both ways a store finds events: by time, and by their deliveries.
	for _, f := range []hookrun.EventFilter{{}, {State: hookrun.DeliveryDead}} {
		_, es := listEvents(t, s, "acme", f, 500)
		for _, got := range es {
			w, ok := want[got.ID]
			if got.ID == "ev6" {
				w, ok = hookrun.EventSummary{ID: "ev6", TenantID: "acme", Type: "order.created", Source: hookrun.SourceAPI, ReceivedAt: fx.at(6),
					Deliveries: hookrun.DeliverySummary{Dead: 3, UpdatedAt: fx.at(6).Add(3 * time.Second), LastStatusCode: 500}}, true
			}
			if ok && !sameSummary(got, w) {
				t.Errorf("filter %+v: %s = %+v, want %+v", f, got.ID, got, w)
			}
		}
	}
}

func sameSummary(a, b hookrun.EventSummary) bool {
	ad, bd := a.Deliveries, b.Deliveries
	return a.ID == b.ID && a.TenantID == b.TenantID && a.Type == b.Type && a.Source == b.Source && a.ReceivedAt.Equal(b.ReceivedAt) &&
		ad.Pending == bd.Pending && ad.Succeeded == bd.Succeeded && ad.Retrying == bd.Retrying && ad.Dead == bd.Dead &&
		ad.UpdatedAt.Equal(bd.UpdatedAt) && ad.LastStatusCode == bd.LastStatusCode
}

// More events than one "in" filter takes (30 in Firestore) are still
// counted and found, each once.
func testListEventsManyOnAPage(t *testing.T, open Opener) {
	s := open.store(t)
	t0 := Now().Add(-time.Hour)
	const n = 65
	var want []string
	for i := range n {
		e := hookrun.Event{ID: fmt.Sprintf("many%02d", i), TenantID: "acme", Type: "order.created", Data: []byte(`{}`),
			Source: hookrun.SourcePubSub, ReceivedAt: t0.Add(time.Duration(i) * time.Second)}
		if err := s.SaveEvent(t.Context(), e, "m"); err != nil {
			t.Fatalf("SaveEvent: %v", err)
		}
		seedDelivery(t, s, e, "ep_a", hookrun.DeliveryDead, 500, e.ReceivedAt)
		seedDelivery(t, s, e, "ep_b", hookrun.DeliverySucceeded, 200, e.ReceivedAt.Add(time.Millisecond))
		want = append([]string{e.ID}, want...)
	}
	for _, f := range []hookrun.EventFilter{{}, {State: hookrun.DeliveryDead}} {
		for _, size := range []int{7, 64, 500} {
			pages, es := listEvents(t, s, "acme", f, size)
			if got := slices.Concat(pages...); !slices.Equal(got, want) {
				t.Errorf("filter %+v, pages of %d: got %v, want %v", f, size, got, want)
			}
			for _, e := range es {
				if d := e.Deliveries; d.Dead != 1 || d.Succeeded != 1 || d.LastStatusCode != 200 || e.Source != hookrun.SourcePubSub {
					t.Errorf("filter %+v, pages of %d: %s = %+v, want one dead, one succeeded, last 200, from pubsub", f, size, e.ID, e)
				}
			}
		}
	}
}

func testListEventsBadToken(t *testing.T, open Opener) {
	s := open.store(t)
	for _, f := range []hookrun.EventFilter{{}, {State: hookrun.DeliveryDead}} {
		for _, token := range []string{"garbage!", "bm90IGpzb24"} {
			_, _, err := s.ListEvents(t.Context(), "acme", f, 3, token)
			WantCode(t, fmt.Sprintf("ListEvents(%+v, token %q)", f, token), err, hookrun.CodeInvalidArgument)
		}
	}
}
