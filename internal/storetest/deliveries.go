package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// failedAttempt is attempt n of chain, started at t.
func failedAttempt(n int, chain string, t time.Time) hookrun.Attempt {
	return hookrun.Attempt{Number: n, Chain: chain, StartedAt: t, StatusCode: 503, Latency: 7 * time.Millisecond,
		Error: "endpoint answered 503", ResponseBody: "try later"}
}

// record stores attempt a of d with the state it leads to.
func record(t *testing.T, s Store, d hookrun.Delivery, a hookrun.Attempt) {
	t.Helper()
	d.LastStatusCode, d.LastError, d.UpdatedAt = a.StatusCode, a.Error, a.StartedAt.Add(a.Latency)
	if err := s.RecordAttempt(t.Context(), d, a); err != nil {
		t.Fatalf("RecordAttempt(%s, attempt %d of chain %q): %v", hookrun.DeliveryID(d.EventID, d.EndpointID), a.Number, a.Chain, err)
	}
}

func getDelivery(t *testing.T, s Store, eventID, endpointID string) hookrun.Delivery {
	t.Helper()
	d, err := s.GetDelivery(t.Context(), "acme", eventID, endpointID)
	if err != nil {
		t.Fatalf("GetDelivery(%s): %v", hookrun.DeliveryID(eventID, endpointID), err)
	}
	return d
}

func testRecordAttemptChains(t *testing.T, open Opener) {
	s := open.store(t)
	t0 := Now()
	d := hookrun.Delivery{TenantID: "acme", EventID: "order:42", EndpointID: "ep_a", EventType: "order.created",
		WebhookID: hookrun.WebhookID("acme", "order:42", "ep_a")}

	// The original chain fails twice and dies; a replay fails once, then
	// succeeds.
	steps := []struct {
		chain string
		n     int
		state hookrun.DeliveryState
		ok    bool
	}{
		{"", 1, hookrun.DeliveryRetrying, false},
		{"", 2, hookrun.DeliveryDead, false},
		{"rp_1", 1, hookrun.DeliveryRetrying, false},
		{"rp_1", 2, hookrun.DeliverySucceeded, true},
	}
	var want []hookrun.Attempt
	for i, st := range steps {
		a := failedAttempt(st.n, st.chain, t0.Add(time.Duration(i)*time.Minute))
		if st.ok {
			a.StatusCode, a.Error, a.ResponseBody = 200, "", "ok"
		}
		d.State, d.Chain = st.state, st.chain
		d.NextAttemptAt, d.DeadReason, d.DeadAt = time.Time{}, "", time.Time{}
		switch st.state {
		case hookrun.DeliveryRetrying:
			d.NextAttemptAt = a.StartedAt.Add(30 * time.Second)
		case hookrun.DeliveryDead:
			d.DeadReason, d.DeadAt = "gave up after 2 attempts", a.StartedAt
		}
		record(t, s, d, a)
		want = append(want, a)

		got := getDelivery(t, s, d.EventID, d.EndpointID)
		if got.State != st.state || got.Chain != st.chain || got.ChainAttempts != st.n || got.Attempts != i+1 ||
			got.LastStatusCode != a.StatusCode || got.LastError != a.Error {
			t.Errorf("after attempt %d of chain %q: %s, chain %q, chain attempts %d, attempts %d, last %d %q; want %s, %q, %d, %d, %d %q",
				st.n, st.chain, got.State, got.Chain, got.ChainAttempts, got.Attempts, got.LastStatusCode, got.LastError,
				st.state, st.chain, st.n, i+1, a.StatusCode, a.Error)
		}
		if !got.NextAttemptAt.Equal(d.NextAttemptAt) || got.DeadReason != d.DeadReason || !got.DeadAt.Equal(d.DeadAt) {
			t.Errorf("after attempt %d of chain %q: next %v, dead %q at %v; want next %v, dead %q at %v",
				st.n, st.chain, got.NextAttemptAt, got.DeadReason, got.DeadAt, d.NextAttemptAt, d.DeadReason, d.DeadAt)
		}
		if got.WebhookID != d.WebhookID {
			t.Errorf("webhook id = %q, want %q throughout", got.WebhookID, d.WebhookID)
		}
	}

	got := getDelivery(t, s, d.EventID, d.EndpointID)
	if len(got.AttemptLog) != len(want) {
		t.Fatalf("attempt log has %d attempts, want %d: %+v", len(got.AttemptLog), len(want), got.AttemptLog)
	}
	for i, w := range want {
		a := got.AttemptLog[i]
		if a.Number != w.Number || a.Chain != w.Chain || !a.StartedAt.Equal(w.StartedAt) || a.StatusCode != w.StatusCode ||
			a.Latency != w.Latency || a.Error != w.Error || a.ResponseBody != w.ResponseBody {
			t.Errorf("attempt %d = %+v, want %+v", i, a, w)
		}
	}
}

