package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

// deliveryEnv is an ingest service whose store already holds what the
// dispatcher would have written for tenant acme: endpoints, events and
// their deliveries, some of them dead letters.
type deliveryEnv struct {
	*env
	acmeKey, globexKey string
	t0                 time.Time // dead_time of the oldest dead letter
}

// The seeded records. Event IDs may contain ':', like delivery IDs.
const (
	evOrder   = "order:42" // order.created: dead at ep_a, succeeded at ep_b
	evUser    = "evt_1"    // user.created: retrying at ep_a, dead at ep_off
	evInvoice = "inv-7"    // invoice.paid: dead at ep_a and at ep_gone
	evQuiet   = "evt_quiet"
)

func newDeliveryEnv(t *testing.T) *deliveryEnv {
	t.Helper()
	e := &deliveryEnv{env: newEnv(t, nil), t0: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	e.acmeKey = e.createTenant(t, "acme")
	e.globexKey = e.createTenant(t, "globex")
	s := e.store
	s.addEndpoint(hookrun.Endpoint{ID: "ep_a", TenantID: "acme", URL: "https://a.example.com/", Status: hookrun.EndpointActive})
	s.addEndpoint(hookrun.Endpoint{ID: "ep_b", TenantID: "acme", URL: "https://b.example.com/", Status: hookrun.EndpointActive})
	s.addEndpoint(hookrun.Endpoint{ID: "ep_off", TenantID: "acme", URL: "https://off.example.com/",
		Status: hookrun.EndpointDisabled, DisabledReason: "endpoint answered 410 Gone: endpoint disabled"})
	s.addEndpoint(hookrun.Endpoint{ID: "ep_g", TenantID: "globex", URL: "https://g.example.com/", Status: hookrun.EndpointActive})

	s.addEvent(hookrun.Event{ID: evOrder, TenantID: "acme", Type: "order.created", Data: json.RawMessage(`{"order": 42}`),
		Source: hookrun.SourceAPI, ReceivedAt: e.t0.Add(-time.Hour)})
	s.addEvent(hookrun.Event{ID: evUser, TenantID: "acme", Type: "user.created", Data: json.RawMessage(`{"user":"u1"}`),
		Source: hookrun.SourcePubSub, ReceivedAt: e.t0.Add(-time.Hour)})
	s.addEvent(hookrun.Event{ID: evInvoice, TenantID: "acme", Type: "invoice.paid", Data: json.RawMessage(`{"amount":1200}`),
		Source: hookrun.SourceAPI, ReceivedAt: e.t0.Add(-time.Hour)})
	s.addEvent(hookrun.Event{ID: evQuiet, TenantID: "acme", Type: "user.deleted", Data: json.RawMessage(`{}`),
		Source: hookrun.SourceAPI, ReceivedAt: e.t0})
	s.addEvent(hookrun.Event{ID: evOrder, TenantID: "globex", Type: "order.created", Data: json.RawMessage(`{"globex":true}`),
		Source: hookrun.SourceAPI, ReceivedAt: e.t0})

	failed := func(n int, chain string) hookrun.Attempt {
		return hookrun.Attempt{Number: n, Chain: chain, StartedAt: e.t0.Add(time.Duration(n) * time.Minute), StatusCode: 500,
			Latency: 12 * time.Millisecond, Error: "endpoint answered 500", ResponseBody: "database is down"}
	}
	dead := func(eventID, endpointID, typ string, at time.Time) hookrun.Delivery {
		return hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: endpointID, EventType: typ,
			WebhookID: hookrun.WebhookID("acme", eventID, endpointID), State: hookrun.DeliveryDead, Attempts: 3, ChainAttempts: 1,
			Chain: "rp_earlier", LastStatusCode: 500, LastError: "endpoint answered 500", UpdatedAt: at, DeadAt: at,
			DeadReason: "gave up after 2 attempts; last: endpoint answered 500",
			AttemptLog: []hookrun.Attempt{failed(1, ""), failed(2, ""), failed(1, "rp_earlier")}}
	}
	s.addDelivery(dead(evOrder, "ep_a", "order.created", e.t0))
	s.addDelivery(hookrun.Delivery{TenantID: "acme", EventID: evOrder, EndpointID: "ep_b", EventType: "order.created",
		State: hookrun.DeliverySucceeded, Attempts: 1, ChainAttempts: 1, LastStatusCode: 204, UpdatedAt: e.t0,
		AttemptLog: []hookrun.Attempt{{Number: 1, StartedAt: e.t0, StatusCode: 204, Latency: time.Millisecond}}})
	s.addDelivery(hookrun.Delivery{TenantID: "acme", EventID: evUser, EndpointID: "ep_a", EventType: "user.created",
		State: hookrun.DeliveryRetrying, Attempts: 1, ChainAttempts: 1, LastStatusCode: 503, NextAttemptAt: e.t0.Add(time.Hour),
		AttemptLog: []hookrun.Attempt{failed(1, "")}})
	s.addDelivery(dead(evUser, "ep_off", "user.created", e.t0.Add(time.Hour)))
	s.addDelivery(dead(evInvoice, "ep_a", "invoice.paid", e.t0.Add(2*time.Hour)))
	s.addDelivery(dead(evInvoice, "ep_gone", "invoice.paid", e.t0.Add(3*time.Hour))) // its endpoint was deleted
	g := dead(evOrder, "ep_g", "order.created", e.t0)
	g.TenantID = "globex"
	s.addDelivery(g)
	return e
}

