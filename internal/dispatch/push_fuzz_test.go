package dispatch_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// The records fuzzEnv starts with, which seeds name.
const (
	fuzzEndpointID = "ep_fuzz"
	fuzzEventID    = "evt_fuzz"
	// fuzzOldVersion is the endpoint's previous signing secret, past its
	// grace period: a retire-secret task may disable it.
	fuzzOldVersion = "projects/test/secrets/hookrun-acme-ep_fuzz/versions/1"
)

// fuzzEnv is a dispatcher on fakes: tenant acme (active) with endpoint
// ep_fuzz for every type on a loopback receiver, a delivery of its event
// evt_fuzz waiting for attempt 2, and tenant globex (disabled). It is
// acme binds bucket "bkt" and CloudEvents source "//bound", globex source
// "//globex" (fuzzBindings). It is built once per fuzz target, and reset puts every fake back as it was
// before each input, so that every input meets the same state and a
// failure replays.
type fuzzEnv struct {
	*env
	rc      *receiver
	key     []byte // the endpoint's signing key
	current string // the endpoint's current secret version
	saved   fuzzState
}

// fuzzState is what the store and the fakes hold that an input may
// change.
type fuzzState struct {
	store    *memstore.Store
	versions map[string][]byte
}

// newFuzzEnv builds the fuzzEnv of one fuzz target.
func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newEnv(f, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	e.addTenant("globex", hookrun.TenantDisabled)
	rc := newReceiver(f, nil)
	ep, secret := e.addEndpoint(f, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.ID = fuzzEndpointID
		ep.PreviousSecretVersion, ep.PreviousSecretUntil = fuzzOldVersion, time.Now().Add(-time.Hour)
	})
	e.secrets.put(fuzzOldVersion, signature.NewSecret())
	e.bind(f, "acme", hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: "bkt"}}, "", "")
	e.bind(f, "acme", hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "//bound"}}, "", "")
	e.bind(f, "globex", hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "//globex"}}, "", "")
	key, err := signature.ParseSecret(secret)
	if err != nil {
		f.Fatalf("ParseSecret: %v", err)
	}
	ev := userCreated(fuzzEventID)
	now := time.Now().UTC()
	e.store.putEvent(f, ev)
	e.store.PutDelivery(hookrun.Delivery{
		TenantID: "acme", EventID: fuzzEventID, EndpointID: fuzzEndpointID, EventType: ev.Type, EventAt: ev.ReceivedAt,
		WebhookID: hookrun.WebhookID("acme", fuzzEventID, fuzzEndpointID), State: hookrun.DeliveryRetrying,
		Attempts: 1, ChainAttempts: 1, LastStatusCode: http.StatusServiceUnavailable, NextAttemptAt: now, UpdatedAt: now,
	})
	fe := &fuzzEnv{env: e, rc: rc, key: key, current: ep.SecretVersion}
	fe.saved = fe.state()
	return fe
}

// state copies what the store and the fakes hold now.
func (fe *fuzzEnv) state() fuzzState {
	fe.secrets.mu.Lock()
	defer fe.secrets.mu.Unlock()
	return fuzzState{store: fe.store.Snapshot(), versions: maps.Clone(fe.secrets.versions)}
}

// reset puts the store and the fakes back as newFuzzEnv left them.
func (fe *fuzzEnv) reset() {
	fe.store.Restore(fe.saved.store)
	fe.secrets.mu.Lock()
	fe.secrets.versions = maps.Clone(fe.saved.versions)
	fe.secrets.mu.Unlock()
	fe.scheduler.mu.Lock()
	fe.scheduler.tasks, fe.scheduler.order = nil, nil
	fe.scheduler.mu.Unlock()
	fe.deadLetters.mu.Lock()
	fe.deadLetters.msgs = nil
	fe.deadLetters.mu.Unlock()
	fe.rc.mu.Lock()
	fe.rc.reqs = nil
	fe.rc.mu.Unlock()
}

// savedWaiting returns the delivery newFuzzEnv left waiting, as it left
// it.
func (fe *fuzzEnv) savedWaiting() hookrun.Delivery {
	d, _ := fe.saved.store.GetDelivery(context.Background(), "acme", fuzzEventID, fuzzEndpointID)
	d.AttemptLog = nil
	return d
}

// waiting returns the delivery newFuzzEnv left waiting, as it is now.
func (fe *fuzzEnv) waiting() hookrun.Delivery {
	d, _, _ := fe.store.delivery("acme", fuzzEventID, fuzzEndpointID)
	return d
}

// checkSent checks every webhook the receiver got: a JSON body (the
// Standard Webhooks payload) signed with the endpoint's secret.
func (fe *fuzzEnv) checkSent(t *testing.T) {
	t.Helper()
	for _, r := range fe.rc.requests() {
		if !json.Valid(r.body) {
			t.Fatalf("delivered a body that is not JSON: %q", r.body)
		}
		if err := signature.Verify([][]byte{fe.key}, r.header, r.body, time.Now(), signature.DefaultTolerance); err != nil {
			t.Fatalf("delivered a webhook that does not verify: %v", err)
		}
	}
}