func testSetDeliveryStateAndAnnounced(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	d := hookrun.Delivery{TenantID: "acme", EventID: "evt_1", EndpointID: "ep_a", EventType: "user.created",
		WebhookID: "msg_1", State: hookrun.DeliveryRetrying, Chain: "rp_1", NextAttemptAt: t0.Add(time.Hour)}
	record(t, s, d, failedAttempt(1, "rp_1", t0))
	record(t, s, d, failedAttempt(2, "rp_1", t0.Add(time.Minute)))
	before := getDelivery(t, s, d.EventID, d.EndpointID)

	// The endpoint went away while the delivery waited for its retry; the
	// dispatcher passes the stored delivery, chain attempts included.
	d.ChainAttempts = before.ChainAttempts
	d.State, d.NextAttemptAt = hookrun.DeliveryDead, time.Time{}
	d.DeadReason, d.DeadAt, d.UpdatedAt = "endpoint deleted", t0.Add(10*time.Minute), t0.Add(10*time.Minute)
	if err := s.SetDeliveryState(ctx, d); err != nil {
		t.Fatalf("SetDeliveryState: %v", err)
	}
	got := getDelivery(t, s, d.EventID, d.EndpointID)
	if got.State != hookrun.DeliveryDead || got.DeadReason != "endpoint deleted" || !got.DeadAt.Equal(d.DeadAt) ||
		!got.NextAttemptAt.IsZero() || !got.UpdatedAt.Equal(d.UpdatedAt) || got.Announced {
		t.Errorf("after SetDeliveryState: %+v; want dead, reason, dead time, no next attempt, not announced", got)
	}
	if got.Attempts != 2 || got.ChainAttempts != 2 || got.Chain != "rp_1" || got.LastStatusCode != 503 ||
		len(got.AttemptLog) != 2 || !slices.Equal(got.AttemptLog, before.AttemptLog) {
		t.Errorf("SetDeliveryState touched the attempts: %d attempts (%d in chain %q), last %d, log %+v; want them as before: %+v",
			got.Attempts, got.ChainAttempts, got.Chain, got.LastStatusCode, got.AttemptLog, before)
	}

	if err := s.MarkAnnounced(ctx, "acme", d.EventID, d.EndpointID); err != nil {
		t.Fatalf("MarkAnnounced: %v", err)
	}
	if got := getDelivery(t, s, d.EventID, d.EndpointID); !got.Announced || got.State != hookrun.DeliveryDead || len(got.AttemptLog) != 2 {
		t.Errorf("after MarkAnnounced: announced %v, %s, %d attempts; want announced and otherwise unchanged", got.Announced, got.State, len(got.AttemptLog))
	}
	WantCode(t, "MarkAnnounced(missing delivery)", s.MarkAnnounced(ctx, "acme", "evt_404", "ep_a"), hookrun.CodeNotFound)
}

