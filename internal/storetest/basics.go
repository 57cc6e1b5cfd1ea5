package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Now is the current time as the stores keep it: Firestore keeps
// microseconds, and the memory store does as Firestore does.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// WantCode fails t unless err carries the hookrun code want.
func WantCode(t *testing.T, what string, err error, want hookrun.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: nil error, want %s", what, want)
		return
	}
	if got := hookrun.ErrorCode(err); got != want {
		t.Errorf("%s: error %v has code %s, want %s", what, err, got, want)
	}
}

func testTenants(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	acme := hookrun.Tenant{ID: "acme", Name: "Acme Inc.", Status: hookrun.TenantActive, CreatedAt: Now()}
	_, hash := hookrun.NewAPIKey()

	if err := s.CreateTenant(ctx, acme, hash); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	got, err := s.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if got.ID != acme.ID || got.Name != acme.Name || got.Status != acme.Status || !got.CreatedAt.Equal(acme.CreatedAt) {
		t.Errorf("GetTenant = %+v, want %+v", got, acme)
	}
	if id, err := s.TenantForKey(ctx, hash); err != nil || id != "acme" {
		t.Errorf("TenantForKey = %q, %v; want acme", id, err)
	}

	_, unknown := hookrun.NewAPIKey()
	_, err = s.TenantForKey(ctx, unknown)
	WantCode(t, "TenantForKey(unknown hash)", err, hookrun.CodeNotFound)
	_, err = s.GetTenant(ctx, "initech")
	WantCode(t, "GetTenant(missing)", err, hookrun.CodeNotFound)

	// A tenant and its key are created together or not at all.
	_, hash2 := hookrun.NewAPIKey()
	err = s.CreateTenant(ctx, hookrun.Tenant{ID: "acme", Name: "Other", Status: hookrun.TenantActive, CreatedAt: Now()}, hash2)
	WantCode(t, "CreateTenant(duplicate id)", err, hookrun.CodeAlreadyExists)
	_, err = s.TenantForKey(ctx, hash2)
	WantCode(t, "TenantForKey(key of the refused duplicate)", err, hookrun.CodeNotFound)
	if got, _ := s.GetTenant(ctx, "acme"); got.Name != "Acme Inc." {
		t.Errorf("after a refused duplicate, tenant name = %q, want the original", got.Name)
	}

	err = s.CreateTenant(ctx, hookrun.Tenant{ID: "globex", Name: "Globex", Status: hookrun.TenantActive, CreatedAt: Now()}, hash)
	WantCode(t, "CreateTenant(duplicate key hash)", err, hookrun.CodeAlreadyExists)
	_, err = s.GetTenant(ctx, "globex")
	WantCode(t, "GetTenant(tenant whose key was refused)", err, hookrun.CodeNotFound)
}

func newEndpoint(t *testing.T, tenantID, url string, created time.Time, patterns ...string) hookrun.Endpoint {
	t.Helper()
	ep, err := hookrun.NewEndpoint(tenantID, hookrun.EndpointInput{URL: url, EventTypes: patterns, Description: "d " + url}, hookrun.URLPolicy{}, created)
	if err != nil {
		t.Fatal(err)
	}
	ep.SecretVersion = "projects/p/secrets/hookrun-" + tenantID + "-" + ep.ID + "/versions/1"
	ep.Timeout = hookrun.Duration(2500 * time.Millisecond)
	return ep
}

