package dispatch_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// pushOperational pushes back, as the events subscription would, every
// operational event the dispatcher published since the last call, and
// returns them.
func (e *env) pushOperational(t *testing.T, from int) []hookrun.Event {
	t.Helper()
	var out []hookrun.Event
	for i, m := range e.events.published()[from:] {
		wantAck(t, e.push(t, message{id: "op-" + strconv.Itoa(from+i), data: m.data, attrs: m.attrs, publishTime: time.Now()}))
		out = append(out, hookrun.Event{ID: m.attrs[wire.AttrEventID], Type: m.attrs[wire.AttrEventType], Data: m.data})
	}
	return out
}

func TestAutoDisableNotifiesTheTenantsOtherEndpointOnly(t *testing.T) {
	cfg := localConfig
	cfg.DisableAfterDead = 1
	e := newEnv(t, cfg)
	e.addTenantWithPolicy("acme", shortPolicy)
	failing := newReceiver(t, alwaysStatus(http.StatusInternalServerError))
	// Subscribed to the operational events too: only the rule that
	// withholds its own disabling notice keeps that from it.
	bad, _ := e.addEndpoint(t, "acme", failing.url(), []string{"*", "hookrun.*"})
	ops := newReceiver(t, alwaysStatus(http.StatusNoContent))
	good, secret := e.addEndpoint(t, "acme", ops.url(), []string{"hookrun.*"})

	ev := userCreated("evt_dies")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	e.runAll(t)
	if got := e.store.endpoint("acme", bad.ID); got.Status != hookrun.EndpointDisabled {
		t.Fatalf("endpoint status = %s, want disabled after one dead letter", got.Status)
	}
	sent := e.pushOperational(t, 0)
	types := map[string]hookrun.Event{}
	for _, s := range sent {
		types[s.Type] = s
	}
	if len(sent) != 2 || types[hookrun.TypeDeliveryDeadLettered].ID == "" || types[hookrun.TypeEndpointDisabled].ID == "" {
		t.Fatalf("published %v, want one dead-letter notice and one disabling notice", sent)
	}

	var disabled hookrun.EndpointDisabledNotice
	for _, r := range ops.requests() {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Errorf("the Standard Webhooks library rejects the notice: %v", err)
		}
		var body struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("notice body: %v", err)
		}
		if body.Type == hookrun.TypeEndpointDisabled {
			if err := json.Unmarshal(body.Data, &disabled); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(ops.requests()); n != 2 {
		t.Errorf("the other endpoint got %d notices, want 2", n)
	}
	if disabled.EndpointID != bad.ID || disabled.Cause != hookrun.DisabledByDeadLetters || disabled.DisabledAt.IsZero() {
		t.Errorf("disabling notice = %+v, want endpoint %s, cause dead_letters, with its time", disabled, bad.ID)
	}
	if d, _, ok := e.store.delivery("acme", types[hookrun.TypeEndpointDisabled].ID, bad.ID); ok {
		t.Errorf("the disabled endpoint has a delivery of its own disabling notice: %+v", d)
	}
	if _, _, ok := e.store.delivery("acme", types[hookrun.TypeEndpointDisabled].ID, good.ID); !ok {
		t.Errorf("the other endpoint has no delivery of the disabling notice")
	}
	if n := len(failing.requests()); n != 3 {
		t.Errorf("the failing endpoint got %d requests, want its event's 3 attempts and no notice", n)
	}
}