func testDisableEndpoint(t *testing.T, open Opener) {
	s, clk := open.storeWithClock(t)
	ctx := t.Context()
	// Created a while ago, so that it owes what came a moment before the
	// disable however fast the store is.
	ep := newEndpoint(t, "acme", "https://gone.example.com/", Now().Add(-time.Second), "user.*")
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	const reason = "endpoint answered 410 Gone: endpoint disabled"
	if err := s.DisableEndpoint(ctx, "acme", ep.ID, reason); err != nil {
		t.Fatalf("DisableEndpoint: %v", err)
	}
	got, err := s.GetEndpoint(ctx, "acme", ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if got.Status != hookrun.EndpointDisabled || got.DisabledReason != reason || got.Matches("user.created") {
		t.Errorf("disabled endpoint: status %s, reason %q, matches user.created %v; want disabled, %q, no match",
			got.Status, got.DisabledReason, got.Matches("user.created"), reason)
	}
	if got.URL != ep.URL || !slices.Equal(got.EventTypes, ep.EventTypes) || got.SecretVersion != ep.SecretVersion {
		t.Errorf("disabling changed the endpoint: %+v, want %+v", got, ep)
	}
	// The time it stopped being active decides which events still owe it
	// a dead letter; disabling it again keeps that time.
	if got.InactiveSince.IsZero() || !got.Owes(got.InactiveSince.Add(-time.Millisecond)) || got.Owes(got.InactiveSince) {
		t.Errorf("disabled endpoint: inactive since %v; want the time of the disable, owing events accepted before it", got.InactiveSince)
	}
	clk.set(func() time.Time { return time.Now().Add(time.Hour) })
	if err := s.DisableEndpoint(ctx, "acme", ep.ID, "again"); err != nil {
		t.Fatalf("DisableEndpoint again: %v", err)
	}
	if again, _ := s.GetEndpoint(ctx, "acme", ep.ID); !again.InactiveSince.Equal(got.InactiveSince) {
		t.Errorf("disabling again moved inactive since from %v to %v", got.InactiveSince, again.InactiveSince)
	}
	WantCode(t, "DisableEndpoint(missing)", s.DisableEndpoint(ctx, "acme", "ep_404", reason), hookrun.CodeNotFound)
	_, err = s.GetEndpoint(ctx, "acme", "ep_404")
	WantCode(t, "GetEndpoint after disabling a missing endpoint", err, hookrun.CodeNotFound)
}

func testListDeliveries(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	put := func(eventID, endpointID string, state hookrun.DeliveryState) {
		t.Helper()
		d := hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: endpointID, EventType: "user.created", State: state}
		record(t, s, d, failedAttempt(1, "", t0))
	}
	put("evt_1", "ep_a", hookrun.DeliveryRetrying)
	put("evt_1", "ep_b", hookrun.DeliveryDead)
	put("evt_2", "ep_a", hookrun.DeliveryRetrying)
	put("evt_3", "ep_a", hookrun.DeliveryRetrying)
	put("evt_4", "ep_a", hookrun.DeliveryDead)
	put("evt_5", "ep_a", hookrun.DeliverySucceeded)
	put("evt_6", "ep_b", hookrun.DeliveryRetrying)
	// evt_1x shares a prefix with evt_1 but is another event.
	put("evt_1x", "ep_a", hookrun.DeliveryRetrying)

	got, err := s.ListEventDeliveries(ctx, "acme", "evt_1")
	if err != nil {
		t.Fatalf("ListEventDeliveries: %v", err)
	}
	if ids := deliveryIDs(got); !slices.Equal(sortedCopy(ids), []string{"evt_1:ep_a", "evt_1:ep_b"}) {
		t.Errorf("ListEventDeliveries(evt_1) = %v, want only evt_1's two", ids)
	}
	for _, d := range got {
		if len(d.AttemptLog) != 1 || d.AttemptLog[0].StatusCode != 503 || d.TenantID != "acme" {
			t.Errorf("delivery %s of tenant %q has attempts %+v, want its one attempt", hookrun.DeliveryID(d.EventID, d.EndpointID), d.TenantID, d.AttemptLog)
		}
	}
	if got, err := s.ListEventDeliveries(ctx, "acme", "evt_404"); err != nil || len(got) != 0 {
		t.Errorf("ListEventDeliveries(unknown event) = %v, %v; want none", got, err)
	}
	if got, err := s.ListEventDeliveries(ctx, "globex", "evt_1"); err != nil || len(got) != 0 {
		t.Errorf("ListEventDeliveries(another tenant) = %v, %v; want none", got, err)
	}

	tests := []struct {
		endpointID string
		state      hookrun.DeliveryState
		limit      int
		want       []string // nil: any limit-sized subset of all
		all        []string
	}{
		{"ep_a", hookrun.DeliveryRetrying, 10, []string{"evt_1:ep_a", "evt_1x:ep_a", "evt_2:ep_a", "evt_3:ep_a"}, nil},
		{"ep_a", hookrun.DeliveryRetrying, 2, nil, []string{"evt_1:ep_a", "evt_1x:ep_a", "evt_2:ep_a", "evt_3:ep_a"}},
		{"ep_a", hookrun.DeliveryDead, 10, []string{"evt_4:ep_a"}, nil},
		{"ep_b", hookrun.DeliveryRetrying, 10, []string{"evt_6:ep_b"}, nil},
		{"ep_c", hookrun.DeliveryRetrying, 10, []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s limit %d", tt.endpointID, tt.state, tt.limit), func(t *testing.T) {
			got, err := s.ListEndpointDeliveries(ctx, "acme", tt.endpointID, tt.state, tt.limit)
			if err != nil {
				t.Fatalf("ListEndpointDeliveries: %v", err)
			}
			ids := sortedCopy(deliveryIDs(got))
			if tt.want != nil && !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
			if tt.want == nil {
				if len(ids) != tt.limit || slices.ContainsFunc(ids, func(id string) bool { return !slices.Contains(tt.all, id) }) {
					t.Errorf("got %v, want %d of %v", ids, tt.limit, tt.all)
				}
			}
			for _, d := range got {
				if d.State != tt.state || d.EndpointID != tt.endpointID || d.AttemptLog != nil {
					t.Errorf("delivery %+v: want %s of %s, without attempts", d, tt.state, tt.endpointID)
				}
			}
		})
	}
}