func testEndpoints(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	first := newEndpoint(t, "acme", "https://one.example.com/", t0, "user.*")
	second := newEndpoint(t, "acme", "https://two.example.com/", t0.Add(time.Second), "*")
	third := newEndpoint(t, "acme", "https://three.example.com/", t0.Add(2*time.Second), "invoice.paid", "user.deleted")
	other := newEndpoint(t, "globex", "https://globex.example.com/", t0, "*")

	if eps, err := s.ListEndpoints(ctx, "acme"); err != nil || len(eps) != 0 {
		t.Errorf("ListEndpoints before any = %v, %v; want none", eps, err)
	}
	// Created out of order: the list is ordered by creation time, not by
	// write order or ID.
	for _, ep := range []hookrun.Endpoint{third, first, other, second} {
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			t.Fatalf("CreateEndpoint(%s): %v", ep.URL, err)
		}
	}
	WantCode(t, "CreateEndpoint(same id again)", s.CreateEndpoint(ctx, first), hookrun.CodeAlreadyExists)

	got, err := s.GetEndpoint(ctx, "acme", third.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if got.ID != third.ID || got.TenantID != "acme" || got.URL != third.URL || !slices.Equal(got.EventTypes, third.EventTypes) ||
		got.Description != third.Description || got.Status != hookrun.EndpointActive || got.SecretVersion != third.SecretVersion ||
		got.Timeout != third.Timeout || !got.CreatedAt.Equal(third.CreatedAt) {
		t.Errorf("GetEndpoint = %+v\nwant %+v", got, third)
	}
	// A loaded endpoint is compiled: it matches.
	if !got.Matches("user.deleted") || got.Matches("user.created") {
		t.Errorf("loaded endpoint with %v: Matches(user.deleted)=%v, Matches(user.created)=%v; want true, false",
			got.EventTypes, got.Matches("user.deleted"), got.Matches("user.created"))
	}

	eps, err := s.ListEndpoints(ctx, "acme")
	if err != nil {
		t.Fatalf("ListEndpoints: %v", err)
	}
	var ids []string
	for _, ep := range eps {
		ids = append(ids, ep.ID)
	}
	if want := []string{first.ID, second.ID, third.ID}; !slices.Equal(ids, want) {
		t.Errorf("ListEndpoints ids = %v, want oldest first %v", ids, want)
	}
	if len(eps) > 0 && !eps[0].Matches("user.created") {
		t.Error("listed endpoint is not compiled: user.* does not match user.created")
	}

	if err := s.DeleteEndpoint(ctx, "acme", second.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	_, err = s.GetEndpoint(ctx, "acme", second.ID)
	WantCode(t, "GetEndpoint(deleted)", err, hookrun.CodeNotFound)
	WantCode(t, "DeleteEndpoint(deleted)", s.DeleteEndpoint(ctx, "acme", second.ID), hookrun.CodeNotFound)
	WantCode(t, "DeleteEndpoint(never existed)", s.DeleteEndpoint(ctx, "acme", "ep_missing"), hookrun.CodeNotFound)
	// Another tenant's endpoint is not reachable through acme.
	_, err = s.GetEndpoint(ctx, "acme", other.ID)
	WantCode(t, "GetEndpoint(other tenant's id)", err, hookrun.CodeNotFound)

	if eps, _ := s.ListEndpoints(ctx, "acme"); len(eps) != 2 {
		t.Errorf("after delete, %d endpoints, want 2", len(eps))
	}
	if eps, _ := s.ListEndpoints(ctx, "globex"); len(eps) != 1 || eps[0].ID != other.ID {
		t.Errorf("globex endpoints = %v, want only its own", eps)
	}
}

func newEvent(id, typ, data string) hookrun.Event {
	return hookrun.Event{ID: id, TenantID: "acme", Type: typ, Data: []byte(data), Source: hookrun.SourceAPI, ReceivedAt: Now()}
}

func sameEvent(a, b hookrun.Event) bool {
	return a.ID == b.ID && a.TenantID == b.TenantID && a.Type == b.Type && string(a.Data) == string(b.Data) &&
		a.Source == b.Source && a.ReceivedAt.Equal(b.ReceivedAt)
}

// wantRetryAfter checks that err tells to retry after what is left of a
// lease: want, less what Firestore's microseconds cut off.
func wantRetryAfter(t *testing.T, what string, err error, want time.Duration) {
	t.Helper()
	var e *hookrun.Error
	if !errors.As(err, &e) || e.RetryAfter > want || e.RetryAfter <= want-time.Millisecond {
		t.Errorf("%s: %v, want RetryAfter %v", what, err, want)
	}
}

func testClaimEvent(t *testing.T, open Opener) {
	s, clk := open.storeWithClock(t)
	ctx := t.Context()
	const lease = 20 * time.Second
	clock := time.Now()
	clk.set(func() time.Time { return clock })

	claim := func(e hookrun.Event) (hookrun.Event, hookrun.EventClaim, error) {
		t.Helper()
		return s.ClaimEvent(ctx, e, lease)
	}
	wantClaim := func(what string, e hookrun.Event, want hookrun.EventClaim) {
		t.Helper()
		got, how, err := claim(e)
		if err != nil || how != want || !sameEvent(got, e) {
			t.Errorf("%s: ClaimEvent = %+v, claim %v, %v; want the event, claim %v, nil", what, got, how, err, want)
		}
	}
	wantNew := func(what string, e hookrun.Event) { t.Helper(); wantClaim(what, e, hookrun.ClaimedNew) }

	first := newEvent("inv-1", "invoice.paid", `{"amount": 1200}`)
	wantNew("new id", first)
	_, _, err := claim(first)
	WantCode(t, "claim while the lease runs", err, hookrun.CodeAborted)
	wantRetryAfter(t, "claim while the lease runs", err, lease)

	if errs := s.RecordEvents(ctx, []hookrun.AcceptedEvent{{Event: first, MessageID: "msg-1", Claimed: true}}); errs != nil {
		t.Fatalf("RecordEvents(claimed): %v", errs)
	}
	retry := newEvent("inv-1", "invoice.updated", `{"amount": 1}`)
	got, how, err := claim(retry)
	if err != nil || how != hookrun.ClaimedDuplicate || !sameEvent(got, first) {
		t.Errorf("claim after accept = %+v, claim %v, %v; want the first event, duplicate, nil", got, how, err)
	}
	// Release never drops an accepted event.
	if err := s.ReleaseEvent(ctx, "acme", first.ID); err != nil {
		t.Fatalf("ReleaseEvent(accepted): %v", err)
	}
	if _, how, err := claim(retry); err != nil || how != hookrun.ClaimedDuplicate {
		t.Errorf("claim after releasing an accepted event: claim %v, %v; want duplicate", how, err)
	}
	if stored, err := s.GetEvent(ctx, "acme", first.ID); err != nil || !sameEvent(stored, first) {
		t.Errorf("GetEvent = %+v, %v; want the first event", stored, err)
	}

	// A failed publish releases the claim: the retry takes it over at
	// once, told that the failed publish may have gone through.
	second := newEvent("inv-2", "invoice.paid", `{}`)
	wantNew("new id", second)
	if err := s.ReleaseEvent(ctx, "acme", second.ID); err != nil {
		t.Fatalf("ReleaseEvent: %v", err)
	}
	wantClaim("claim after release", second, hookrun.ClaimedTakenOver)

	// A request that died holding a claim: its lease runs out and the next
	// claim takes over, with a lease of its own.
	third := newEvent("inv-3", "invoice.paid", `{}`)
	wantNew("new id", third)
	clock = clock.Add(lease - time.Second)
	_, _, err = claim(third)
	WantCode(t, "claim just before the lease ends", err, hookrun.CodeAborted)
	wantRetryAfter(t, "claim just before the lease ends", err, time.Second)
	clock = clock.Add(2 * time.Second)
	wantClaim("claim after the lease ended", third, hookrun.ClaimedTakenOver)
	_, _, err = claim(third)
	WantCode(t, "claim during the new lease", err, hookrun.CodeAborted)

	if err := s.ReleaseEvent(ctx, "acme", "never-claimed"); err != nil {
		t.Errorf("ReleaseEvent(missing) = %v, want nil", err)
	}
	_, err = s.GetEvent(ctx, "acme", "never-claimed")
	WantCode(t, "GetEvent(missing)", err, hookrun.CodeNotFound)
}

// Concurrent requests with one new event ID: exactly one may publish.
func testClaimEventConcurrent(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	const n = 20
	e := newEvent("order-42", "order.created", `{"n":42}`)
	type result struct {
		dup bool
		err error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, how, err := s.ClaimEvent(ctx, e, 30*time.Second)
			results <- result{how == hookrun.ClaimedDuplicate, err}
		}()
	}
	close(start)
	var won, aborted int
	for range n {
		r := <-results
		switch {
		case r.err == nil && !r.dup:
			won++
		case hookrun.ErrorCode(r.err) == hookrun.CodeAborted:
			aborted++
		default:
			t.Errorf("ClaimEvent: duplicate %v, %v; want a win or ABORTED", r.dup, r.err)
		}
	}
	if won != 1 || aborted != n-1 {
		t.Errorf("%d claims won and %d aborted, want 1 and %d", won, aborted, n-1)
	}
}