// addEndpoint stores ep, for every event type unless it says: an endpoint
// without a pattern is one the store cannot read back.
func (s *testStore) addEndpoint(ep hookrun.Endpoint) {
	if ep.EventTypes == nil {
		ep.EventTypes = []string{"*"}
	}
	if err := s.Store.CreateEndpoint(context.Background(), ep); err != nil {
		panic(err)
	}
}

// addEvent stores an accepted event, as ingest or the dispatcher would.
func (s *testStore) addEvent(ev hookrun.Event) {
	if err := s.SaveEvent(context.Background(), ev, "seeded"); err != nil {
		panic(err)
	}
}

func (s *testStore) addDelivery(d hookrun.Delivery) { s.PutDelivery(d) }

// deliveryOut is a delivery as the API answers it.
type deliveryOut struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant_id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	EventType  string `json:"event_type"`
	WebhookID  string `json:"webhook_id"`
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
	Chain      string `json:"chain"`
	DeadReason string `json:"dead_reason"`
	DeadTime   string `json:"dead_time"`
	AttemptLog []struct {
		Number       int    `json:"number"`
		Chain        string `json:"chain"`
		StartTime    string `json:"start_time"`
		StatusCode   int    `json:"status_code"`
		Error        string `json:"error"`
		ResponseBody string `json:"response_body"`
	} `json:"attempt_log"`
}