func deliveryIDs(ds []hookrun.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = hookrun.DeliveryID(d.EventID, d.EndpointID)
	}
	return out
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// deadLetterFixture stores seven dead letters of acme, one minute apart
// (dl1 oldest), beside deliveries that are not dead and a dead letter of
// another tenant. newest lists their IDs newest first.
type deadLetterFixture struct {
	t0     time.Time
	newest []string
}

func seedDeadLetters(t *testing.T, s Store) deadLetterFixture {
	t.Helper()
	f := deadLetterFixture{t0: Now().Add(-time.Hour)}
	seeds := []struct{ eventID, endpointID, eventType string }{
		{"dl1", "ep_a", "order.created"},
		{"dl2", "ep_b", "order.created"},
		{"dl3", "ep_a", "invoice.paid"},
		{"dl:4", "ep_a", "order.created"}, // event IDs may hold ':'
		{"dl5", "ep_b", "invoice.paid"},
		{"dl6", "ep_a", "invoice.paid"},
		{"dl7", "ep_b", "order.created"},
	}
	for i, sd := range seeds {
		at := f.t0.Add(time.Duration(i) * time.Minute)
		d := hookrun.Delivery{TenantID: "acme", EventID: sd.eventID, EndpointID: sd.endpointID, EventType: sd.eventType,
			State: hookrun.DeliveryDead, DeadReason: "gave up after 1 attempts", DeadAt: at}
		record(t, s, d, failedAttempt(1, "", at))
		f.newest = append([]string{hookrun.DeliveryID(sd.eventID, sd.endpointID)}, f.newest...)
	}
	others := []hookrun.Delivery{
		{TenantID: "acme", EventID: "live1", EndpointID: "ep_a", EventType: "order.created", State: hookrun.DeliveryRetrying},
		{TenantID: "acme", EventID: "live2", EndpointID: "ep_b", EventType: "invoice.paid", State: hookrun.DeliverySucceeded},
		{TenantID: "globex", EventID: "dl1", EndpointID: "ep_a", EventType: "order.created", State: hookrun.DeliveryDead,
			DeadReason: "gave up", DeadAt: f.t0.Add(3 * time.Minute)},
	}
	for _, d := range others {
		record(t, s, d, failedAttempt(1, "", f.t0.Add(3*time.Minute)))
	}
	return f
}