// pushSeeds are push requests' bodies: events, rejects and jobs.
func pushSeeds() [][]byte {
	ev := userCreated("evt_seed")
	attrs := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	pt := ev.ReceivedAt
	seeds := [][]byte{
		pushBody(apiMessage("1001", ev)),
		pushBody(message{id: "1002", data: []byte(`{"bucket":"b","name":"o"}`), publishTime: pt,
			attrs: attrs("tenant_id", "acme", "ce-type", "google.cloud.storage.object.v1.finalized", "ce-id", "123", "ce-source", "//storage.googleapis.com/b")}),
		pushBody(message{id: "1003", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "acme", "event_type", "user.created")}),
		pushBody(message{id: "1004", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "nobody", "event_type", "user.created")}),
		pushBody(message{id: "1005", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "globex", "event_type", "user.created")}),
		pushBody(message{id: "1006", data: []byte(`not json`), publishTime: pt, attrs: attrs("tenant_id", "acme", "event_type", "user.created")}),
		pushBody(message{id: "1007", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "Acme!", "event_type", "User")}),
		pushBody(message{id: "1008", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "acme", "event_type", "user.created", "event_id", "a/b")}),
		pushBody(message{id: "1009", publishTime: pt, attrs: attrs("ce-source", "//unmapped", "ce-type", "x")}),
		pushBody(message{id: "1010", data: []byte(`{"event_type":"user.created"}`), publishTime: pt,
			attrs: attrs("tenant_id", "acme", "hookrun_job", "replay_dead_letters", "hookrun_chain", "replay_1")}),
		pushBody(message{id: "1011", data: []byte(`{}`), publishTime: pt, attrs: attrs("tenant_id", "acme", "hookrun_job", "compact")}),
		pushBody(message{id: "1012", data: []byte(`{}`), publishTime: pt,
			attrs: attrs("tenant_id", "acme", "event_type", "user.created", "hookrun_chain", "c", "hookrun_endpoint", fuzzEndpointID, "received_at", "2026-13-01T00:00:00Z")}),
		pushBody(message{id: "1013", data: []byte(`{}`), publishTime: pt,
			attrs: attrs("tenant_id", "acme", "event_type", "user.created", "CloudPubSubDeadLetterSourceSubscription", "events-dispatcher")}),
		[]byte(`{"message":{"messageId":"1014","data":"!!notbase64","attributes":{"tenant_id":"acme"}}}`),
		[]byte(`{"message":{"messageId":"1015","data":"e30=","attributes":{"tenant_id":"acme","event_type":"user.created"},"publishTime":"yesterday"}}`),
		[]byte(`{"message":{"data":"e30="}}`),
		[]byte(`{"message":{"messageId":1016}}`),
		[]byte(`{"message":{"messageId":"1017","attributes":{"tenant_id":["acme"]}}}`),
		[]byte(`{"MESSAGE":{"MessageId":"1018","Attributes":{"tenant_id":"acme","event_type":"user.created"},"data":"e30="},"deliveryAttempt":"x"}`),
		[]byte(`[]`), []byte(`null`), []byte(``), []byte(`{`),
	}
	return seeds
}