func ids(ds []deliveryOut) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestGetEventWithDeliveries(t *testing.T) {
	e := newDeliveryEnv(t)
	for _, token := range []string{e.acmeKey, adminToken} {
		w := e.do(t, http.MethodGet, "/v1/tenants/acme/events/"+evOrder, token, "")
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
		}
		got := decode[struct {
			ID         string          `json:"id"`
			TenantID   string          `json:"tenant_id"`
			Type       string          `json:"type"`
			Data       json.RawMessage `json:"data"`
			Deliveries []deliveryOut   `json:"deliveries"`
		}](t, w)
		if got.ID != evOrder || got.TenantID != "acme" || got.Type != "order.created" || string(got.Data) != `{"order":42}` {
			t.Errorf("event = %s %s %s %s, want %s of acme, order.created, its data", got.ID, got.TenantID, got.Type, got.Data, evOrder)
		}
		if want := sorted("order:42:ep_a", "order:42:ep_b"); !slices.Equal(ids(got.Deliveries), want) {
			t.Fatalf("delivery ids = %v, want %v: the event's own, named {event}:{endpoint}", ids(got.Deliveries), want)
		}
		for _, d := range got.Deliveries {
			switch d.EndpointID {
			case "ep_a":
				if d.State != "dead" || d.Attempts != 3 || d.DeadReason == "" || d.WebhookID != hookrun.WebhookID("acme", evOrder, "ep_a") {
					t.Errorf("dead delivery = %+v, want dead after 3 attempts with its reason and webhook id", d)
				}
				if len(d.AttemptLog) != 3 {
					t.Fatalf("dead delivery attempt log = %+v, want 3 attempts", d.AttemptLog)
				}
				a := d.AttemptLog[2]
				if a.Number != 1 || a.Chain != "rp_earlier" || a.StatusCode != 500 || a.Error != "endpoint answered 500" ||
					a.ResponseBody != "database is down" || a.StartTime == "" {
					t.Errorf("last attempt = %+v, want attempt 1 of chain rp_earlier with its outcome", a)
				}
			case "ep_b":
				if d.State != "succeeded" || len(d.AttemptLog) != 1 || d.AttemptLog[0].StatusCode != 204 {
					t.Errorf("succeeded delivery = %+v, want one 204 attempt", d)
				}
			}
		}
	}

	// An event no endpoint wanted has an empty list, not null.
	w := e.do(t, http.MethodGet, "/v1/tenants/acme/events/"+evQuiet, e.acmeKey, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"deliveries":[]`) {
		t.Errorf("event without deliveries: %d %s, want 200 with \"deliveries\":[]", w.Code, w.Body)
	}
}

func TestGetEventRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, path, token string
		status            int
		code              hookrun.Code
		msg               string
	}{
		{"unknown event", "/v1/tenants/acme/events/nope", e.acmeKey, 404, hookrun.CodeNotFound, "nope"},
		{"another tenant's event", "/v1/tenants/acme/events/" + evOrder, e.globexKey, 403, hookrun.CodePermissionDenied, "acme"},
		{"no credentials", "/v1/tenants/acme/events/" + evOrder, "", 401, hookrun.CodeUnauthenticated, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodGet, tt.path, tt.token, ""), tt.status, tt.code, tt.msg)
		})
	}
}

type deadLettersPage struct {
	DeadLetters   []deliveryOut `json:"dead_letters"`
	NextPageToken string        `json:"next_page_token"`
}

func TestListDeadLetters(t *testing.T) {
	e := newDeliveryEnv(t)
	at := func(h int) string { return e.t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	all := sorted("order:42:ep_a", "evt_1:ep_off", "inv-7:ep_a", "inv-7:ep_gone")
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"all of the tenant's, none of another's", nil, all},
		{"by endpoint", url.Values{"endpoint_id": {"ep_a"}}, sorted("order:42:ep_a", "inv-7:ep_a")},
		{"by event type", url.Values{"event_type": {"invoice.paid"}}, sorted("inv-7:ep_a", "inv-7:ep_gone")},
		{"by endpoint and event type", url.Values{"endpoint_id": {"ep_a"}, "event_type": {"order.created"}}, []string{"order:42:ep_a"}},
		{"since is inclusive", url.Values{"since": {at(1)}}, sorted("evt_1:ep_off", "inv-7:ep_a", "inv-7:ep_gone")},
		{"until is exclusive", url.Values{"until": {at(1)}}, []string{"order:42:ep_a"}},
		{"time range", url.Values{"since": {at(1)}, "until": {at(3)}}, sorted("evt_1:ep_off", "inv-7:ep_a")},
		{"fractional seconds and offsets", url.Values{"since": {e.t0.Add(time.Hour - time.Second/2).In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)}},
			sorted("evt_1:ep_off", "inv-7:ep_a", "inv-7:ep_gone")},
		{"nothing matches", url.Values{"endpoint_id": {"ep_b"}}, []string{}},
		{"page size at the maximum", url.Values{"page_size": {"500"}}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, "/v1/tenants/acme/dead-letters?"+tt.query.Encode(), e.acmeKey, "")
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			got := decode[deadLettersPage](t, w)
			if !slices.Equal(ids(got.DeadLetters), tt.want) || got.NextPageToken != "" {
				t.Errorf("dead letters = %v (next page %q), want %v and no next page", ids(got.DeadLetters), got.NextPageToken, tt.want)
			}
			if got.DeadLetters == nil {
				t.Errorf("dead_letters is null, want a list")
			}
		})
	}

	// A dead letter carries its story.
	w := e.do(t, http.MethodGet, "/v1/tenants/acme/dead-letters?endpoint_id=ep_off", e.acmeKey, "")
	page := decode[deadLettersPage](t, w)
	if len(page.DeadLetters) != 1 {
		t.Fatalf("dead letters of ep_off = %+v, want 1", page.DeadLetters)
	}
	d := page.DeadLetters[0]
	if d.EventID != evUser || d.EndpointID != "ep_off" || d.EventType != "user.created" || d.State != "dead" ||
		d.DeadReason == "" || d.DeadTime != at(1) || len(d.AttemptLog) != 3 {
		t.Errorf("dead letter = %+v, want %s to ep_off, dead at %s with its reason and 3 attempts", d, evUser, at(1))
	}
}

func TestListDeadLettersRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, query string
		msg         string
	}{
		{"since not RFC 3339", "since=yesterday", "since: an RFC 3339 time"},
		{"since without zone", "since=2026-11-20T10:00:00", "since:"},
		{"until not RFC 3339", "until=2026-11-20", "until: an RFC 3339 time"},
		{"since not before until", "since=2026-11-20T10:00:00Z&until=2026-11-20T10:00:00Z", "since: must be before until"},
		{"invalid event type", "event_type=Not%20A%20Type", "event_type:"},
		{"page size 0", "page_size=0", "page_size"},
		{"page size negative", "page_size=-1", "page_size"},
		{"page size over 500", "page_size=501", "page_size"},
		{"page size not a number", "page_size=x", "page_size"},
		{"page token not one of ours", "page_token=garbage", "page_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, "/v1/tenants/acme/dead-letters?"+tt.query, e.acmeKey, "")
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.msg)
		})
	}
	t.Run("another tenant's key", func(t *testing.T) {
		wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/dead-letters", e.globexKey, ""), 403, hookrun.CodePermissionDenied, "acme")
	})
}

func TestListDeadLettersPages(t *testing.T) {
	e := newDeliveryEnv(t)
	for _, tt := range []struct {
		name   string
		filter string
		want   []string
	}{
		{"unfiltered", "", sorted("order:42:ep_a", "evt_1:ep_off", "inv-7:ep_a", "inv-7:ep_gone")},
		{"the filter holds on every page", "&since=" + e.t0.Add(time.Hour).Format(time.RFC3339), sorted("evt_1:ep_off", "inv-7:ep_a", "inv-7:ep_gone")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			token := ""
			for pages := 1; ; pages++ {
				if pages > len(tt.want) {
					t.Fatalf("more than %d pages of 1; seen %v", len(tt.want), got)
				}
				path := "/v1/tenants/acme/dead-letters?page_size=1" + tt.filter
				if token != "" {
					path += "&page_token=" + url.QueryEscape(token)
				}
				w := e.do(t, http.MethodGet, path, e.acmeKey, "")
				if w.Code != http.StatusOK {
					t.Fatalf("page %d: status = %d, want 200; body %s", pages, w.Code, w.Body)
				}
				p := decode[deadLettersPage](t, w)
				if len(p.DeadLetters) != 1 {
					t.Fatalf("page %d holds %d dead letters, want 1", pages, len(p.DeadLetters))
				}
				got = append(got, p.DeadLetters[0].ID)
				if p.NextPageToken == "" {
					break
				}
				token = p.NextPageToken
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("dead letters over all pages = %v, want each of %v once", got, tt.want)
			}
		})
	}
}

type replayAccepted struct {
	ReplayID   string `json:"replay_id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Count      *int64 `json:"count"`
	Skipped    *int64 `json:"skipped"`
}