// only keeps the IDs of ids that are in keep, in order.
func only(ids []string, keep ...string) []string {
	var out []string
	for _, id := range ids {
		if slices.Contains(keep, id) {
			out = append(out, id)
		}
	}
	return out
}

func testListDeadLetters(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	fx := seedDeadLetters(t, s)
	at := func(i int) time.Time { return fx.t0.Add(time.Duration(i) * time.Minute) } // dead time of dl{i+1}
	all := fx.newest
	tests := []struct {
		name string
		f    hookrun.DeadLetterFilter
		want []string
	}{
		{"all, newest first", hookrun.DeadLetterFilter{}, all},
		{"by endpoint", hookrun.DeadLetterFilter{EndpointID: "ep_b"}, only(all, "dl2:ep_b", "dl5:ep_b", "dl7:ep_b")},
		{"by event type", hookrun.DeadLetterFilter{EventType: "invoice.paid"}, only(all, "dl3:ep_a", "dl5:ep_b", "dl6:ep_a")},
		{"by endpoint and event type", hookrun.DeadLetterFilter{EndpointID: "ep_a", EventType: "order.created"}, only(all, "dl1:ep_a", "dl:4:ep_a")},
		{"since is inclusive", hookrun.DeadLetterFilter{Since: at(4)}, only(all, "dl5:ep_b", "dl6:ep_a", "dl7:ep_b")},
		{"until is exclusive", hookrun.DeadLetterFilter{Until: at(2)}, only(all, "dl1:ep_a", "dl2:ep_b")},
		{"time range", hookrun.DeadLetterFilter{Since: at(1), Until: at(4)}, only(all, "dl2:ep_b", "dl3:ep_a", "dl:4:ep_a")},
		{"endpoint in a time range", hookrun.DeadLetterFilter{EndpointID: "ep_a", Since: at(2), Until: at(6)}, only(all, "dl3:ep_a", "dl:4:ep_a", "dl6:ep_a")},
		{"nothing matches", hookrun.DeadLetterFilter{EndpointID: "ep_c"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := s.ListDeadLetters(ctx, "acme", tt.f, 50, "")
			if err != nil {
				t.Fatalf("ListDeadLetters: %v", err)
			}
			if ids := deliveryIDs(got); !slices.Equal(ids, tt.want) || next != "" {
				t.Errorf("ListDeadLetters = %v (next %q), want %v and no next page", ids, next, tt.want)
			}
			for _, d := range got {
				if d.State != hookrun.DeliveryDead || d.DeadReason == "" || len(d.AttemptLog) != 1 || d.TenantID != "acme" {
					t.Errorf("dead letter %+v: want dead with its reason and its attempt", d)
				}
			}
		})
	}
}

// listAll pages through the dead letters matching f, pageSize at a time,
// and returns the IDs of each page.
func listAll(t *testing.T, s Store, f hookrun.DeadLetterFilter, pageSize int) [][]string {
	t.Helper()
	var pages [][]string
	token := ""
	for {
		got, next, err := s.ListDeadLetters(t.Context(), "acme", f, pageSize, token)
		if err != nil {
			t.Fatalf("ListDeadLetters(page %d): %v", len(pages)+1, err)
		}
		pages = append(pages, deliveryIDs(got))
		if next == "" {
			return pages
		}
		if len(pages) > 20 {
			t.Fatalf("more than 20 pages: %v", pages)
		}
		token = next
	}
}

func testListDeadLettersPages(t *testing.T, open Opener) {
	s := open.store(t)
	fx := seedDeadLetters(t, s)
	all := fx.newest
	tests := []struct {
		name     string
		f        hookrun.DeadLetterFilter
		pageSize int
		want     [][]string
	}{
		{"three pages", hookrun.DeadLetterFilter{}, 3, [][]string{all[:3], all[3:6], all[6:]}},
		{"last page exactly full", hookrun.DeadLetterFilter{Since: fx.t0.Add(time.Minute)}, 3, [][]string{all[:3], all[3:6]}},
		{"one at a time", hookrun.DeadLetterFilter{}, 1, [][]string{{all[0]}, {all[1]}, {all[2]}, {all[3]}, {all[4]}, {all[5]}, {all[6]}}},
		{"with a filter", hookrun.DeadLetterFilter{EndpointID: "ep_a"}, 2,
			[][]string{only(all, "dl6:ep_a", "dl:4:ep_a"), only(all, "dl3:ep_a", "dl1:ep_a")}},
		{"all in one", hookrun.DeadLetterFilter{}, 7, [][]string{all}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listAll(t, s, tt.f, tt.pageSize); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("pages = %v, want %v", got, tt.want)
			}
		})
	}
}

