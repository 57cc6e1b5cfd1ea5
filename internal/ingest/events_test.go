package ingest_test

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/wire"
)

type eventAccepted struct {
	ID string `json:"id"`
}

func TestPublishEvent(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	before := time.Now()

	w := e.do(t, http.MethodPost, "/v1/events", key, `{"id":"inv-2024-001","type":"invoice.paid","data":{"amount": 1200, "currency":"EUR"}}`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
	}
	if got := strings.TrimSpace(w.Body.String()); got != `{"id":"inv-2024-001"}` {
		t.Errorf("body = %s, want {\"id\":\"inv-2024-001\"}", got)
	}

	msgs := e.pub.published()
	if len(msgs) != 1 {
		t.Fatalf("published %d messages, want 1", len(msgs))
	}
	// The producer's data is published verbatim.
	if got, want := string(msgs[0].data), `{"amount": 1200, "currency":"EUR"}`; got != want {
		t.Errorf("published data = %s, want %s", got, want)
	}
	for k, want := range map[string]string{
		wire.AttrTenantID:  "acme",
		wire.AttrEventID:   "inv-2024-001",
		wire.AttrEventType: "invoice.paid",
		wire.AttrSource:    hookrun.SourceAPI,
	} {
		if got := msgs[0].attrs[k]; got != want {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, msgs[0].attrs[wire.AttrReceivedAt]); err != nil || ts.Before(before.Add(-time.Second)) {
		t.Errorf("attribute %s = %q, want the receive time", wire.AttrReceivedAt, msgs[0].attrs[wire.AttrReceivedAt])
	}
	// The event's first publish: the dispatcher need not look for an
	// earlier delivery.
	if got, ok := msgs[0].attrs[wire.AttrCheckDeliveries]; ok {
		t.Errorf("attribute %s = %q on a first publish, want none", wire.AttrCheckDeliveries, got)
	}

	rec, ok := e.store.event("acme", "inv-2024-001")
	if !ok || !rec.accepted || rec.messageID != "msg-1" {
		t.Errorf("stored event = %+v (found %v), want accepted with message id msg-1", rec, ok)
	}
}

func TestPublishEventGeneratesID(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	var ids []string
	for range 2 {
		w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{"user":"u1"}}`)
		if w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
		}
		id := decode[eventAccepted](t, w).ID
		if err := hookrun.ValidateEventID(id); err != nil || !strings.HasPrefix(id, "evt_") {
			t.Errorf("generated id %q: want a valid evt_ id (%v)", id, err)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Errorf("two events without id got the same id %q", ids[0])
	}
	msgs := e.pub.published()
	if len(msgs) != 2 {
		t.Fatalf("published %d messages, want 2", len(msgs))
	}
	for i, m := range msgs {
		if m.attrs[wire.AttrEventID] != ids[i] {
			t.Errorf("message %d event_id = %q, want the id returned, %q", i, m.attrs[wire.AttrEventID], ids[i])
		}
	}
}

func TestPublishEventDuplicateIDIsAcceptedOnce(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	bodies := []string{
		`{"id":"order-7","type":"order.created","data":{"n":1}}`,
		`{"id":"order-7","type":"order.created","data":{"n":1}}`,
		// Same id, different content: still the same event.
		`{"id":"order-7","type":"order.updated","data":{"n":2}}`,
	}
	for i, b := range bodies {
		w := e.do(t, http.MethodPost, "/v1/events", key, b)
		if w.Code != http.StatusAccepted {
			t.Fatalf("request %d: status %d, want 202; body %s", i, w.Code, w.Body)
		}
		if got := decode[eventAccepted](t, w).ID; got != "order-7" {
			t.Errorf("request %d: id = %q, want order-7", i, got)
		}
	}
	if n := len(e.pub.published()); n != 1 {
		t.Errorf("published %d times, want once", n)
	}
	// The same id of another tenant is another event.
	otherKey := e.createTenant(t, "globex")
	if w := e.do(t, http.MethodPost, "/v1/events", otherKey, bodies[0]); w.Code != http.StatusAccepted {
		t.Fatalf("other tenant: status %d, want 202", w.Code)
	}
	if n := len(e.pub.published()); n != 2 {
		t.Errorf("published %d times after another tenant's event with the same id, want 2", n)
	}
}

func TestPublishFailureReleasesTheClaim(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	const body = `{"id":"pay-1","type":"payment.succeeded","data":{"ok":true}}`

	e.pub.setErr(errors.New("rpc error: code = Unavailable desc = connection refused"))
	w := e.do(t, http.MethodPost, "/v1/events", key, body)
	wantError(t, w, http.StatusServiceUnavailable, hookrun.CodeUnavailable, "retry with the same id")
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(w.Body.String(), "connection refused") {
		t.Errorf("503 body reveals the cause: %s", w.Body)
	}
	// The producer retries with the same id once Pub/Sub is back, at once:
	// the claim does not outlive the failure.
	e.pub.setErr(nil)
	w = e.do(t, http.MethodPost, "/v1/events", key, body)
	if w.Code != http.StatusAccepted {
		t.Fatalf("retry: status %d, want 202; body %s", w.Code, w.Body)
	}
	msgs := e.pub.published()
	if len(msgs) != 1 || msgs[0].attrs[wire.AttrEventID] != "pay-1" {
		t.Fatalf("published after retry = %v, want pay-1 once", msgs)
	}
	// The failed publish may have reached Pub/Sub all the same: the
	// retry's message tells the dispatcher to look for an earlier
	// delivery before sending.
	if got := msgs[0].attrs[wire.AttrCheckDeliveries]; got != "true" {
		t.Errorf("retry's %s = %q, want true", wire.AttrCheckDeliveries, got)
	}
	if rec, ok := e.store.event("acme", "pay-1"); !ok || !rec.accepted {
		t.Errorf("after retry, stored event = %+v (found %v), want accepted", rec, ok)
	}
}

// A request whose event ID another request is accepting gets 409 with
// Retry-After: what is left of the other's lease, which no clock makes
// longer than a lease.
func TestPublishWhileAnotherRequestHoldsTheID(t *testing.T) {
	tests := []struct {
		name       string
		held       time.Duration
		retryAfter string
	}{
		{"lease ending in 5s", 4900 * time.Millisecond, "5"},
		{"lease ending in 300ms", 300 * time.Millisecond, "1"},
		{"lease of a clock far ahead", time.Hour, "12"}, // the default lease: 10s publish + 2s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			key := e.createTenant(t, "acme")
			e.store.holdClaim("acme", "pay-2", tt.held)
			w := e.do(t, http.MethodPost, "/v1/events", key, `{"id":"pay-2","type":"payment.succeeded","data":{}}`)
			wantError(t, w, http.StatusConflict, hookrun.CodeAborted, "pay-2")
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if n := len(e.pub.published()); n != 0 {
				t.Errorf("published %d messages while another request held the id, want 0", n)
			}
		})
	}
}

// The claim on an event ID covers the publish and a margin, no more: a
// request killed while publishing blocks the ID that long, and the publish
// ends before its lease does, so no retry can take the claim over and
// publish beside it.
func TestClaimLeaseCoversThePublish(t *testing.T) {
	tests := []struct {
		name      string
		publish   time.Duration
		wantLease time.Duration
	}{
		{"default", 0, 12 * time.Second},
		{"short publish timeout", 3 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *ingest.Config) { c.PublishTimeout = tt.publish })
			key := e.createTenant(t, "acme")
			if w := e.do(t, http.MethodPost, "/v1/events", key, `{"id":"pay-3","type":"payment.succeeded","data":{}}`); w.Code != http.StatusAccepted {
				t.Fatalf("status %d %s, want 202", w.Code, w.Body)
			}
			claims, msgs := e.store.claims(), e.pub.published()
			if len(claims) != 1 || len(msgs) != 1 {
				t.Fatalf("%d claims, %d messages, want 1 of each", len(claims), len(msgs))
			}
			if claims[0].lease != tt.wantLease {
				t.Errorf("lease = %v, want %v", claims[0].lease, tt.wantLease)
			}
			margin := tt.wantLease - cmp.Or(tt.publish, 10*time.Second)
			// The store keeps the lease's end to the microsecond.
			if end := claims[0].until.Add(time.Microsecond - margin); msgs[0].deadline.IsZero() || msgs[0].deadline.After(end) {
				t.Errorf("publish deadline %v, want at most %v: %v before the lease ends at %v", msgs[0].deadline, end, margin, claims[0].until)
			}
		})
	}
}

func TestPublishEventRefused(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	big := `{"type":"user.created","data":{"blob":"` + strings.Repeat("x", 256<<10) + `"}}`
	tests := []struct {
		name        string
		token       string
		contentType string
		body        string
		status      int
		code        hookrun.Code
		msg         string
	}{
		{name: "admin token", token: adminToken, body: `{"type":"user.created","data":{}}`, status: 403, code: hookrun.CodePermissionDenied, msg: "API key"},
		{name: "bad type", token: key, body: `{"type":"User.Created","data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "type:"},
		{name: "type with empty segment", token: key, body: `{"type":"user..created","data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "type:"},
		{name: "missing type", token: key, body: `{"data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "type: required"},
		{name: "type of wrong type", token: key, body: `{"type":["user.created"],"data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "type:"},
		{name: "missing data", token: key, body: `{"type":"user.created"}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "data:"},
		{name: "null data", token: key, body: `{"type":"user.created","data":null}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "data:"},
		{name: "string data", token: key, body: `{"type":"user.created","data":"hello"}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "data:"},
		{name: "array data", token: key, body: `{"type":"user.created","data":[1]}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "data:"},
		{name: "number data", token: key, body: `{"type":"user.created","data":1}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "data:"},
		{name: "invalid id", token: key, body: `{"id":"a/b","type":"user.created","data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "id:"},
		{name: "malformed JSON", token: key, body: `{"type":"user.created","data":{}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "JSON"},
		{name: "unknown field", token: key, body: `{"type":"user.created","data":{},"tenant_id":"globex"}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "tenant_id: unknown field"},
		{name: "trailing data", token: key, body: `{"type":"user.created","data":{}} {}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "single JSON object"},
		{name: "wrong content type", token: key, contentType: "text/plain", body: `{"type":"user.created","data":{}}`, status: 400, code: hookrun.CodeInvalidArgument, msg: "Content-Type"},
		{name: "body over 256 KiB", token: key, body: big, status: 413, code: hookrun.CodeResourceExhausted, msg: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := strings.NewReader(tt.body)
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			w := doRaw(e, http.MethodPost, "/v1/events", "Bearer "+tt.token, ct, req)
			wantError(t, w, tt.status, tt.code, tt.msg)
			if n := len(e.pub.published()); n != 0 {
				t.Errorf("published %d messages, want 0", n)
			}
			if n := e.store.eventCount(); n != 0 {
				t.Errorf("stored %d events, want 0", n)
			}
		})
	}
}

func TestPublishEventLargeButWithinLimit(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	body := `{"type":"user.created","data":{"blob":"` + strings.Repeat("x", 255<<10) + `"}}`
	if w := e.do(t, http.MethodPost, "/v1/events", key, body); w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 for %d bytes; body %s", w.Code, len(body), w.Body)
	}
}

func TestPublishEventDisabledTenant(t *testing.T) {
	e := newEnv(t, nil)
	key, hash := hookrun.NewAPIKey()
	e.store.addTenant(hookrun.Tenant{ID: "acme", Name: "Acme", Status: hookrun.TenantDisabled}, hash)
	w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"user.created","data":{}}`)
	wantError(t, w, http.StatusForbidden, hookrun.CodePermissionDenied, "disabled")
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("published %d messages for a disabled tenant, want 0", n)
	}
	if n := e.store.eventCount(); n != 0 {
		t.Errorf("stored %d events for a disabled tenant, want 0", n)
	}
}