// wantAttrs checks that attrs hold exactly want, where a value "*" only
// needs to be present.
func wantAttrs(t *testing.T, attrs, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := attrs[k]
		if !ok || (v != "*" && got != v) {
			t.Errorf("attribute %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for k := range attrs {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected attribute %s = %q", k, attrs[k])
		}
	}
}

// eventAttrs are the attributes of a replay of one of the seeded events.
func eventAttrs(eventID, eventType, chain, endpointID string) map[string]string {
	a := map[string]string{
		wire.AttrTenantID:   "acme",
		wire.AttrEventID:    eventID,
		wire.AttrEventType:  eventType,
		wire.AttrReceivedAt: "*",
		wire.AttrSource:     "*",
		wire.AttrChain:      chain,
	}
	if endpointID != "" {
		a[wire.AttrEndpoint] = endpointID
	}
	return a
}

// jobAttrs are the attributes of the job message of a replay.
func jobAttrs(chain string) map[string]string {
	return map[string]string{wire.AttrTenantID: "acme", wire.AttrJob: wire.JobReplayClaimed, wire.AttrChain: chain}
}

func TestReplayDeadLetter(t *testing.T) {
	e := newDeliveryEnv(t)
	// The event ID holds a colon: the action and the endpoint are split
	// off at the last colons.
	w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters/order:42:ep_a:replay", e.acmeKey, "")
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
	}
	got := decode[replayAccepted](t, w)
	if !strings.HasPrefix(got.ReplayID, "rp_") || got.EventID != evOrder || got.EndpointID != "ep_a" || got.Count != nil {
		t.Errorf("answer = %+v, want an rp_ replay id for %s to ep_a, without count", got, evOrder)
	}
	if claimed := e.store.claimedBy("acme", got.ReplayID); !slices.Equal(claimed, []string{evOrder + ":ep_a"}) {
		t.Errorf("the replay claimed %v, want the one dead letter", claimed)
	}
	msgs := e.pub.published()
	if len(msgs) != 1 {
		t.Fatalf("published %d messages, want 1", len(msgs))
	}
	wantAttrs(t, msgs[0].attrs, jobAttrs(got.ReplayID))

	// While the first replay holds it, another is refused.
	w = e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters/order:42:ep_a:replay", adminToken, "")
	wantError(t, w, httpapi.Status(hookrun.CodeFailedPrecondition), hookrun.CodeFailedPrecondition, "being replayed")
}

