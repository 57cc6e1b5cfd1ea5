package wire_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

var received = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func userCreated() wire.Event {
	return wire.Event{ID: "evt_1", TenantID: "acme", Type: "user.created", Data: json.RawMessage(`{"user":"u_1"}`), Source: "api", ReceivedAt: received}
}

// The names below are the contract with messages already published or
// queued, and with outside publishers: these tests pin them as literals.

func TestEventAttributes(t *testing.T) {
	e := userCreated()
	e.ReceivedAt = received.In(time.FixedZone("CET", 3600))
	want := map[string]string{
		"tenant_id": "acme", "event_id": "evt_1", "event_type": "user.created",
		"received_at": "2026-03-01T12:00:00.123456789Z", "hookrun_source": "api",
	}
	if got := e.Attributes(); !maps.Equal(got, want) {
		t.Errorf("Attributes() = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		name, endpoint string
		want           map[string]string
	}{
		{"every endpoint", "", map[string]string{"hookrun_chain": "rp_1"}},
		{"one endpoint", "ep_1", map[string]string{"hookrun_chain": "rp_1", "hookrun_endpoint": "ep_1"}},
	} {
		t.Run("redelivery to "+tt.name, func(t *testing.T) {
			w := maps.Clone(want)
			maps.Copy(w, tt.want)
			if got := e.RedeliveryAttributes("rp_1", tt.endpoint); !maps.Equal(got, w) {
				t.Errorf("RedeliveryAttributes = %v, want %v", got, w)
			}
		})
	}
}

func TestReceivedAt(t *testing.T) {
	for _, tt := range []struct {
		name, v string
		want    time.Time
		ok      bool
	}{
		{"as ingest writes it", "2026-03-01T12:00:00.123456789Z", received, true},
		{"without fraction", "2026-03-01T12:00:00Z", received.Truncate(time.Second), true},
		{"absent", "", time.Time{}, false},
		{"malformed", "yesterday", time.Time{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := wire.ReceivedAt(map[string]string{"received_at": tt.v})
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ReceivedAt(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReplayClaimedAttributes(t *testing.T) {
	want := map[string]string{"tenant_id": "acme", "hookrun_job": "replay_claimed", "hookrun_chain": "rp_1"}
	if got := wire.ReplayClaimedAttributes("acme", "rp_1"); !maps.Equal(got, want) {
		t.Errorf("ReplayClaimedAttributes = %v, want %v", got, want)
	}
}

func TestLegacyReplayJobDecodes(t *testing.T) {
	var f wire.DeadLetterFilter
	if err := json.Unmarshal([]byte(`{"endpoint_id":"ep_1","event_type":"user.created","until":"2026-03-01T12:00:00Z"}`), &f); err != nil {
		t.Fatal(err)
	}
	want := wire.DeadLetterFilter{EndpointID: "ep_1", EventType: "user.created", Until: received.Truncate(time.Second)}
	if f != want {
		t.Errorf("filter = %+v, want %+v", f, want)
	}
}

// oldRetryTask is a retry task body as the dispatcher wrote it before
// package wire existed; such tasks may still be queued.
const oldRetryTask = `{"tenant_id":"acme","event_id":"evt_1","endpoint_id":"ep_1","chain":"rp_1","attempt":2,` +
	`"event":{"type":"user.created","data":{"user":"u_1"},"source":"api","received_at":"2026-03-01T12:00:00.123456789Z"}}`

func TestRetryTask(t *testing.T) {
	t.Run("an old task decodes", func(t *testing.T) {
		var task wire.RetryTask
		if err := json.Unmarshal([]byte(oldRetryTask), &task); err != nil {
			t.Fatal(err)
		}
		if task.TenantID != "acme" || task.EventID != "evt_1" || task.EndpointID != "ep_1" || task.Chain != "rp_1" || task.Attempt != 2 {
			t.Errorf("task = %+v, want acme, evt_1, ep_1, rp_1, attempt 2", task)
		}
		e, ok := task.CarriedEvent()
		if !ok || !reflect.DeepEqual(e, userCreated()) {
			t.Errorf("CarriedEvent() = %+v, %v; want %+v", e, ok, userCreated())
		}
	})
	t.Run("encodes as before", func(t *testing.T) {
		b, err := json.Marshal(wire.NewRetryTask(userCreated(), "ep_1", "rp_1", 2))
		if err != nil || string(b) != oldRetryTask {
			t.Errorf("encoded %s, %v\nwant    %s", b, err, oldRetryTask)
		}
	})
	t.Run("too large to carry", func(t *testing.T) {
		e := userCreated()
		e.Data = json.RawMessage(`"` + string(make([]byte, wire.MaxTaskEventData)) + `"`)
		task := wire.NewRetryTask(e, "ep_1", "", 1)
		if _, ok := task.CarriedEvent(); ok {
			t.Error("a task carries an event over MaxTaskEventData")
		}
		b, _ := json.Marshal(task)
		if want := `{"tenant_id":"acme","event_id":"evt_1","endpoint_id":"ep_1","attempt":1}`; string(b) != want {
			t.Errorf("encoded %s, want %s", b, want)
		}
	})
}

func TestRetireSecretTask(t *testing.T) {
	const body = `{"tenant_id":"acme","endpoint_id":"ep_1","version":"v1","at":"2026-03-01T12:00:00.123456789Z"}`
	b, err := json.Marshal(wire.RetireSecretTask{TenantID: "acme", EndpointID: "ep_1", Version: "v1", At: received})
	if err != nil || string(b) != body {
		t.Errorf("encoded %s, %v; want %s", b, err, body)
	}
}

func TestDeadLetter(t *testing.T) {
	d := wire.DeadLetter{TenantID: "acme", EndpointID: "ep_1", EventID: "evt_1", EventType: "user.created",
		WebhookID: "msg_1", Reason: "3 attempts failed", Attempts: 3, DeadAt: received}
	const body = `{"tenant_id":"acme","endpoint_id":"ep_1","event_id":"evt_1","event_type":"user.created",` +
		`"webhook_id":"msg_1","reason":"3 attempts failed","attempts":3,"dead_time":"2026-03-01T12:00:00.123456789Z"}`
	if b, err := json.Marshal(d); err != nil || string(b) != body {
		t.Errorf("encoded %s, %v; want %s", b, err, body)
	}
	want := map[string]string{"tenant_id": "acme", "event_id": "evt_1", "event_type": "user.created", "hookrun_endpoint": "ep_1"}
	if got := d.Attributes(); !maps.Equal(got, want) {
		t.Errorf("Attributes() = %v, want %v", got, want)
	}
}

func TestPushEnvelopeDecodes(t *testing.T) {
	// As Pub/Sub pushes it, snake_case duplicates included.
	const body = `{"message":{"attributes":{"tenant_id":"acme"},"data":"eyJ1c2VyIjoidV8xIn0=",` +
		`"messageId":"1001","message_id":"1001","publishTime":"2026-03-01T12:00:00.123456789Z","publish_time":"2026-03-01T12:00:00.123456789Z"},` +
		`"subscription":"projects/p/subscriptions/events-dispatcher","deliveryAttempt":2}`
	var env wire.PushEnvelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	m := env.Message
	if string(m.Data) != `{"user":"u_1"}` || m.Attributes["tenant_id"] != "acme" || m.MessageID != "1001" || !m.PublishTime.Equal(received) ||
		env.Subscription != "projects/p/subscriptions/events-dispatcher" || env.DeliveryAttempt != 2 {
		t.Errorf("decoded %+v", env)
	}
}

func TestParseChallenge(t *testing.T) {
	for _, tt := range []struct {
		name, body, want string
		ok               bool
	}{
		{"challenge", `{"id":"chal_1","type":"webhook.verification","timestamp":"2026-03-01T12:00:00Z","data":{"challenge":"c-123"}}`, "c-123", true},
		{"other event", `{"id":"evt_1","type":"user.created","data":{"challenge":"c-123"}}`, "", false},
		{"not JSON", `challenge`, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := wire.ParseChallenge([]byte(tt.body)); got != tt.want || ok != tt.ok {
				t.Errorf("ParseChallenge = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if b, _ := json.Marshal(wire.Challenge{Challenge: "c-123"}); string(b) != `{"challenge":"c-123"}` {
		t.Errorf("answer = %s", b)
	}
}
