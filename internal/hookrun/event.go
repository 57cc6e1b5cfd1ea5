package hookrun

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"time"
)

// Event sources: how an event entered hookrun.
const (
	SourceAPI    = "api"    // POST /v1/events on the ingest service
	SourcePubSub = "pubsub" // published straight to the events topic
)

// MaxEventDataBytes bounds an event's data, whatever the API's body limit:
// an event is kept in one Firestore document, which holds at most 1 MiB
// (1,048,576 bytes) with its other fields and its name.
const MaxEventDataBytes = 1_000_000

// A batch of events sent in one request (POST /v1/events:batch) holds at
// most MaxBatchEvents events in a body of at most MaxBatchBytes. Ingest
// refuses larger ones; the Go client splits larger batches to fit.
const (
	MaxBatchEvents = 500
	MaxBatchBytes  = 5 << 20
)

// Event is one occurrence a producer reported for a tenant. Data is the
// producer's JSON, delivered unchanged inside the webhook body.
type Event struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"receive_time"`
}

// WebhookID is the webhook-id header of every attempt of event e to
// endpoint endpointID: stable across attempts, redeliveries and replays, so
// receivers can deduplicate, and distinct per endpoint.
func WebhookID(tenantID, eventID, endpointID string) string {
	h := sha256.New()
	h.Write([]byte(tenantID))
	h.Write([]byte{0})
	h.Write([]byte(eventID))
	h.Write([]byte{0})
	h.Write([]byte(endpointID))
	var sum [sha256.Size]byte
	return "msg_" + idEncoding.EncodeToString(h.Sum(sum[:0])[:16])
}

// WebhookBody returns the body hookrun POSTs for e, in the Standard Webhooks
// payload shape: {"type","timestamp","data"} plus the producer's "id".
// Data must be valid JSON (ingest and the dispatcher check it). ID and Type
// are validated ASCII without quotes or backslashes, so Go quoting is JSON.
// The timestamp is kept to the microsecond, as Firestore keeps it: an
// attempt that reads the event back from the store sends the same body as
// the first, whatever precision the event was received with.
func WebhookBody(e Event) []byte {
	b := make([]byte, 0, len(e.Data)+len(e.ID)+len(e.Type)+80)
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, e.ID)
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, e.Type)
	b = append(b, `,"timestamp":"`...)
	b = e.ReceivedAt.UTC().Truncate(time.Microsecond).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, e.Data...)
	return append(b, '}')
}

// EventClaim is what claiming an event's ID for a publish found
// (ingest's EventStore.ClaimEvent).
type EventClaim int

const (
	// ClaimedNew: no request had the ID; the claim is the caller's.
	ClaimedNew EventClaim = iota
	// ClaimedTakenOver: an earlier request claimed the ID and ended
	// without the event accepted, its lease run out or its claim
	// released after a failed publish. The claim is the caller's, but
	// the earlier publish may have reached Pub/Sub all the same, so the
	// caller's message may be the event's second.
	ClaimedTakenOver
	// ClaimedDuplicate: the event was accepted before; nothing is
	// claimed.
	ClaimedDuplicate
)

// AcceptedEvent is an event Pub/Sub has, as message MessageID, for the
// store to record as accepted (ingest's EventStore.RecordEvents). Claimed
// is whether the record completes a claim of its ID (ClaimEvent): a
// producer-chosen ID is claimed before its publish, an ID ingest made is
// new by construction and claims nothing.
type AcceptedEvent struct {
	Event     Event
	MessageID string
	Claimed   bool
}