// Replays of one dead letter at the same moment: one is accepted, the
// others are refused, and one job is published.
func TestReplayDeadLetterConcurrent(t *testing.T) {
	e := newDeliveryEnv(t)
	const n = 5
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters/order:42:ep_a:replay", e.acmeKey, "").Code
		})
	}
	wg.Wait()
	accepted := 0
	for _, c := range codes {
		switch c {
		case http.StatusAccepted:
			accepted++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d; want 202 or 400", c)
		}
	}
	if accepted != 1 || len(e.pub.published()) != 1 {
		t.Errorf("%d of %d concurrent replays accepted (%v), %d jobs published; want exactly 1 of each", accepted, n, codes, len(e.pub.published()))
	}
}

func TestReplayDeadLetterRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	failedPrecondition := httpapi.Status(hookrun.CodeFailedPrecondition)
	tests := []struct {
		name, id, token string
		status          int
		code            hookrun.Code
		msg             string
	}{
		{"delivery succeeded", "order:42:ep_b", e.acmeKey, failedPrecondition, hookrun.CodeFailedPrecondition, "not a dead letter"},
		{"delivery still retrying", "evt_1:ep_a", e.acmeKey, failedPrecondition, hookrun.CodeFailedPrecondition, "retrying"},
		{"endpoint disabled", "evt_1:ep_off", e.acmeKey, failedPrecondition, hookrun.CodeFailedPrecondition, "disabled"},
		{"endpoint deleted", "inv-7:ep_gone", e.acmeKey, 404, hookrun.CodeNotFound, "ep_gone"},
		{"unknown delivery", "nope:ep_a", e.acmeKey, 404, hookrun.CodeNotFound, "not found"},
		{"unknown endpoint", "order:42:ep_zzz", e.acmeKey, 404, hookrun.CodeNotFound, "not found"},
		{"id without endpoint", "order42", e.acmeKey, 404, hookrun.CodeNotFound, "{event}:{endpoint}"},
		{"another tenant's key", "order:42:ep_a", e.globexKey, 403, hookrun.CodePermissionDenied, "acme"},
		{"no credentials", "order:42:ep_a", "", 401, hookrun.CodeUnauthenticated, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters/"+tt.id+":replay", tt.token, "")
			wantError(t, w, tt.status, tt.code, tt.msg)
		})
	}
	for _, path := range []string{
		"/v1/tenants/acme/dead-letters/order:42:ep_a:foo",
		"/v1/tenants/acme/dead-letters/order:42:ep_a",
		"/v1/tenants/acme/dead-letters/order:42:ep_a:",
	} {
		t.Run("wrong action "+path, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodPost, path, e.acmeKey, ""), 404, hookrun.CodeNotFound, ":replay")
		})
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("refused replays published %d messages, want none", n)
	}
}

