package dispatch_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

// bind stores a source binding in the dispatcher's store, as the API
// would.
func (e *env) bind(t testing.TB, tenantID string, m hookrun.SourceMatch, rule hookrun.EventTypeRule, eventType string) hookrun.SourceBinding {
	t.Helper()
	b, err := hookrun.NewSourceBinding(tenantID, m, rule, eventType, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateSourceBinding(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

const gcsObject = `{"kind":"storage#object","bucket":"acme-uploads","name":"a.txt","generation":"1701"}`

func TestPushOfOtherPublishersIsDelivered(t *testing.T) {
	structured := func(id, typ, source, data string) []byte {
		return []byte(`{"specversion":"1.0","id":"` + id + `","type":"` + typ + `","source":"` + source + `","datacontenttype":"application/json","data":` + data + `}`)
	}
	gcsNotification := map[string]string{
		"notificationConfig": "projects/_/buckets/acme-uploads/notificationConfigs/3", "eventType": "OBJECT_FINALIZE",
		"payloadFormat": "JSON_API_V1", "bucketId": "acme-uploads", "objectId": "a.txt", "objectGeneration": "1701",
		"eventTime": "2026-03-02T08:00:00.000000Z",
	}
	bucket := hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: "acme-uploads"}}
	billing := hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "https://billing.example.com", TypePrefix: "invoice."}}
	kms := hookrun.SourceMatch{AuditLog: &hookrun.AuditLogMatch{ServiceName: "cloudkms.googleapis.com"}}
	tests := []struct {
		name     string
		attrs    map[string]string
		data     []byte
		wantData string
		pattern  string
		wantID   string
		wantType string
	}{
		{
			name: "binary CloudEvent of a bound bucket",
			attrs: map[string]string{
				"ce-specversion": "1.0", "ce-type": "google.cloud.storage.object.v1.finalized",
				"ce-source": "//storage.googleapis.com/projects/_/buckets/acme-uploads", "ce-id": "8371736318723", "ce-subject": "objects/a.txt",
			},
			pattern: "storage.object.*", wantID: "8371736318723", wantType: "storage.object.finalize",
		},
		{
			name:    "Cloud Storage notification of a bound bucket",
			attrs:   gcsNotification,
			pattern: "storage.object.finalize", wantID: "msg-6001", wantType: "storage.object.finalize",
		},
		{
			name:     "structured CloudEvent of a bound source",
			attrs:    map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"},
			data:     structured("in-77", "invoice.paid", "https://billing.example.com", gcsObject),
			wantData: gcsObject,
			pattern:  "invoice.*", wantID: "in-77", wantType: "invoice.paid",
		},
		{
			name: "audit log of a bound service",
			attrs: map[string]string{
				"ce-specversion": "1.0", "ce-type": "google.cloud.audit.log.v1.written", "ce-id": "log-1",
				"ce-source":      "//cloudaudit.googleapis.com/projects/p/logs/cloudaudit.googleapis.com%2Factivity",
				"ce-servicename": "cloudkms.googleapis.com", "ce-methodname": "CreateKeyRing", "ce-resourcename": "projects/p/locations/global/keyRings/r",
			},
			pattern: "audit.*", wantID: "log-1", wantType: "audit.cloudkms.createkeyring",
		},
		{
			name:    "CloudEvents type with a tenant_id attribute",
			attrs:   map[string]string{"ce-type": "google.cloud.scheduler.job.v1.executed", "tenant_id": "acme"},
			pattern: "*", wantID: "msg-6001", wantType: "google.cloud.scheduler.job.v1.executed",
		},
		{
			name:    "hookrun attributes without an event id",
			attrs:   map[string]string{"tenant_id": "acme", "event_type": "build.finished"},
			pattern: "build.finished", wantID: "msg-6001", wantType: "build.finished",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenant("acme", hookrun.TenantActive)
			e.bind(t, "acme", bucket, "", "")
			e.bind(t, "acme", billing, "", "")
			e.bind(t, "acme", kms, "", "")
			rc := newReceiver(t, nil)
			ep, secret := e.addEndpoint(t, "acme", rc.url(), []string{tt.pattern})
			data, wantData := []byte(gcsObject), gcsObject
			if tt.data != nil {
				data, wantData = tt.data, tt.wantData
			}
			published := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
			wantAck(t, e.push(t, message{id: "6001", data: data, attrs: tt.attrs, publishTime: published}))

			reqs := rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(reqs))
			}
			if got, want := reqs[0].header.Get(signature.HeaderID), hookrun.WebhookID("acme", tt.wantID, ep.ID); got != want {
				t.Errorf("webhook-id = %q, want %q (event id %s)", got, want, tt.wantID)
			}
			wh, _ := standardwebhooks.NewWebhook(secret)
			if err := wh.Verify(reqs[0].body, reqs[0].header); err != nil {
				t.Errorf("the Standard Webhooks library rejects the delivery: %v", err)
			}
			var payload struct {
				ID, Type  string
				Timestamp time.Time
				Data      json.RawMessage
			}
			if err := json.Unmarshal(reqs[0].body, &payload); err != nil {
				t.Fatal(err)
			}
			if payload.ID != tt.wantID || payload.Type != tt.wantType || string(payload.Data) != wantData || !payload.Timestamp.Equal(published) {
				t.Errorf("body = %s, want id %s, type %s, the message data, publish time as timestamp", reqs[0].body, tt.wantID, tt.wantType)
			}
			// Saved, since no ingest request recorded it: replay needs it.
			saved, ok := e.store.savedEvents()["acme/"+tt.wantID]
			if !ok || saved.Source != hookrun.SourcePubSub || saved.Type != tt.wantType {
				t.Errorf("saved event = %+v (found %v), want it saved with source pubsub", saved, ok)
			}
		})
	}
}