// Dead letters that died in the same microsecond still page without gaps
// or repeats: the document ID breaks the tie.
func testListDeadLettersPagesSameDeadTime(t *testing.T, open Opener) {
	s := open.store(t)
	at := Now()
	var want []string
	for _, id := range []string{"tie_c", "tie_a", "tie_b", "tie_d"} {
		d := hookrun.Delivery{TenantID: "acme", EventID: id, EndpointID: "ep_a", EventType: "order.created",
			State: hookrun.DeliveryDead, DeadReason: "gave up", DeadAt: at}
		record(t, s, d, failedAttempt(1, "", at))
		want = append(want, hookrun.DeliveryID(id, "ep_a"))
	}
	var got []string
	for _, p := range listAll(t, s, hookrun.DeadLetterFilter{}, 1) {
		got = append(got, p...)
	}
	if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("pages of 1 hold %v, want each of %v once", got, want)
	}
}

func testListDeadLettersBadToken(t *testing.T, open Opener) {
	s := open.store(t)
	seedDeadLetters(t, s)
	for _, token := range []string{
		"garbage!",
		"bm90IGpzb24",                            // base64 of "not json"
		"eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoifQ", // {"t":"2026-01-01T00:00:00Z"}: no id
	} {
		_, _, err := s.ListDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, 3, token)
		WantCode(t, fmt.Sprintf("ListDeadLetters(token %q)", token), err, hookrun.CodeInvalidArgument)
	}
}

func testListRejectedPagesNewestFirst(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	for i, tenant := range []string{"acme", "", "acme"} {
		m := hookrun.RejectedMessage{MessageID: fmt.Sprintf("m%d", i), TenantID: tenant, Reason: "r", RejectedAt: t0.Add(time.Duration(i) * time.Second)}
		if err := s.RecordRejected(ctx, m); err != nil {
			t.Fatalf("RecordRejected: %v", err)
		}
	}
	var ids []string
	token := ""
	for {
		ms, next, err := s.ListRejected(ctx, "", 2, token)
		if err != nil {
			t.Fatalf("ListRejected: %v", err)
		}
		for _, m := range ms {
			ids = append(ids, m.MessageID)
		}
		if next == "" {
			break
		}
		token = next
	}
	if want := []string{"m2", "m1", "m0"}; !slices.Equal(ids, want) {
		t.Errorf("all pages = %v, want %v", ids, want)
	}
	ms, _, err := s.ListRejected(ctx, "acme", 10, "")
	if err != nil || len(ms) != 2 || ms[0].MessageID != "m2" {
		t.Errorf("acme's = %+v, %v; want m2, m0", ms, err)
	}
	if _, _, err := s.ListRejected(ctx, "", 10, "garbage"); hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument {
		t.Errorf("garbage token: %v, want INVALID_ARGUMENT", err)
	}
}