func TestReplayDeadLetters(t *testing.T) {
	since := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC) // t0 + 1h
	// acme's dead letters: order:42 to ep_a (t0), user to ep_off (t0+1h,
	// endpoint disabled), invoice to ep_a (t0+2h), invoice to ep_gone
	// (t0+3h, endpoint deleted).
	tests := []struct {
		name, body string
		claimed    []string
		skipped    int64
	}{
		{"no body: every dead letter of an active endpoint", "", []string{evInvoice + ":ep_a", evOrder + ":ep_a"}, 2},
		{"empty filter", "{}", []string{evInvoice + ":ep_a", evOrder + ":ep_a"}, 2},
		{"by endpoint", `{"endpoint_id":"ep_a"}`, []string{evInvoice + ":ep_a", evOrder + ":ep_a"}, 0},
		{"by event type and time", `{"event_type":"invoice.paid","since":"` + since.Format(time.RFC3339) + `"}`, []string{evInvoice + ":ep_a"}, 1},
		{"until", `{"until":"` + since.Format(time.RFC3339) + `"}`, []string{evOrder + ":ep_a"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDeliveryEnv(t)
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters:replay", e.acmeKey, tt.body)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
			}
			got := decode[replayAccepted](t, w)
			if !strings.HasPrefix(got.ReplayID, "rp_") || got.Count == nil || *got.Count != int64(len(tt.claimed)) ||
				got.Skipped == nil || *got.Skipped != tt.skipped {
				t.Errorf("answer = %s, want an rp_ replay id, count %d and skipped %d", w.Body, len(tt.claimed), tt.skipped)
			}
			if claimed := e.store.claimedBy("acme", got.ReplayID); !slices.Equal(claimed, tt.claimed) {
				t.Errorf("the replay claimed %v, want %v", claimed, tt.claimed)
			}
			msgs := e.pub.published()
			if len(msgs) != 1 {
				t.Fatalf("published %d messages, want 1 job", len(msgs))
			}
			wantAttrs(t, msgs[0].attrs, jobAttrs(got.ReplayID))
		})
	}

	t.Run("nothing to replay", func(t *testing.T) {
		e := newDeliveryEnv(t)
		w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters:replay", e.acmeKey, `{"endpoint_id":"ep_b"}`)
		if w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
		}
		if got := decode[replayAccepted](t, w); got.Count == nil || *got.Count != 0 || got.ReplayID == "" {
			t.Errorf("answer = %s, want a replay id and \"count\":0", w.Body)
		}
		if n := len(e.pub.published()); n != 0 {
			t.Errorf("published %d messages for no dead letters, want none", n)
		}
	})
}

// Two bulk replays at the same moment share the dead letters out: each
// is claimed by one, and the counts say so.
func TestReplayDeadLettersConcurrent(t *testing.T) {
	e := newDeliveryEnv(t)
	answers := make([]replayAccepted, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters:replay", e.acmeKey, `{"endpoint_id":"ep_a"}`)
			if w.Code != http.StatusAccepted {
				t.Errorf("status = %d, want 202; body %s", w.Code, w.Body)
				return
			}
			answers[i] = decode[replayAccepted](t, w)
		})
	}
	wg.Wait()
	var count, skipped int64
	var claimed []string
	for _, a := range answers {
		if a.Count == nil || a.Skipped == nil {
			t.Fatalf("answers %+v; want count and skipped in each", answers)
		}
		count, skipped = count+*a.Count, skipped+*a.Skipped
		claimed = append(claimed, e.store.claimedBy("acme", a.ReplayID)...)
	}
	slices.Sort(claimed)
	if count != 2 || skipped != 2 || !slices.Equal(claimed, []string{evInvoice + ":ep_a", evOrder + ":ep_a"}) {
		t.Errorf("counts %d claimed, %d skipped, claims %v; want each of the 2 dead letters claimed by one replay and skipped by the other", count, skipped, claimed)
	}
}

func TestReplayDeadLettersRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, body, token string
		status            int
		code              hookrun.Code
		msg               string
	}{
		{"invalid event type", `{"event_type":"Not A Type"}`, e.acmeKey, 400, hookrun.CodeInvalidArgument, "event_type:"},
		{"since not before until", `{"since":"2026-11-20T12:00:00Z","until":"2026-11-20T10:00:00Z"}`, e.acmeKey, 400, hookrun.CodeInvalidArgument, "since: must be before until"},
		{"since not a time", `{"since":"yesterday"}`, e.acmeKey, 400, hookrun.CodeInvalidArgument, ""},
		{"unknown field", `{"endpoint":"ep_a"}`, e.acmeKey, 400, hookrun.CodeInvalidArgument, "endpoint: unknown field"},
		{"not JSON", `endpoint_id=ep_a`, e.acmeKey, 400, hookrun.CodeInvalidArgument, "not valid JSON"},
		{"another tenant's key", `{}`, e.globexKey, 403, hookrun.CodePermissionDenied, "acme"},
		{"another tenant's endpoint", `{"endpoint_id":"ep_g"}`, e.acmeKey, 404, hookrun.CodeNotFound, "ep_g"},
		{"unknown endpoint", `{"endpoint_id":"ep_zzz"}`, e.acmeKey, 404, hookrun.CodeNotFound, "ep_zzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/dead-letters:replay", tt.token, tt.body)
			wantError(t, w, tt.status, tt.code, tt.msg)
		})
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("refused replays published %d messages, want none", n)
	}
}

func TestRedeliverEvent(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, body, endpointID string
	}{
		{"no body: every endpoint", "", ""},
		{"empty body object", "{}", ""},
		// ep_b already has it: a redelivery sends it again all the same.
		{"one endpoint, delivered before", `{"endpoint_id":"ep_b"}`, "ep_b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.pub.published())
			w := e.do(t, http.MethodPost, "/v1/tenants/acme/events/order:42:redeliver", e.acmeKey, tt.body)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
			}
			got := decode[replayAccepted](t, w)
			if !strings.HasPrefix(got.ReplayID, "rp_") || got.EventID != evOrder || got.EndpointID != tt.endpointID {
				t.Errorf("answer = %+v, want an rp_ replay id for %s, endpoint %q", got, evOrder, tt.endpointID)
			}
			msgs := e.pub.published()[before:]
			if len(msgs) != 1 {
				t.Fatalf("published %d messages, want 1", len(msgs))
			}
			if string(msgs[0].data) != `{"order": 42}` {
				t.Errorf("published data = %s, want the event's data verbatim", msgs[0].data)
			}
			wantAttrs(t, msgs[0].attrs, eventAttrs(evOrder, "order.created", got.ReplayID, tt.endpointID))
		})
	}
}

func TestRedeliverEventRefused(t *testing.T) {
	e := newDeliveryEnv(t)
	tests := []struct {
		name, path, token, body string
		status                  int
		code                    hookrun.Code
		msg                     string
	}{
		{"unknown event", "/v1/tenants/acme/events/nope:redeliver", e.acmeKey, "", 404, hookrun.CodeNotFound, "nope"},
		{"unknown endpoint", "/v1/tenants/acme/events/order:42:redeliver", e.acmeKey, `{"endpoint_id":"ep_zzz"}`, 404, hookrun.CodeNotFound, "ep_zzz"},
		{"another tenant's endpoint", "/v1/tenants/acme/events/order:42:redeliver", e.acmeKey, `{"endpoint_id":"ep_g"}`, 404, hookrun.CodeNotFound, "ep_g"},
		{"disabled endpoint", "/v1/tenants/acme/events/evt_1:redeliver", e.acmeKey, `{"endpoint_id":"ep_off"}`,
			httpapi.Status(hookrun.CodeFailedPrecondition), hookrun.CodeFailedPrecondition, "disabled"},
		{"unknown field", "/v1/tenants/acme/events/order:42:redeliver", e.acmeKey, `{"endpoint":"ep_a"}`, 400, hookrun.CodeInvalidArgument, "endpoint: unknown field"},
		{"wrong action", "/v1/tenants/acme/events/order:42:resend", e.acmeKey, "", 404, hookrun.CodeNotFound, ":redeliver"},
		{"no action", "/v1/tenants/acme/events/" + evUser, e.acmeKey, "", 404, hookrun.CodeNotFound, ":redeliver"},
		{"another tenant's key", "/v1/tenants/acme/events/order:42:redeliver", e.globexKey, "", 403, hookrun.CodePermissionDenied, "acme"},
		{"no credentials", "/v1/tenants/acme/events/order:42:redeliver", "", "", 401, hookrun.CodeUnauthenticated, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodPost, tt.path, tt.token, tt.body), tt.status, tt.code, tt.msg)
		})
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("refused redeliveries published %d messages, want none", n)
	}
}

