package wire_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/wire"
)

// Formats of Google's and the CloudEvents specification's, pinned as
// literals: the names are theirs, not hookrun's to change.

const gcsObject = `{"kind":"storage#object","name":"a.txt","bucket":"uploads","generation":"1701"}`

func TestCloudEventOf(t *testing.T) {
	structured := map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8"}
	tests := []struct {
		name    string
		attrs   map[string]string
		data    string
		ok      bool
		wantErr string
		check   func(t *testing.T, ce wire.CloudEvent)
	}{
		{"binary", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "//x", "ce-type": "a.b", "ce-subject": "s", "ce-servicename": "svc"}, `{"k":1}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.ID != "1" || ce.Source != "//x" || ce.Type != "a.b" || ce.Subject != "s" || ce.Extensions["servicename"] != "svc" || string(ce.Data) != `{"k":1}` || !ce.DataIsJSON {
				t.Errorf("got %+v", ce)
			}
		}},
		{"binary names are case-insensitive", map[string]string{"CE-Source": "//x", "Ce-Type": "a.b"}, ``, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.Source != "//x" || ce.Type != "a.b" || string(ce.Data) != "null" {
				t.Errorf("got %+v", ce)
			}
		}},
		{"binary with data that is not JSON", map[string]string{"ce-source": "//x", "ce-type": "a.b"}, `plain`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.DataIsJSON {
				t.Errorf("DataIsJSON for %q", ce.Data)
			}
		}},
		{"not a CloudEvent", map[string]string{"tenant_id": "acme", "ce-type": "a.b"}, `{}`, false, "", nil},
		{"structured", structured, `{"specversion":"1.0","id":"e1","source":"https://billing.example.com","type":"invoice.paid","time":"2026-12-07T12:00:00Z","datacontenttype":"application/json","tracelevel":"high","count":3,"data":{"invoice":"in_1"}}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.ID != "e1" || ce.Source != "https://billing.example.com" || ce.Type != "invoice.paid" || ce.Time != "2026-12-07T12:00:00Z" || string(ce.Data) != `{"invoice":"in_1"}` || !ce.DataIsJSON || ce.Extensions["tracelevel"] != "high" {
				t.Errorf("got %+v", ce)
			}
			if _, ok := ce.Extensions["count"]; ok {
				t.Errorf("a number made an extension: %v", ce.Extensions)
			}
		}},
		{"structured with data_base64", map[string]string{"content-type": "application/cloudevents+json"}, `{"specversion":"1.0","id":"e1","source":"s","type":"t","data_base64":"eyJhIjoxfQ=="}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if string(ce.Data) != `{"a":1}` || !ce.DataIsJSON {
				t.Errorf("data = %s (JSON %v)", ce.Data, ce.DataIsJSON)
			}
		}},
		{"structured with binary data_base64", map[string]string{"content-type": "application/cloudevents+json"}, `{"specversion":"1.0","id":"e1","source":"s","type":"t","data_base64":"AAEC"}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.DataIsJSON {
				t.Errorf("DataIsJSON for %q", ce.Data)
			}
		}},
		{"structured without data", map[string]string{"content-type": "application/cloudevents+json"}, `{"specversion":"1.0","id":"e1","source":"s","type":"t"}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if string(ce.Data) != "null" {
				t.Errorf("data = %s", ce.Data)
			}
		}},
		{"structured without id", structured, `{"specversion":"1.0","source":"s","type":"t"}`, true, "id is required", nil},
		{"structured that is not JSON", structured, `specversion=1.0`, true, "not a JSON object", nil},
		{"structured with both data", structured, `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{},"data_base64":"e30="}`, true, "more than one", nil},
		{"structured with bad base64", structured, `{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"!"}`, true, "not base64", nil},
		{"another format is not structured", map[string]string{"content-type": "application/cloudevents+avro", "ce-source": "//x", "ce-type": "a.b"}, `{}`, true, "", func(t *testing.T, ce wire.CloudEvent) {
			if ce.Source != "//x" {
				t.Errorf("got %+v, want the binary event", ce)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce, ok, err := wire.CloudEventOf(tt.attrs, []byte(tt.data))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, ce)
			}
		})
	}
}

func TestCloudEventStorageAndAuditLog(t *testing.T) {
	gcs := wire.CloudEvent{Source: "//storage.googleapis.com/projects/_/buckets/uploads", Type: "google.cloud.storage.object.v1.finalized"}
	if b, ev, ok := gcs.StorageEvent(); !ok || b != "uploads" || ev != "OBJECT_FINALIZE" {
		t.Errorf("StorageEvent() = %q, %q, %v", b, ev, ok)
	}
	gcs.Type = "google.cloud.storage.object.v1.metadataUpdated"
	if _, ev, _ := gcs.StorageEvent(); ev != "OBJECT_METADATA_UPDATE" {
		t.Errorf("metadataUpdated is %q", ev)
	}
	for _, other := range []wire.CloudEvent{
		{Source: "//storage.googleapis.com/projects/_/buckets/uploads", Type: "com.example.x"},
		{Source: "//storage.googleapis.com/projects/_/buckets/", Type: "google.cloud.storage.object.v1.finalized"},
		{Source: "//example.com/projects/_/buckets/uploads", Type: "google.cloud.storage.object.v1.finalized"},
	} {
		if _, _, ok := other.StorageEvent(); ok {
			t.Errorf("%+v is a storage event", other)
		}
	}
	audit := wire.CloudEvent{Type: "google.cloud.audit.log.v1.written", Source: "//cloudaudit.googleapis.com/projects/p/logs/activity",
		Extensions: map[string]string{"servicename": "cloudkms.googleapis.com", "methodname": "CreateKeyRing"}}
	if s, m, ok := audit.AuditLog(); !ok || s != "cloudkms.googleapis.com" || m != "CreateKeyRing" {
		t.Errorf("AuditLog() = %q, %q, %v", s, m, ok)
	}
	if _, _, ok := gcs.AuditLog(); ok {
		t.Error("a storage event is an audit log")
	}
}

func TestStorageNotificationOf(t *testing.T) {
	attrs := func(format string) map[string]string {
		return map[string]string{
			"notificationConfig": "projects/_/buckets/uploads/notificationConfigs/1", "eventType": "OBJECT_FINALIZE",
			"payloadFormat": format, "bucketId": "uploads", "objectId": "a.txt", "objectGeneration": "1701",
			"eventTime": "2026-12-07T12:00:00.000000Z", "custom": "not part of it",
		}
	}
	n, ok, err := wire.StorageNotificationOf(attrs("JSON_API_V1"), []byte(gcsObject))
	if !ok || err != nil || n.Bucket != "uploads" || n.EventType != "OBJECT_FINALIZE" || string(n.Data) != gcsObject {
		t.Errorf("JSON_API_V1: %+v, %v, %v", n, ok, err)
	}
	n, ok, err = wire.StorageNotificationOf(attrs("NONE"), nil)
	if !ok || err != nil {
		t.Fatalf("NONE: %v, %v", ok, err)
	}
	var fields map[string]string
	if err := json.Unmarshal(n.Data, &fields); err != nil || fields["objectId"] != "a.txt" || fields["objectGeneration"] != "1701" || fields["custom"] != "" {
		t.Errorf("NONE data = %s (%v), want the notification's attributes", n.Data, err)
	}
	if _, ok, err := wire.StorageNotificationOf(attrs("JSON_API_V1"), []byte(`[1]`)); !ok || err == nil {
		t.Errorf("a payload that is no object: %v, %v", ok, err)
	}
	a := attrs("NONE")
	delete(a, "notificationConfig")
	if _, ok, _ := wire.StorageNotificationOf(a, nil); ok {
		t.Error("a message without notificationConfig is a notification")
	}
}

// FuzzCloudEventOf holds the CloudEvents reader to its promises on any
// message: no panic, and an event it returns has a source and a type,
// with data that is JSON when it says so.
func FuzzCloudEventOf(f *testing.F) {
	f.Add("application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":1}}`)
	f.Add("application/cloudevents+json; charset=utf-8", `{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"e30="}`)
	f.Add("", `{}`)
	f.Add("application/cloudevents+json", `{"ID":"1","Source":"s","TYPE":"t","specversion":"1.0","Data":1,"data":2}`)
	f.Fuzz(func(t *testing.T, contentType, data string) {
		attrs := map[string]string{"ce-source": "bs", "ce-type": "bt"}
		if contentType != "" {
			attrs["content-type"] = contentType
		}
		ce, ok, err := wire.CloudEventOf(attrs, []byte(data))
		if !ok || err != nil {
			return
		}
		if ce.Source == "" || ce.Type == "" {
			t.Errorf("event without source or type: %+v", ce)
		}
		if ce.DataIsJSON && !json.Valid(ce.Data) {
			t.Errorf("data %q is said to be JSON", ce.Data)
		}
	})
}

// FuzzStorageNotificationOf: a notification read from any payload has
// JSON object data.
func FuzzStorageNotificationOf(f *testing.F) {
	f.Add("JSON_API_V1", gcsObject, "a.txt")
	f.Add("NONE", "", "a\"b\x00")
	f.Add("", "null", "")
	f.Fuzz(func(t *testing.T, format, data, object string) {
		attrs := map[string]string{"notificationConfig": "c", "eventType": "OBJECT_DELETE", "bucketId": "b", "payloadFormat": format, "objectId": object}
		n, ok, err := wire.StorageNotificationOf(attrs, []byte(data))
		if !ok || err != nil {
			return
		}
		var v map[string]json.RawMessage
		if json.Unmarshal(n.Data, &v) != nil {
			t.Errorf("data %q is not a JSON object", n.Data)
		}
	})
}