func TestUndeliverableMessagesAreRecordedAsRejected(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	e.addTenant("umbrella", hookrun.TenantDisabled)
	e.bind(t, "acme", hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "//pubsub.googleapis.com/known", Type: "user.created"}}, "", "")
	e.bind(t, "acme", hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: "acme-uploads"}}, "", "")
	e.bind(t, "umbrella", hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "//umbrella.example.com"}}, "", "")
	structured := map[string]string{"content-type": "application/cloudevents+json"}
	gcs := func(format string) map[string]string {
		return map[string]string{"notificationConfig": "c", "eventType": "OBJECT_DELETE", "bucketId": "acme-uploads", "payloadFormat": format}
	}
	acme := newReceiver(t, nil)
	umbrella := newReceiver(t, nil)
	e.addEndpoint(t, "acme", acme.url(), []string{"*"})
	e.addEndpoint(t, "umbrella", umbrella.url(), []string{"*"})

	valid := []byte(`{"a":1}`)
	tests := []struct {
		name       string
		attrs      map[string]string
		data       []byte
		wantReason string
		wantTenant string
	}{
		{"no tenant", map[string]string{"event_type": "user.created"}, valid, "no tenant", ""},
		{"unbound ce-source", map[string]string{"ce-type": "user.created", "ce-source": "//pubsub.googleapis.com/unknown"}, valid, `no source binding matches ce-source "//pubsub.googleapis.com/unknown" ce-type "user.created"`, ""},
		{"bound ce-source of another type", map[string]string{"ce-type": "user.deleted", "ce-source": "//pubsub.googleapis.com/known"}, valid, "no source binding matches", ""},
		{"unbound bucket", map[string]string{"notificationConfig": "c", "eventType": "OBJECT_FINALIZE", "bucketId": "globex-uploads", "payloadFormat": "NONE"}, nil, `no source binding matches Cloud Storage bucket "globex-uploads"`, ""},
		{"unbound structured CloudEvent", structured, []byte(`{"specversion":"1.0","id":"1","source":"//elsewhere","type":"a.b","data":{}}`), `no source binding matches ce-source "//elsewhere"`, ""},
		{"structured CloudEvent without a source", structured, []byte(`{"specversion":"1.0","id":"1","type":"a.b"}`), "source is required", ""},
		{"bound CloudEvent whose data is not JSON", map[string]string{"ce-type": "user.created", "ce-source": "//pubsub.googleapis.com/known"}, []byte("plain"), "not JSON", "acme"},
		{"bound CloudEvent with a type that is no event type", map[string]string{"ce-type": "User.Created", "ce-source": "//umbrella.example.com"}, valid, "bind it with a fixed event type", "umbrella"},
		{"notification whose payload is not JSON", gcs("JSON_API_V1"), []byte("plain"), "payload is not a JSON object", ""},
		{"bound CloudEvent of a disabled tenant", map[string]string{"ce-type": "user.created", "ce-source": "//umbrella.example.com"}, valid, "disabled", "umbrella"},
		{"invalid tenant id", map[string]string{"tenant_id": "Acme Corp", "event_type": "user.created"}, valid, "not a valid tenant id", ""},
		{"no type", map[string]string{"tenant_id": "acme"}, valid, "no event type", "acme"},
		{"invalid type", map[string]string{"tenant_id": "acme", "event_type": "User Created"}, valid, "not valid", "acme"},
		{"invalid event id", map[string]string{"tenant_id": "acme", "event_type": "user.created", "event_id": "a/b"}, valid, "not a valid event id", "acme"},
		{"data not JSON", map[string]string{"tenant_id": "acme", "event_type": "user.created"}, []byte("plain text"), "not JSON", "acme"},
		{"no data", map[string]string{"tenant_id": "acme", "event_type": "user.created"}, nil, "not JSON", "acme"},
		{"unknown tenant", map[string]string{"tenant_id": "initech", "event_type": "user.created"}, valid, "unknown tenant", "initech"},
		{"disabled tenant", map[string]string{"tenant_id": "umbrella", "event_type": "user.created"}, valid, "disabled", "umbrella"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgID := strconv.Itoa(7000 + i)
			published := time.Date(2026, 3, 3, 9, 0, i, 0, time.UTC)
			before := len(e.store.rejections())
			wantAck(t, e.push(t, message{id: msgID, data: tt.data, attrs: tt.attrs, publishTime: published}))

			rejs := e.store.rejections()
			if len(rejs) != before+1 {
				t.Fatalf("%d rejections recorded, want 1", len(rejs)-before)
			}
			r := rejs[len(rejs)-1]
			if r.MessageID != msgID || !strings.Contains(r.Reason, tt.wantReason) || r.TenantID != tt.wantTenant {
				t.Errorf("rejection = {id %q reason %q tenant %q}, want {id %q reason containing %q tenant %q}",
					r.MessageID, r.Reason, r.TenantID, msgID, tt.wantReason, tt.wantTenant)
			}
			if string(r.Data) != string(tt.data) || len(r.Attributes) != len(tt.attrs) || !r.PublishedAt.Equal(published) || r.RejectedAt.IsZero() {
				t.Errorf("rejection keeps data %q, attributes %v, publish time %v, reject time %v; want the message's",
					r.Data, r.Attributes, r.PublishedAt, r.RejectedAt)
			}
		})
	}
	if a, u := len(acme.requests()), len(umbrella.requests()); a != 0 || u != 0 {
		t.Errorf("receivers got %d and %d requests for rejected messages, want 0", a, u)
	}
	if n := e.store.deliveryCount(); n != 0 {
		t.Errorf("%d deliveries recorded for rejected messages, want 0", n)
	}
}