// RecordEvents records events Pub/Sub has, after ingest's answer, many
// at once: an unclaimed one (an ID ingest made) is created, keeping a
// record the dispatcher saved first; a claimed one's claim is accepted,
// or the event recorded if its claim is gone. A recorded event is a
// duplicate to a later claim of its ID.
func testRecordEvents(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	var evs []hookrun.AcceptedEvent
	for i := range 45 { // more than one BulkWriter batch (20)
		evs = append(evs, hookrun.AcceptedEvent{Event: newEvent(fmt.Sprintf("evt_made_%d", i), "user.created", fmt.Sprintf(`{"n":%d}`, i)), MessageID: fmt.Sprint(i)})
	}
	claimed := newEvent("inv-claimed", "invoice.paid", `{"amount":1}`)
	if _, _, err := s.ClaimEvent(ctx, claimed, time.Minute); err != nil {
		t.Fatalf("ClaimEvent: %v", err)
	}
	evs = append(evs, hookrun.AcceptedEvent{Event: claimed, MessageID: "m-claimed", Claimed: true})
	// A claim gone (past retention) before its record: recorded anew.
	evs = append(evs, hookrun.AcceptedEvent{Event: newEvent("inv-unclaimed", "invoice.paid", `{}`), MessageID: "m-gone", Claimed: true})
	// The dispatcher saved this one first (its delivery failed): kept.
	saved := newEvent("evt_saved", "user.created", `{"first":true}`)
	if err := s.SaveEvent(ctx, saved, "m-saved"); err != nil {
		t.Fatalf("SaveEvent: %v", err)
	}
	evs = append(evs, hookrun.AcceptedEvent{Event: newEvent("evt_saved", "user.created", `{"first":false}`), MessageID: "m-saved"})

	// New events only (in Firestore, one commit), then all of them: some
	// recorded already, the saved one kept (one write's failure must not
	// fail the others').
	if errs := s.RecordEvents(ctx, evs[:10]); errs != nil {
		t.Fatalf("RecordEvents(new events) = %v, want nil", errs)
	}
	if errs := s.RecordEvents(ctx, evs); errs != nil {
		t.Fatalf("RecordEvents = %v, want nil", errs)
	}
	for _, ae := range evs {
		want := ae.Event
		if want.ID == saved.ID {
			want = saved
		}
		got, err := s.GetEvent(ctx, "acme", want.ID)
		if err != nil || !sameEvent(got, want) {
			t.Errorf("GetEvent(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
		if _, how, err := s.ClaimEvent(ctx, ae.Event, time.Minute); err != nil || how != hookrun.ClaimedDuplicate {
			t.Errorf("ClaimEvent(%s) after RecordEvents: claim %v, %v; want duplicate", want.ID, how, err)
		}
	}
	if errs := s.RecordEvents(ctx, evs[:3]); errs != nil {
		t.Errorf("RecordEvents again = %v, want nil (recording is idempotent)", errs)
	}
}

func testSaveEvent(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	e := newEvent("msg-555", "google.cloud.storage.object.v1.finalized", `{"name":"a.txt"}`)
	e.Source = hookrun.SourcePubSub
	if err := s.SaveEvent(ctx, e, "555"); err != nil {
		t.Fatalf("SaveEvent: %v", err)
	}
	later := newEvent("msg-555", "other.type", `{"name":"b.txt"}`)
	if err := s.SaveEvent(ctx, later, "555"); err != nil {
		t.Fatalf("SaveEvent again: %v", err)
	}
	got, err := s.GetEvent(ctx, "acme", e.ID)
	if err != nil || !sameEvent(got, e) {
		t.Errorf("GetEvent = %+v, %v; want the first save kept: %+v", got, err, e)
	}
	// A saved event is accepted: an ingest request with its ID is a duplicate.
	if _, how, err := s.ClaimEvent(ctx, later, time.Minute); err != nil || how != hookrun.ClaimedDuplicate {
		t.Errorf("ClaimEvent of a saved event: claim %v, %v; want duplicate", how, err)
	}
}

func testDeliveries(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	const eventID, ep1, ep2 = "evt_1", "ep_one", "ep_two"
	got, err := s.GetDeliveries(ctx, "acme", eventID, []string{ep1, ep2})
	if err != nil || len(got) != 0 {
		t.Fatalf("GetDeliveries before any attempt = %v, %v; want none", got, err)
	}
	_, err = s.GetDelivery(ctx, "acme", eventID, ep1)
	WantCode(t, "GetDelivery(no delivery)", err, hookrun.CodeNotFound)

	t0 := Now()
	d := hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: ep1, EventType: "user.created", WebhookID: "msg_abc"}
	attempts := []hookrun.Attempt{
		{Number: 1, StartedAt: t0, StatusCode: 500, Latency: 1500 * time.Microsecond, Error: "endpoint answered 500", ResponseBody: "database is down"},
		{Number: 2, StartedAt: t0.Add(time.Minute), StatusCode: 200, Latency: 42 * time.Millisecond, ResponseBody: "ok"},
	}
	states := []hookrun.DeliveryState{hookrun.DeliveryRetrying, hookrun.DeliverySucceeded}
	for i, a := range attempts {
		d.State, d.LastStatusCode, d.LastError, d.UpdatedAt = states[i], a.StatusCode, a.Error, a.StartedAt.Add(a.Latency)
		if err := s.RecordAttempt(ctx, d, a); err != nil {
			t.Fatalf("RecordAttempt %d: %v", a.Number, err)
		}
	}

	got, err = s.GetDeliveries(ctx, "acme", eventID, []string{ep1, ep2})
	if err != nil {
		t.Fatalf("GetDeliveries: %v", err)
	}
	if _, ok := got[ep2]; ok || len(got) != 1 {
		t.Errorf("GetDeliveries = %v, want only %s", got, ep1)
	}
	g := got[ep1]
	if g.TenantID != "acme" || g.EventID != eventID || g.EndpointID != ep1 || g.EventType != "user.created" || g.WebhookID != "msg_abc" ||
		g.State != hookrun.DeliverySucceeded || g.Attempts != 2 || g.LastStatusCode != 200 || g.LastError != "" || !g.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("delivery = %+v, want succeeded after 2 attempts with the last one's outcome", g)
	}

	full, err := s.GetDelivery(ctx, "acme", eventID, ep1)
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	as := full.AttemptLog
	if len(as) != len(attempts) || full.ChainAttempts != 2 {
		t.Fatalf("GetDelivery attempts = %+v (chain attempts %d), want %d attempts", as, full.ChainAttempts, len(attempts))
	}
	for i, want := range attempts {
		a := as[i]
		if a.Number != want.Number || !a.StartedAt.Equal(want.StartedAt) || a.StatusCode != want.StatusCode || a.Latency != want.Latency ||
			a.Error != want.Error || a.ResponseBody != want.ResponseBody {
			t.Errorf("attempt %d = %+v, want %+v", i, a, want)
		}
	}
}

