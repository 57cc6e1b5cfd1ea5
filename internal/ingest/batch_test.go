package ingest_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
	"github.com/hookrun/hookrun/internal/wire"
)

type batchAnswer struct {
	Results    []batchResult `json:"results"`
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Refused    int           `json:"refused"`
}

type batchResult struct {
	ID     string `json:"id"`
	Result string `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Details []struct {
			Type       string `json:"@type"`
			RetryDelay string `json:"retryDelay"`
		} `json:"details"`
	} `json:"error"`
}

// batchBody joins events, each a JSON value, into a batch's body.
func batchBody(events ...string) string {
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

// sendBatch POSTs a batch to path and decodes its 200 answer.
func (e *env) sendBatch(t *testing.T, path, key, body string) batchAnswer {
	t.Helper()
	w := e.do(t, http.MethodPost, path, key, body)
	if w.Code != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", path, w.Code, w.Body)
	}
	return decode[batchAnswer](t, w)
}

// publishedIDs returns the event IDs published so far, in order.
func (e *env) publishedIDs() []string {
	var ids []string
	for _, m := range e.pub.published() {
		ids = append(ids, m.attrs[wire.AttrEventID])
	}
	return ids
}

// want is the answer expected for one event: result, and for a refusal
// the error's status and part of its message; id "" is any evt_ id.
type want struct {
	id, result string
	status     hookrun.Code
	msg        string
}

func checkResults(t *testing.T, got batchAnswer, wants []want) {
	t.Helper()
	if len(got.Results) != len(wants) {
		t.Fatalf("%d results, want %d: %+v", len(got.Results), len(wants), got.Results)
	}
	counts := map[string]int{}
	for i, w := range wants {
		r := got.Results[i]
		counts[w.result]++
		switch {
		case r.Result != w.result:
			t.Errorf("results[%d] = %s %+v, want %s", i, r.Result, r.Error, w.result)
		case w.id == "" && w.result != "refused" && !strings.HasPrefix(r.ID, "evt_"):
			t.Errorf("results[%d].id = %q, want a generated evt_ id", i, r.ID)
		case w.id != "" && r.ID != w.id:
			t.Errorf("results[%d].id = %q, want %q", i, r.ID, w.id)
		case w.result == "refused" && (r.Error == nil || r.Error.Status != string(w.status) || !strings.Contains(r.Error.Message, w.msg)):
			t.Errorf("results[%d].error = %+v, want %s containing %q", i, r.Error, w.status, w.msg)
		case w.result != "refused" && r.Error != nil:
			t.Errorf("results[%d] is %s with error %+v", i, r.Result, r.Error)
		}
	}
	if got.Accepted != counts["accepted"] || got.Duplicates != counts["duplicate"] || got.Refused != counts["refused"] {
		t.Errorf("counts accepted %d, duplicates %d, refused %d; want %v", got.Accepted, got.Duplicates, got.Refused, counts)
	}
}

// A batch answers each event in order, as POST /v1/events would have
// alone; the good ones are published once each, whatever the bad ones
// around them.
func TestPublishBatchAnswersEachEventInOrder(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.MaxBodyBytes = 4096 })
	key := e.createTenant(t, "acme")
	if w := e.do(t, http.MethodPost, "/v1/events", key, `{"id":"sent-before","type":"user.created","data":{}}`); w.Code != http.StatusAccepted {
		t.Fatalf("single event: %d %s", w.Code, w.Body)
	}
	big := `{"id":"big","type":"user.created","data":{"blob":"` + strings.Repeat("x", 4096) + `"}}`
	ans := e.sendBatch(t, "/v1/events:batch", key, batchBody(
		`{"id":"a","type":"user.created","data":{"n":1}}`,
		`{"type":"user.updated","data":{}}`,
		`{"id":"bad-type","type":"User Created","data":{}}`,
		`{"id":"no-data","type":"user.created"}`,
		`{"id":"extra","type":"user.created","data":{},"tenant_id":"globex"}`,
		`{"id":"a/b","type":"user.created","data":{}}`,
		`{"id":"reserved","type":"hookrun.endpoint.disabled","data":{}}`,
		`{"id":"utf8","type":"user.created","data":{"s":"`+"\xff"+`"}}`,
		`"not an event"`,
		big,
		`{"id":"sent-before","type":"user.created","data":{}}`,
		`{"id":"a","type":"user.created","data":{"n":2}}`,
		`{"id":"c","type":"user.deleted","data":{}}`,
	))
	checkResults(t, ans, []want{
		{id: "a", result: "accepted"},
		{result: "accepted"},
		{id: "bad-type", result: "refused", status: hookrun.CodeInvalidArgument, msg: "type:"},
		{id: "no-data", result: "refused", status: hookrun.CodeInvalidArgument, msg: "data:"},
		{id: "extra", result: "refused", status: hookrun.CodeInvalidArgument, msg: "tenant_id: unknown field"},
		{id: "a/b", result: "refused", status: hookrun.CodeInvalidArgument, msg: "id:"},
		{id: "reserved", result: "refused", status: hookrun.CodeInvalidArgument, msg: "hookrun."},
		{id: "utf8", result: "refused", status: hookrun.CodeInvalidArgument, msg: "data.s: invalid UTF-8"},
		{id: "", result: "refused", status: hookrun.CodeInvalidArgument, msg: "each of events must be a JSON object, not string"},
		{id: "big", result: "refused", status: hookrun.CodeResourceExhausted, msg: "at most 4096 bytes"},
		{id: "sent-before", result: "duplicate"},
		{id: "a", result: "duplicate"},
		{id: "c", result: "accepted"},
	})

	generated := ans.Results[1].ID
	if got, want := e.publishedIDs(), []string{"sent-before", "a", generated, "c"}; !sameSet(got, want) {
		t.Errorf("published %v, want %v, each once", got, want)
	}
	for _, id := range []string{"a", generated, "c"} {
		if rec, ok := e.store.event("acme", id); !ok || !rec.accepted {
			t.Errorf("event %s stored %+v (found %v), want accepted", id, rec, ok)
		}
	}
	// The first of two events with one id is the event.
	if rec, _ := e.store.event("acme", "a"); string(rec.event.Data) != `{"n":1}` {
		t.Errorf("event a holds %s, want the first one's data", rec.event.Data)
	}
	if n := e.store.eventCount(); n != 4 {
		t.Errorf("%d events stored, want 4", n)
	}
}

func sameSet(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func TestPublishBatchOf500(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	events := make([]string, 500)
	for i := range events {
		events[i] = fmt.Sprintf(`{"id":"e-%d","type":"user.created","data":{"i":%d}}`, i, i)
	}
	ans := e.sendBatch(t, "/v1/events:batch", key, batchBody(events...))
	if ans.Accepted != 500 || len(ans.Results) != 500 {
		t.Fatalf("accepted %d of %d results, want 500 of 500", ans.Accepted, len(ans.Results))
	}
	for i, r := range ans.Results {
		if want := fmt.Sprintf("e-%d", i); r.ID != want || r.Result != "accepted" {
			t.Fatalf("results[%d] = %+v, want %s accepted", i, r, want)
		}
	}
	if n := len(e.pub.published()); n != 500 {
		t.Errorf("published %d, want 500", n)
	}

	w := e.do(t, http.MethodPost, "/v1/events:batch", key, batchBody(append(events, `{"type":"user.created","data":{}}`)...))
	wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, "events: 1 to 500 events, not 501")
}

// A request that is not a batch is refused whole, and nothing is kept.
func TestPublishBatchRefusedWhole(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	one := `{"type":"user.created","data":{}}`
	tests := []struct {
		name, body string
		msg        string
	}{
		{"empty list", `{"events":[]}`, "1 to 500 events, not 0"},
		{"no list", `{}`, "1 to 500 events, not 0"},
		{"null list", `{"events":null}`, "1 to 500 events, not 0"},
		{"list of wrong type", `{"events":{"type":"user.created"}}`, "events: must be an array"},
		{"single event", one, "type: unknown field"},
		{"unknown field", `{"events":[` + one + `],"tenant":"globex"}`, "tenant: unknown field"},
		{"array", `[` + one + `]`, "JSON object"},
		{"malformed JSON", `{"events":[` + one, "JSON"},
		{"trailing data", batchBody(one) + `{}`, "single JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/events:batch", key, tt.body)
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, tt.msg)
		})
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("published %d, want 0", n)
	}
}

// unreadBody fails the test if the handler reads it.
type unreadBody struct{ t *testing.T }

func (b unreadBody) Read([]byte) (int, error) {
	b.t.Error("the body was read")
	return 0, io.EOF
}

// A body over 5 MiB is refused by its declared length before it is read,
// and while it is read when its length is unknown; one within passes.
func TestPublishBatchSizeLimit(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")

	req := httptest.NewRequest(http.MethodPost, "/v1/events:batch", unreadBody{t})
	req.ContentLength = 5<<20 + 1
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	wantError(t, w, http.StatusRequestEntityTooLarge, hookrun.CodeResourceExhausted, "larger than 5242880 bytes")

	// 21 events of 250 KiB: 5.1 MiB, sent without a length.
	event := `{"type":"user.created","data":{"blob":"` + strings.Repeat("x", 250<<10) + `"}}`
	events := slices.Repeat([]string{event}, 21)
	req = httptest.NewRequest(http.MethodPost, "/v1/events:batch", io.MultiReader(strings.NewReader(batchBody(events...))))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+key)
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	wantError(t, w, http.StatusRequestEntityTooLarge, hookrun.CodeResourceExhausted, "larger than")

	// 20 of them fit.
	if ans := e.sendBatch(t, "/v1/events:batch", key, batchBody(events[:20]...)); ans.Accepted != 20 {
		t.Errorf("20 events of 250 KiB: accepted %d, want 20: %+v", ans.Accepted, ans.Results[0])
	}
	if n := len(e.pub.published()); n != 20 {
		t.Errorf("published %d, want 20", n)
	}
}

// Events whose publish failed are refused as UNAVAILABLE, with when to
// retry, and keep nothing: the same batch sent again publishes them, and
// only them.
func TestPublishBatchPartlyFailedPublish(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	body := batchBody(
		`{"id":"p-1","type":"payment.succeeded","data":{}}`,
		`{"id":"p-2","type":"payment.succeeded","data":{}}`,
		`{"id":"p-3","type":"payment.succeeded","data":{}}`,
		`{"id":"p-2","type":"payment.succeeded","data":{}}`,
		`{"id":"p-4","type":"payment.succeeded","data":{}}`,
	)
	e.pub.failEvents("p-2", "p-4")
	ans := e.sendBatch(t, "/v1/events:batch", key, body)
	checkResults(t, ans, []want{
		{id: "p-1", result: "accepted"},
		{id: "p-2", result: "refused", status: hookrun.CodeUnavailable, msg: "retry with the same id"},
		{id: "p-3", result: "accepted"},
		{id: "p-2", result: "refused", status: hookrun.CodeUnavailable, msg: "retry with the same id"},
		{id: "p-4", result: "refused", status: hookrun.CodeUnavailable, msg: "retry with the same id"},
	})
	for _, i := range []int{1, 3, 4} {
		r := ans.Results[i]
		if r.Error.Code != http.StatusServiceUnavailable || len(r.Error.Details) != 1 ||
			r.Error.Details[0].Type != "type.googleapis.com/google.rpc.RetryInfo" || r.Error.Details[0].RetryDelay != "1s" {
			t.Errorf("results[%d].error = %+v, want 503 with a RetryInfo of 1s", i, r.Error)
		}
		if strings.Contains(r.Error.Message, "rpc error") {
			t.Errorf("results[%d] reveals the cause: %s", i, r.Error.Message)
		}
	}
	e.pub.failEvents()
	ans = e.sendBatch(t, "/v1/events:batch", key, body)
	checkResults(t, ans, []want{
		{id: "p-1", result: "duplicate"},
		{id: "p-2", result: "accepted"},
		{id: "p-3", result: "duplicate"},
		{id: "p-2", result: "duplicate"},
		{id: "p-4", result: "accepted"},
	})
	if got := e.publishedIDs(); !sameSet(got, []string{"p-1", "p-2", "p-3", "p-4"}) {
		t.Errorf("published %v, want each event once", got)
	}
	// The retried events' failed publishes may have gone through: their
	// messages tell the dispatcher to look for an earlier delivery; the
	// others' do not.
	for _, m := range e.pub.published() {
		id := m.attrs[wire.AttrEventID]
		want := id == "p-2" || id == "p-4"
		if got := m.attrs[wire.AttrCheckDeliveries] == "true"; got != want {
			t.Errorf("%s: %s set %v, want %v", id, wire.AttrCheckDeliveries, got, want)
		}
	}
}

// An event whose ID another request is publishing is refused as ABORTED,
// with what is left of that request's lease.
func TestPublishBatchWhileAnotherRequestHoldsAnID(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.store.holdClaim("acme", "held", 4900*time.Millisecond)
	ans := e.sendBatch(t, "/v1/events:batch", key, batchBody(
		`{"id":"held","type":"user.created","data":{}}`,
		`{"id":"free","type":"user.created","data":{}}`,
	))
	checkResults(t, ans, []want{
		{id: "held", result: "refused", status: hookrun.CodeAborted, msg: "held"},
		{id: "free", result: "accepted"},
	})
	if d := ans.Results[0].Error.Details; len(d) != 1 || d[0].RetryDelay != "5s" {
		t.Errorf("details = %+v, want a RetryInfo of 5s", d)
	}
}

// Each event of a batch counts against the tenant's events per second;
// those over it are refused alone, with when to retry. Events refused for
// what they are take nothing from the limit.
func TestPublishBatchRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.setLimits(t, "acme", `{"max_events_per_second":2}`)
	ans := e.sendBatch(t, "/v1/events:batch", key, batchBody(
		`{"id":"bad","type":"Bad","data":{}}`,
		`{"id":"r-1","type":"user.created","data":{}}`,
		`{"id":"r-2","type":"user.created","data":{}}`,
		`{"id":"r-1","type":"user.created","data":{}}`,
		`{"id":"r-3","type":"user.created","data":{}}`,
	))
	checkResults(t, ans, []want{
		{id: "bad", result: "refused", status: hookrun.CodeInvalidArgument, msg: "type:"},
		{id: "r-1", result: "accepted"},
		{id: "r-2", result: "accepted"},
		{id: "r-1", result: "duplicate"},
		{id: "r-3", result: "refused", status: hookrun.CodeResourceExhausted, msg: "at most 2 events per second"},
	})
	if r := ans.Results[4]; r.Error.Code != http.StatusTooManyRequests || len(r.Error.Details) != 1 || r.Error.Details[0].RetryDelay == "" {
		t.Errorf("results[4].error = %+v, want 429 with a RetryInfo", r.Error)
	}
	if _, ok := e.store.event("acme", "r-3"); ok {
		t.Error("the event over the limit was stored")
	}
}

// A batch sends its key's tenant's events, and on a tenant's path only
// that tenant's own keys may send.
func TestPublishBatchTenants(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.createTenant(t, "acme")
	globex := e.createTenant(t, "globex")
	body := batchBody(`{"id":"x-1","type":"user.created","data":{}}`)

	if ans := e.sendBatch(t, "/v1/tenants/acme/events:batch", acme, body); ans.Accepted != 1 {
		t.Fatalf("acme's key on acme's path: %+v, want accepted", ans.Results)
	}
	if ans := e.sendBatch(t, "/v1/events:batch", globex, body); ans.Accepted != 1 {
		t.Fatalf("globex's key: %+v, want accepted", ans.Results)
	}
	if _, ok := e.store.event("globex", "x-1"); !ok {
		t.Error("globex's key sent no event of globex")
	}
	for _, p := range e.pub.published() {
		if p.attrs[wire.AttrTenantID] != "acme" && p.attrs[wire.AttrTenantID] != "globex" {
			t.Errorf("published for tenant %q", p.attrs[wire.AttrTenantID])
		}
	}

	w := e.do(t, http.MethodPost, "/v1/tenants/acme/events:batch", globex, body)
	wantError(t, w, http.StatusForbidden, hookrun.CodePermissionDenied, `tenant "acme"`)
	w = e.do(t, http.MethodPost, "/v1/tenants/acme/events:batch", adminToken, body)
	wantError(t, w, http.StatusForbidden, hookrun.CodePermissionDenied, "API key")
	w = e.do(t, http.MethodPost, "/v1/events:batch", adminToken, body)
	wantError(t, w, http.StatusForbidden, hookrun.CodePermissionDenied, "API key")

	if w := e.do(t, http.MethodPatch, "/v1/tenants/acme", adminToken, `{"status":"disabled"}`); w.Code != http.StatusOK {
		t.Fatalf("disable acme: %d %s", w.Code, w.Body)
	}
	w = e.do(t, http.MethodPost, "/v1/events:batch", acme, batchBody(`{"id":"x-2","type":"user.created","data":{}}`))
	wantError(t, w, http.StatusForbidden, hookrun.CodePermissionDenied, "disabled")
	if _, ok := e.store.event("acme", "x-2"); ok {
		t.Error("a disabled tenant's batch was stored")
	}
}

// Each event of a batch counts as one sent alone would; a batch refused
// whole counts once.
func TestPublishBatchMetrics(t *testing.T) {
	rec, url := metricstest.Serve(t)
	e := newEnv(t, nil, ingest.WithMetrics(rec))
	key := e.createTenant(t, "acme")
	e.pub.failEvents("down")
	e.sendBatch(t, "/v1/events:batch", key, batchBody(
		`{"id":"ok-1","type":"user.created","data":{}}`,
		`{"id":"ok-2","type":"user.created","data":{}}`,
		`{"id":"ok-1","type":"user.created","data":{}}`,
		`{"type":"Bad","data":{}}`,
		`{"id":"down","type":"user.created","data":{}}`,
	))
	if w := e.do(t, http.MethodPost, "/v1/events:batch", "hr_wrong", batchBody(`{"type":"user.created","data":{}}`)); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d, want 401", w.Code)
	}
	got := metricstest.Scrape(t, url).Hookrun()
	want := metricstest.Samples{
		`hookrun_events_accepted_total{source="api"}`:             2,
		`hookrun_events_refused_total{reason="INVALID_ARGUMENT"}`: 1,
		`hookrun_events_refused_total{reason="UNAVAILABLE"}`:      1,
		`hookrun_events_refused_total{reason="UNAUTHENTICATED"}`:  1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("scraped:\n%v\nwant:\n%v", got, want)
	}
}