func TestRejectedDataIsBounded(t *testing.T) {
	e := newEnv(t, localConfig)
	big := []byte(strings.Repeat("x", hookrun.MaxRejectedData+100))
	wantAck(t, e.push(t, message{id: "8001", data: big, attrs: map[string]string{}, publishTime: time.Now()}))
	rejs := e.store.rejections()
	if len(rejs) != 1 {
		t.Fatalf("%d rejections recorded, want 1", len(rejs))
	}
	if got := len(rejs[0].Data); got != hookrun.MaxRejectedData {
		t.Errorf("rejection keeps %d bytes of data, want the first %d", got, hookrun.MaxRejectedData)
	}
}

func TestMalformedPushRequests(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `{"message":`},
		{"no message id", `{"message":{"data":"e30=","attributes":{"tenant_id":"acme","event_type":"user.created"}}}`},
		{"data not base64", `{"message":{"data":"%%%","messageId":"9001"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.pushRaw([]byte(tt.body))
			if w.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400; body %s", w.Code, w.Body)
			}
		})
	}
	if n := len(e.store.rejections()); n != 0 {
		t.Errorf("%d rejections recorded for malformed requests, want 0", n)
	}
}

func TestHealthzAndUnknownRoutes(t *testing.T) {
	e := newEnv(t, localConfig)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", 200},
		{http.MethodGet, "/pubsub/push", 404},
		{http.MethodPost, "/tasks/nothing", 404},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
}

// A source binding routes messages from when the dispatcher's cache of
// its source expires (Config.EndpointCacheTTL, here a nanosecond) until
// its deletion does: no redeploy either way.
func TestSourceBindingChangesTakeEffect(t *testing.T) {
	cfg := localConfig
	cfg.EndpointCacheTTL = time.Nanosecond
	e := newEnv(t, cfg)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	attrs := map[string]string{"ce-source": "https://billing.example.com", "ce-type": "invoice.paid", "ce-id": "in-1"}
	push := func(id string) {
		t.Helper()
		wantAck(t, e.push(t, message{id: id, data: []byte(`{}`), attrs: attrs, publishTime: time.Now()}))
	}

	push("9101")
	b := e.bind(t, "acme", hookrun.SourceMatch{CloudEvents: &hookrun.CloudEventsMatch{Source: "https://billing.example.com"}}, "", "")
	push("9102")
	if err := e.store.DeleteSourceBinding(t.Context(), "acme", b.ID); err != nil {
		t.Fatal(err)
	}
	attrs["ce-id"] = "in-2"
	push("9103")

	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1: only while bound", n)
	}
	rejs := e.store.rejections()
	if len(rejs) != 2 || rejs[0].MessageID != "9101" || rejs[1].MessageID != "9103" || !strings.Contains(rejs[1].Reason, "no source binding matches") {
		t.Errorf("rejections = %+v, want 9101 and 9103, unbound", rejs)
	}
}