// FuzzPushEnvelope feeds the push routes (events, and the subscription's
// dead letters) any body, as Pub/Sub would push it. The answer is 204, or
// a 400/413 for what is no push envelope; see checkPushed for the rest.
func FuzzPushEnvelope(f *testing.F) {
	for _, s := range pushSeeds() {
		f.Add(false, s)
	}
	f.Add(true, pushSeeds()[0])
	f.Add(true, []byte(`{"message":{"messageId":"1"}}`))
	fe := newFuzzEnv(f)

	f.Fuzz(func(t *testing.T, deadLetter bool, body []byte) {
		fe.reset()
		path := "/pubsub/push"
		if deadLetter {
			path = "/pubsub/dead-letter"
		}
		w := serve(fe.env, httptestRequest(path, body))
		httpapitest.CheckAnswer(t, w, http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		var env wire.PushEnvelope
		_ = json.Unmarshal(body, &env) // for the tenant, when it is an envelope
		fe.checkPushed(t, w, deadLetter, fuzzTenant(env.Message.Attributes))
	})
}

// FuzzPushMessage feeds POST /pubsub/push well-formed envelopes of any
// message: any message ID, attributes (one "name=value" a line) and data,
// which is what publishers other than ingest control. See checkPushed.
func FuzzPushMessage(f *testing.F) {
	const event = "tenant_id=acme\nevent_type=user.created\n"
	for _, s := range [][3]string{
		{"1001", event + "event_id=evt_1\nhookrun_source=api\nreceived_at=2026-03-01T12:00:00.123456789Z", `{"user":"u_1"}`},
		{"1002", event, `{}`},
		{"1003", "tenant_id=acme\nce-type=google.cloud.storage.object.v1.finalized\nce-id=123\nce-source=//storage.googleapis.com/b", `{"bucket":"b"}`},
		{"1004", "tenant_id=nobody\nevent_type=user.created", `{}`},
		{"1005", "tenant_id=globex\nevent_type=user.created", `{}`},
		{"1006", event, `not json`},
		{"1007", event + "event_id=a/b", `{}`},
		{"1008", event + "ce-id=a/b", `[1,"x",null]`},
		{"1009", "tenant_id=Acme\nevent_type=User.Created", `{}`},
		{"1010", "ce-source=//unmapped\nce-type=x", `{}`},
		{"1015", "content-type=application/cloudevents+json", `{"specversion":"1.0","id":"e1","source":"//bound","type":"a.b","data":{"k":1}}`},
		{"1016", "Content-Type=application/cloudevents+json; charset=utf-8", `{"specversion":"1.0","id":"e1","source":"//bound","type":"a.b","data_base64":"eyJrIjoxfQ=="}`},
		{"1017", "notificationConfig=c\neventType=OBJECT_FINALIZE\npayloadFormat=JSON_API_V1\nbucketId=bkt\nobjectId=o", `{"name":"o"}`},
		{"1018", "notificationConfig=c\neventType=OBJECT_DELETE\npayloadFormat=NONE\nbucketId=bkt\nobjectId=o", ``},
		{"1019", "ce-source=//globex\nce-type=a.b\nce-id=1", `{}`},
		{"1020", "ce-source=//storage.googleapis.com/projects/_/buckets/bkt\nce-type=google.cloud.storage.object.v1.archived\nce-id=9", `{}`},
		{"1011", event + "hookrun_chain=c1\nhookrun_endpoint=" + fuzzEndpointID + "\nreceived_at=yesterday", `{}`},
		{"1012", "tenant_id=acme\nhookrun_job=replay_dead_letters\nhookrun_chain=replay_1", `{"event_type":"user.created"}`},
		{"1013", "tenant_id=acme\nhookrun_job=replay_dead_letters\nhookrun_chain=replay_1", `"not a filter"`},
		{"1014", "tenant_id=acme\nhookrun_job=compact", `{}`},
		{"", event, `{}`},
	} {
		f.Add(s[0], s[1], []byte(s[2]))
	}
	fe := newFuzzEnv(f)

	f.Fuzz(func(t *testing.T, messageID, attributes string, data []byte) {
		fe.reset()
		attrs := map[string]string{}
		for line := range strings.SplitSeq(attributes, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				attrs[k] = v
			}
		}
		w := fe.push(t, message{id: messageID, data: data, attrs: attrs, publishTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
		if messageID == "" {
			httpapitest.CheckAnswer(t, w, http.StatusBadRequest)
		} else {
			httpapitest.CheckAnswer(t, w, http.StatusNoContent)
		}
		fe.checkPushed(t, w, false, fuzzTenant(attrs))
	})
}

// fuzzTenant is the tenant a message is for: the one its tenant_id
// attribute names or, without one, acme, the one active tenant that
// fuzzEnv's source bindings may route it to.
func fuzzTenant(attrs map[string]string) string {
	if t := attrs[wire.AttrTenantID]; t != "" {
		return t
	}
	return "acme"
}

// checkPushed checks what became of a pushed message of tenant tenantID
// that was answered w: nothing, unless it was acknowledged; then it is
// recorded as rejected (never nacked into a redelivery loop: redelivering
// would not help), or it was an event or job of the one active tenant.
// What was delivered is JSON, signed; what was saved is a valid event.
func (fe *fuzzEnv) checkPushed(t *testing.T, w *httptest.ResponseRecorder, deadLetter bool, tenantID string) {
	t.Helper()
	fe.checkSent(t)
	for k, ev := range fe.store.savedEvents() {
		if hookrun.ValidateEventID(ev.ID) != nil || hookrun.ValidateEventType(ev.Type) != nil || !json.Valid(ev.Data) || ev.TenantID != "acme" {
			t.Fatalf("saved event %s: id %q, type %q, data %q: want a valid event of acme", k, ev.ID, ev.Type, ev.Data)
		}
	}
	rejected := fe.store.rejections()
	sent := fe.rc.requests()
	if w.Code != http.StatusNoContent {
		if len(rejected) != 0 || len(sent) != 0 || fe.store.deliveryCount() != 1 {
			t.Fatalf("answered %d but recorded %d rejections, sent %d webhooks", w.Code, len(rejected), len(sent))
		}
		return
	}
	switch {
	case len(rejected) > 1:
		t.Fatalf("recorded %d rejections of one message", len(rejected))
	case len(rejected) == 1 && (rejected[0].Reason == "" || len(sent) != 0):
		t.Fatalf("rejected %+v, yet sent %d webhooks", rejected[0], len(sent))
	case deadLetter && len(rejected) != 1:
		t.Fatalf("a dead-lettered message was not recorded")
	case len(rejected) == 0 && tenantID != "acme":
		t.Fatalf("acknowledged a message of tenant %q without recording it as rejected", tenantID)
	}
}