func testRejected(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	m := hookrun.RejectedMessage{
		MessageID:   "1234567",
		Reason:      "no event type: set the event_type or ce-type attribute",
		TenantID:    "acme",
		Attributes:  map[string]string{"tenant_id": "acme", "origin": "cron"},
		Data:        []byte("not json \x00\xff"),
		PublishedAt: Now().Add(-time.Second),
		RejectedAt:  Now(),
	}
	// Pub/Sub may push a message twice: it stays one record.
	for range 2 {
		if err := s.RecordRejected(ctx, m); err != nil {
			t.Fatalf("RecordRejected: %v", err)
		}
	}
	got, err := Rejected(ctx, s, m.MessageID)
	if err != nil {
		t.Fatalf("Rejected: %v", err)
	}
	if got.MessageID != m.MessageID || got.Reason != m.Reason || got.TenantID != m.TenantID || string(got.Data) != string(m.Data) ||
		len(got.Attributes) != 2 || got.Attributes["origin"] != "cron" || !got.PublishedAt.Equal(m.PublishedAt) || !got.RejectedAt.Equal(m.RejectedAt) {
		t.Errorf("Rejected = %+v\nwant %+v", got, m)
	}
	if all, _, err := s.ListRejected(ctx, "", 10, ""); err != nil || len(all) != 1 {
		t.Errorf("ListRejected = %d messages, %v; want the one", len(all), err)
	}
	_, err = Rejected(ctx, s, "999")
	WantCode(t, "Rejected(missing)", err, hookrun.CodeNotFound)
}