func TestGoneNotifiesWithCauseGone(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", shortPolicy)
	ep, _ := e.addEndpoint(t, "acme", newReceiver(t, alwaysStatus(http.StatusGone)).url(), []string{"*"})
	wantAck(t, e.push(t, apiMessage("1", userCreated("evt_gone"))))

	var got hookrun.EndpointDisabledNotice
	for _, m := range e.events.published() {
		if m.attrs[wire.AttrEventType] == hookrun.TypeEndpointDisabled {
			if err := json.Unmarshal(m.data, &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.EndpointID != ep.ID || got.Cause != hookrun.DisabledByGone {
		t.Errorf("disabling notice = %+v, want endpoint %s with cause gone", got, ep.ID)
	}
}

func TestDeadLetterNoticesAtMostOnePerEndpointAndWindow(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenantWithPolicy("acme", hookrun.RetryPolicy{MaxAttempts: 1})
	e.addEndpoint(t, "acme", newReceiver(t, alwaysStatus(http.StatusInternalServerError)).url(), []string{"*"})
	ops := newReceiver(t, alwaysStatus(http.StatusNoContent))
	e.addEndpoint(t, "acme", ops.url(), []string{"hookrun.delivery.dead_lettered"})

	for i := range 5 {
		wantAck(t, e.push(t, apiMessage(strconv.Itoa(i), userCreated("evt_"+strconv.Itoa(i)))))
	}
	if n := len(e.deadLetters.published()); n != 5 {
		t.Fatalf("%d dead letters announced, want 5", n)
	}
	// Unless the run straddles a window boundary, one notice; two at most.
	pub := e.events.published()
	if len(pub) == 0 || len(pub) > 2 {
		t.Fatalf("%d dead-letter notices published for 5 dead letters, want 1 (2 across a window boundary)", len(pub))
	}
	// Another instance publishing the same window's notice again is
	// deduplicated by the fan-out: one delivery per window.
	e.pushOperational(t, 0)
	e.pushOperational(t, 0)
	if got := len(ops.requests()); got != len(pub) {
		t.Errorf("subscriber got %d notices, want %d", got, len(pub))
	}
	var n hookrun.DeliveryDeadLetteredNotice
	if err := json.Unmarshal(pub[0].data, &n); err != nil {
		t.Fatal(err)
	}
	if n.EventID != "evt_0" || n.WindowEnd.Sub(n.WindowStart) != hookrun.DeadLetterNoticeWindow || n.DeadAt.Before(n.WindowStart) {
		t.Errorf("notice = %+v, want the window's first dead letter, evt_0, inside its window", n)
	}
}

func TestOperationalEventsOnlyFromHookrun(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		source string
	}{
		{"reserved type from an outside publisher", hookrun.TypeEndpointDisabled, ""},
		{"reserved type claiming the API", hookrun.TypeEndpointDisabled, hookrun.SourceAPI},
		{"own type claiming to be hookrun", "user.created", hookrun.SourceHookrun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, alwaysStatus(http.StatusNoContent))
			e.addEndpoint(t, "acme", rc.url(), []string{"*", "hookrun.*"})
			attrs := map[string]string{wire.AttrTenantID: "acme", wire.AttrEventType: tt.typ, wire.AttrEventID: "evt_forged"}
			if tt.source != "" {
				attrs[wire.AttrSource] = tt.source
			}
			wantAck(t, e.push(t, message{id: "9", data: []byte(`{"endpoint_id":"x"}`), attrs: attrs, publishTime: time.Now()}))
			if n := len(rc.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want 0", n)
			}
			if r := e.store.rejections(); len(r) != 1 {
				t.Errorf("%d rejections recorded, want 1", len(r))
			}
		})
	}
}

func TestRetiredSecretNotifiesRotationEnded(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	old := "projects/test/secrets/s/versions/1"
	ep, _ := e.addEndpoint(t, "acme", "http://127.0.0.1:1/webhooks", []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.PreviousSecretVersion, ep.PreviousSecretUntil = old, time.Now().Add(-time.Minute)
	})
	e.secrets.put(old, "whsec_"+"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	task := wire.RetireSecretTask{TenantID: "acme", EndpointID: ep.ID, Version: old, At: time.Now().Add(-time.Minute)}
	body, _ := json.Marshal(task)
	for range 2 { // a retried task: the same notice
		if w := serve(e, httptestRequest("/tasks/retire-secret", body)); w.Code != http.StatusNoContent {
			t.Fatalf("retire: status %d, want 204: %s", w.Code, w.Body)
		}
	}
	pub := e.events.published()
	if len(pub) == 0 || pub[0].attrs[wire.AttrEventType] != hookrun.TypeSecretRotationEnded {
		t.Fatalf("published %v, want a rotation_ended notice", pub)
	}
	for _, m := range pub[1:] {
		if m.attrs[wire.AttrEventID] != pub[0].attrs[wire.AttrEventID] {
			t.Errorf("a retried retirement published a notice with another id: %s, want %s", m.attrs[wire.AttrEventID], pub[0].attrs[wire.AttrEventID])
		}
	}
}

// An endpoint enabled again before the notice of its disabling arrives is
// active, so it would be owed the notice: WithheldFrom still keeps it out.
func TestDisablingNoticeWithheldFromItsEndpointEvenWhenActiveAgain(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	self := newReceiver(t, alwaysStatus(http.StatusNoContent))
	ep, _ := e.addEndpoint(t, "acme", self.url(), []string{"hookrun.*"})
	other := newReceiver(t, alwaysStatus(http.StatusNoContent))
	e.addEndpoint(t, "acme", other.url(), []string{"hookrun.endpoint.disabled"})

	n := hookrun.NewEndpointDisabled(ep, hookrun.DisabledByAPI, time.Now())
	wantAck(t, e.push(t, message{id: "1", data: n.Data, attrs: wire.Event(n).Attributes(), publishTime: time.Now()}))
	if got := len(self.requests()); got != 0 {
		t.Errorf("the endpoint got %d notices of its own disabling, want 0", got)
	}
	if _, _, ok := e.store.delivery("acme", n.ID, ep.ID); ok {
		t.Error("the endpoint has a delivery record of its own disabling notice")
	}
	if got := len(other.requests()); got != 1 {
		t.Errorf("the other endpoint got %d notices, want 1", got)
	}
}
