package wire

import (
	"encoding/json"
	"errors"
)

// Cloud Storage's Pub/Sub notifications
// (cloud.google.com/storage/docs/pubsub-notifications): a bucket's
// notification configuration publishes a message per object change with
// these attributes, and with data that is the object's JSON API resource
// (payloadFormat JSON_API_V1) or empty (NONE).
const (
	AttrStorageNotificationConfig      = "notificationConfig"
	AttrStorageEventType               = "eventType"
	AttrStoragePayloadFormat           = "payloadFormat"
	AttrStorageBucketID                = "bucketId"
	AttrStorageObjectID                = "objectId"
	AttrStorageObjectGeneration        = "objectGeneration"
	AttrStorageEventTime               = "eventTime"
	AttrStorageOverwroteGeneration     = "overwroteGeneration"
	AttrStorageOverwrittenByGeneration = "overwrittenByGeneration"

	StoragePayloadJSON = "JSON_API_V1"
	StoragePayloadNone = "NONE"

	StorageObjectFinalize       = "OBJECT_FINALIZE"
	StorageObjectMetadataUpdate = "OBJECT_METADATA_UPDATE"
	StorageObjectDelete         = "OBJECT_DELETE"
	StorageObjectArchive        = "OBJECT_ARCHIVE"
)

// storageAttrs are the notification's own attributes, which make the data
// of a notification without payload.
var storageAttrs = []string{
	AttrStorageNotificationConfig, AttrStorageEventType, AttrStoragePayloadFormat,
	AttrStorageBucketID, AttrStorageObjectID, AttrStorageObjectGeneration,
	AttrStorageEventTime, AttrStorageOverwroteGeneration, AttrStorageOverwrittenByGeneration,
}

// StorageNotification is a Cloud Storage notification read from a Pub/Sub
// message.
type StorageNotification struct {
	Bucket, EventType string
	// Data is the JSON payload; with payloadFormat NONE, a JSON object of
	// the notification's attributes ({"bucketId": …, "objectId": …}).
	Data json.RawMessage
}

// StorageNotificationOf reads a message as a Cloud Storage notification:
// ok is false unless it has the notificationConfig, eventType and
// bucketId attributes; err says what is wrong with one that cannot be
// read.
func StorageNotificationOf(attrs map[string]string, data []byte) (n StorageNotification, ok bool, err error) {
	n = StorageNotification{Bucket: attrs[AttrStorageBucketID], EventType: attrs[AttrStorageEventType]}
	if attrs[AttrStorageNotificationConfig] == "" || n.Bucket == "" || n.EventType == "" {
		return StorageNotification{}, false, nil
	}
	switch attrs[AttrStoragePayloadFormat] {
	case StoragePayloadNone:
		fields := map[string]string{}
		for _, a := range storageAttrs {
			if v, ok := attrs[a]; ok {
				fields[a] = v
			}
		}
		n.Data, _ = json.Marshal(fields) // strings always marshal
	default:
		var object map[string]json.RawMessage
		if json.Unmarshal(data, &object) != nil || object == nil {
			return StorageNotification{}, true, errors.New("Cloud Storage notification: payload is not a JSON object")
		}
		n.Data = data
	}
	return n, true, nil
}