// Every call about one record that is not there is CodeNotFound, and a
// record created twice is CodeAlreadyExists: the services branch on both.
func testMissingRecords(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	notFound := []struct {
		name string
		call func() error
	}{
		{"GetTenant", func() error { _, err := s.GetTenant(ctx, "nobody"); return err }},
		{"UpdateTenant", func() error {
			_, err := s.UpdateTenant(ctx, "nobody", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn, nil })
			return err
		}},
		{"CreateAPIKey", func() error {
			_, k, _ := hookrun.NewTenantAPIKey("nobody", "", Now())
			return s.CreateAPIKey(ctx, k)
		}},
		{"RevokeAPIKey", func() error { _, err := s.RevokeAPIKey(ctx, "acme", "key_404", Now()); return err }},
		{"GetEndpoint", func() error { _, err := s.GetEndpoint(ctx, "acme", "ep_404"); return err }},
		{"UpdateEndpoint", func() error { return s.UpdateEndpoint(ctx, newEndpoint(t, "acme", "https://a.example/", Now(), "*")) }},
		{"DeleteEndpoint", func() error { return s.DeleteEndpoint(ctx, "acme", "ep_404") }},
		{"DisableEndpoint", func() error { return s.DisableEndpoint(ctx, "acme", "ep_404", "gone") }},
		{"ClearPreviousSecret", func() error { _, err := s.ClearPreviousSecret(ctx, "acme", "ep_404", "v1"); return err }},
		{"CountDeadInARow", func() error {
			_, err := s.CountDeadInARow(ctx, hookrun.Delivery{TenantID: "acme", EventID: "evt_404", EndpointID: "ep_404"})
			return err
		}},
		{"ResetDeadInARow", func() error { return s.ResetDeadInARow(ctx, "acme", "ep_404") }},
		{"GetEvent", func() error { _, err := s.GetEvent(ctx, "acme", "evt_404"); return err }},
		{"GetDelivery", func() error { _, err := s.GetDelivery(ctx, "acme", "evt_404", "ep_404"); return err }},
		{"MarkAnnounced", func() error { return s.MarkAnnounced(ctx, "acme", "evt_404", "ep_404") }},
		{"ClaimDeadLetter", func() error { return s.ClaimDeadLetter(ctx, "acme", "evt_404", "ep_404", "rp_1") }},
		{"StartReplay", func() error { _, err := s.StartReplay(ctx, "acme", "evt_404", "ep_404", "rp_1"); return err }},
	}
	for _, c := range notFound {
		t.Run(c.name, func(t *testing.T) { WantCode(t, c.name, c.call(), hookrun.CodeNotFound) })
	}

	// What is not there is no error where nothing is asked of it.
	if err := s.ReleaseEvent(ctx, "acme", "evt_404"); err != nil {
		t.Errorf("ReleaseEvent(missing): %v", err)
	}
	if _, done, err := s.DeleteTenantData(ctx, "nobody", 0); !done || err != nil {
		t.Errorf("DeleteTenantData(missing) = %v, %v; want done", done, err)
	}
	if c, err := s.GetCatalogue(ctx, "nobody"); len(c) != 0 || err != nil {
		t.Errorf("GetCatalogue(missing) = %v, %v; want none", c, err)
	}

	ep := newEndpoint(t, "acme", "https://a.example/", Now(), "*")
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	WantCode(t, "CreateEndpoint(twice)", s.CreateEndpoint(ctx, ep), hookrun.CodeAlreadyExists)
}