// A replay is accepted only once Pub/Sub has it; otherwise the caller
// retries on a 503.
func TestReplayPublishFailure(t *testing.T) {
	e := newDeliveryEnv(t)
	e.pub.setErr(errors.New("pubsub: deadline exceeded"))
	for _, tt := range []struct{ name, path, body string }{
		{"replay one", "/v1/tenants/acme/dead-letters/order:42:ep_a:replay", ""},
		{"replay many", "/v1/tenants/acme/dead-letters:replay", `{"endpoint_id":"ep_a"}`},
		{"redeliver", "/v1/tenants/acme/events/order:42:redeliver", ""},
		{"redeliver to one", "/v1/tenants/acme/events/order:42:redeliver", `{"endpoint_id":"ep_a"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, tt.path, e.acmeKey, tt.body)
			wantError(t, w, http.StatusServiceUnavailable, hookrun.CodeUnavailable, "retry")
			if ra := w.Header().Get("Retry-After"); ra == "" {
				t.Errorf("Retry-After header missing on 503")
			}
			if strings.Contains(w.Body.String(), "deadline exceeded") {
				t.Errorf("body %s leaks the publisher's error", w.Body)
			}
		})
	}
	// The failed replays let go of their claims: a retry replays.
	e.pub.setErr(nil)
	for _, path := range []string{"/v1/tenants/acme/dead-letters/order:42:ep_a:replay", "/v1/tenants/acme/dead-letters:replay"} {
		if w := e.do(t, http.MethodPost, path, e.acmeKey, ""); w.Code != http.StatusAccepted {
			t.Errorf("retry of POST %s after a failed publish: %d %s; want 202", path, w.Code, w.Body)
		}
	}
}

func TestListRejectedMessages(t *testing.T) {
	e := newDeliveryEnv(t)
	// Newest first: m1 was rejected last.
	for _, m := range []hookrun.RejectedMessage{
		{MessageID: "m2", Reason: "no tenant", RejectedAt: e.t0},
		{MessageID: "m1", TenantID: "acme", Reason: "no event type", RejectedAt: e.t0.Add(time.Second)},
	} {
		if err := e.store.RecordRejected(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, path, token string
		status            int
		want              []string
	}{
		{"admin sees all", "/v1/rejected-messages", adminToken, http.StatusOK, []string{"m1", "m2"}},
		{"admin narrows to a tenant", "/v1/rejected-messages?tenant_id=acme", adminToken, http.StatusOK, []string{"m1"}},
		{"tenant sees its own", "/v1/tenants/acme/rejected-messages", e.acmeKey, http.StatusOK, []string{"m1"}},
		{"tenant may not list all", "/v1/rejected-messages", e.acmeKey, http.StatusForbidden, nil},
		{"bad page size", "/v1/rejected-messages?page_size=0", adminToken, http.StatusBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, tt.path, tt.token, "")
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != http.StatusOK {
				return
			}
			var got struct {
				RejectedMessages []hookrun.RejectedMessage `json:"rejected_messages"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range got.RejectedMessages {
				ids = append(ids, m.MessageID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("messages = %v, want %v", ids, tt.want)
			}
		})
	}
}
