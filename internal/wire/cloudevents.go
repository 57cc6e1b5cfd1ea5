package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// CloudEvents on Pub/Sub, as the Pub/Sub protocol binding for CloudEvents
// (googleapis/google-cloudevents, docs/spec/pubsub.md) carries them. In
// binary mode every context attribute is a message attribute named
// "ce-" + its name (ce-id, ce-source, ce-type, ce-specversion…) and the
// message data is the event's data. In structured mode the message's
// Content-Type attribute is application/cloudevents+json and the data is
// the whole event in the JSON format ({"specversion", "id", "source",
// "type", …, "data" or "data_base64"}). Attribute names are
// case-insensitive.
const (
	CEAttrPrefix            = "ce-"
	AttrContentType         = "content-type"
	MediaCloudEventsJSON    = "application/cloudevents+json"
	CEAttrSpecVersion       = "specversion"
	CEAttrDataBase64        = "data_base64"
	maxCloudEventAttributes = 100
)

// CloudEvent is a CloudEvent read from a Pub/Sub message, binary or
// structured.
type CloudEvent struct {
	ID, Source, Type, SpecVersion, Subject, Time, DataContentType string
	// Data is the event's data when it is JSON: the message data (binary
	// mode), or the "data" member or the decoded "data_base64" member
	// (structured mode). DataIsJSON is false when there is data that is
	// not JSON; no data at all is JSON null.
	Data       json.RawMessage
	DataIsJSON bool
	// Extensions are the other attributes with string values, by their
	// lowercase names ("servicename", "methodname"…).
	Extensions map[string]string
}

// attr returns the value of the attribute named name, compared
// case-insensitively.
func attr(attrs map[string]string, name string) (string, bool) {
	if v, ok := attrs[name]; ok {
		return v, true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// IsStructuredCloudEvent reports whether a message's Content-Type
// attribute says its data is a CloudEvent in the JSON format.
func IsStructuredCloudEvent(attrs map[string]string) bool {
	ct, ok := attr(attrs, AttrContentType)
	if !ok {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == MediaCloudEventsJSON
}

// CloudEventOf reads a message as a CloudEvent: structured when
// IsStructuredCloudEvent, binary when it has the ce-source and ce-type
// attributes. ok is false when it is neither; err says what is wrong
// with a structured event that cannot be read.
func CloudEventOf(attrs map[string]string, data []byte) (ce CloudEvent, ok bool, err error) {
	if IsStructuredCloudEvent(attrs) {
		ce, err := parseStructured(data)
		return ce, true, err
	}
	ce = CloudEvent{Extensions: map[string]string{}}
	for k, v := range attrs {
		if len(k) <= len(CEAttrPrefix) || !strings.EqualFold(k[:len(CEAttrPrefix)], CEAttrPrefix) {
			continue
		}
		ce.set(strings.ToLower(k[len(CEAttrPrefix):]), v)
	}
	if ce.Source == "" || ce.Type == "" {
		return CloudEvent{}, false, nil
	}
	ce.Data, ce.DataIsJSON = data, json.Valid(data)
	if len(data) == 0 {
		ce.Data, ce.DataIsJSON = json.RawMessage("null"), true
	}
	return ce, true, nil
}

// set sets the context attribute name (lowercase) to v.
func (ce *CloudEvent) set(name, v string) {
	switch name {
	case "id":
		ce.ID = v
	case "source":
		ce.Source = v
	case "type":
		ce.Type = v
	case CEAttrSpecVersion:
		ce.SpecVersion = v
	case "subject":
		ce.Subject = v
	case "time":
		ce.Time = v
	case "datacontenttype":
		ce.DataContentType = v
	default:
		ce.Extensions[name] = v
	}
}

// parseStructured reads a CloudEvent in the JSON event format.
func parseStructured(data []byte) (CloudEvent, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return CloudEvent{}, errors.New("structured CloudEvent: message data is not a JSON object")
	}
	if len(members) > maxCloudEventAttributes {
		return CloudEvent{}, fmt.Errorf("structured CloudEvent: more than %d members", maxCloudEventAttributes)
	}
	ce := CloudEvent{Extensions: map[string]string{}, Data: json.RawMessage("null"), DataIsJSON: true}
	datas := 0
	for k, v := range members {
		name := strings.ToLower(k)
		switch name {
		case "data":
			ce.Data = v
			datas++
		case CEAttrDataBase64:
			datas++
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return CloudEvent{}, errors.New("structured CloudEvent: data_base64 is not a string")
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return CloudEvent{}, errors.New("structured CloudEvent: data_base64 is not base64")
			}
			ce.Data, ce.DataIsJSON = b, json.Valid(b)
		default:
			var s string
			if json.Unmarshal(v, &s) == nil {
				ce.set(name, s)
			}
		}
	}
	if datas > 1 {
		return CloudEvent{}, errors.New("structured CloudEvent: more than one of data and data_base64")
	}
	for _, req := range []struct{ name, v string }{{"specversion", ce.SpecVersion}, {"id", ce.ID}, {"source", ce.Source}, {"type", ce.Type}} {
		if req.v == "" {
			return CloudEvent{}, fmt.Errorf("structured CloudEvent: %s is required", req.name)
		}
	}
	return ce, nil
}

// Eventarc's CloudEvents of Google services: a Cloud Storage object's
// (source //storage.googleapis.com/projects/_/buckets/BUCKET) and an audit
// log entry's (type google.cloud.audit.log.v1.written, source
// //cloudaudit.googleapis.com/projects/PROJECT/logs/LOG, extension
// attributes serviceName, methodName and resourceName, which travel
// lowercase: ce-servicename…).
const (
	StorageCESourcePrefix = "//storage.googleapis.com/projects/_/buckets/"
	AuditLogWrittenType   = "google.cloud.audit.log.v1.written"
	CEAttrServiceName     = "servicename"
	CEAttrMethodName      = "methodname"
	CEAttrResourceName    = "resourcename"
)

// storageCETypes are the CloudEvents types of Cloud Storage object events
// and the notification event types (StorageObjectFinalize…) they stand
// for.
var storageCETypes = map[string]string{
	"google.cloud.storage.object.v1.finalized":       StorageObjectFinalize,
	"google.cloud.storage.object.v1.deleted":         StorageObjectDelete,
	"google.cloud.storage.object.v1.archived":        StorageObjectArchive,
	"google.cloud.storage.object.v1.metadataUpdated": StorageObjectMetadataUpdate,
}

// StorageEvent returns the bucket and the notification event type
// (StorageObjectFinalize…) of a Cloud Storage CloudEvent; ok is false for
// any other event.
func (ce CloudEvent) StorageEvent() (bucket, eventType string, ok bool) {
	bucket, isStorage := strings.CutPrefix(ce.Source, StorageCESourcePrefix)
	eventType, known := storageCETypes[ce.Type]
	if !isStorage || !known || bucket == "" || strings.Contains(bucket, "/") {
		return "", "", false
	}
	return bucket, eventType, true
}

// AuditLog returns the service and method of an audit-log CloudEvent; ok
// is false for any other event.
func (ce CloudEvent) AuditLog() (service, method string, ok bool) {
	if ce.Type != AuditLogWrittenType || ce.Extensions[CEAttrServiceName] == "" {
		return "", "", false
	}
	return ce.Extensions[CEAttrServiceName], ce.Extensions[CEAttrMethodName], true
}