// RecordAttempts stores several attempts at once, each as RecordAttempt
// would, two of one delivery among them in their order, and one of a
// delivery stored before; the metrics count them as RecordAttempt's.
func testRecordAttempts(t *testing.T, open Opener) {
	s := open.store(t)
	t0 := Now()
	delivery := func(eventID, endpointID string, a hookrun.Attempt, state hookrun.DeliveryState) hookrun.AttemptRecord {
		d := hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: endpointID, EventType: "order.created",
			WebhookID: hookrun.WebhookID("acme", eventID, endpointID), State: state, ChainAttempts: a.Number,
			LastStatusCode: a.StatusCode, LastError: a.Error, UpdatedAt: a.StartedAt.Add(a.Latency), EventAt: t0}
		if state == hookrun.DeliveryRetrying {
			d.NextAttemptAt = a.StartedAt.Add(time.Minute)
		}
		return hookrun.AttemptRecord{Delivery: d, Attempt: a}
	}
	ok := func(n int, at time.Time) hookrun.Attempt {
		return hookrun.Attempt{Number: n, StartedAt: at, StatusCode: 204, Latency: 3 * time.Millisecond}
	}
	before := delivery("evt_3", "ep_a", failedAttempt(1, "", t0), hookrun.DeliveryRetrying)
	if err := s.RecordAttempt(t.Context(), before.Delivery, before.Attempt); err != nil {
		t.Fatal(err)
	}
	recs := []hookrun.AttemptRecord{
		delivery("evt_1", "ep_a", ok(1, t0), hookrun.DeliverySucceeded),
		delivery("evt_2", "ep_b", failedAttempt(1, "", t0), hookrun.DeliveryRetrying),
		delivery("evt_1", "ep_b", ok(1, t0), hookrun.DeliverySucceeded),
		delivery("evt_2", "ep_b", ok(2, t0.Add(time.Second)), hookrun.DeliverySucceeded),
		delivery("evt_3", "ep_a", ok(2, t0.Add(time.Second)), hookrun.DeliverySucceeded),
	}
	if errs := s.RecordAttempts(t.Context(), recs); errs != nil {
		t.Fatalf("RecordAttempts = %v, want nil", errs)
	}
	for _, w := range []struct {
		eventID, endpointID string
		attempts            []hookrun.Attempt
	}{
		{"evt_1", "ep_a", []hookrun.Attempt{recs[0].Attempt}},
		{"evt_1", "ep_b", []hookrun.Attempt{recs[2].Attempt}},
		{"evt_2", "ep_b", []hookrun.Attempt{recs[1].Attempt, recs[3].Attempt}},
		{"evt_3", "ep_a", []hookrun.Attempt{before.Attempt, recs[4].Attempt}},
	} {
		got := getDelivery(t, s, w.eventID, w.endpointID)
		last := w.attempts[len(w.attempts)-1]
		if got.State != hookrun.DeliverySucceeded || got.Attempts != len(w.attempts) || got.ChainAttempts != last.Number ||
			got.LastStatusCode != last.StatusCode || got.LastError != "" {
			t.Errorf("%s: %s, attempts %d, chain attempts %d, last %d %q; want succeeded, %d, %d, %d \"\"",
				hookrun.DeliveryID(w.eventID, w.endpointID), got.State, got.Attempts, got.ChainAttempts, got.LastStatusCode, got.LastError,
				len(w.attempts), last.Number, last.StatusCode)
		}
		if len(got.AttemptLog) != len(w.attempts) {
			t.Errorf("%s: attempt log %+v, want %d attempts", hookrun.DeliveryID(w.eventID, w.endpointID), got.AttemptLog, len(w.attempts))
			continue
		}
		for i, a := range got.AttemptLog {
			if a.Number != w.attempts[i].Number || a.StatusCode != w.attempts[i].StatusCode || !a.StartedAt.Equal(w.attempts[i].StartedAt) {
				t.Errorf("%s: attempt %d = %+v, want %+v", hookrun.DeliveryID(w.eventID, w.endpointID), i, a, w.attempts[i])
			}
		}
	}
	m, err := s.Metrics(t.Context(), "acme", "", t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if m.Deliveries != 4 || m.Succeeded != 4 || m.Attempts != 6 || m.FailedAttempts != 2 || m.AvgResponseMS == nil {
		t.Errorf("Metrics = %d deliveries, %d succeeded, %d attempts, %d failed, mean latency %v; want 4, 4, 6, 2 and a mean",
			m.Deliveries, m.Succeeded, m.Attempts, m.FailedAttempts, m.AvgResponseMS)
	}
	if errs := s.RecordAttempts(t.Context(), nil); errs != nil {
		t.Errorf("RecordAttempts(none) = %v, want nil", errs)
	}
}
