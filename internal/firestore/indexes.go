package firestore

import fs "cloud.google.com/go/firestore"

// Index is a composite index that a query of this package needs in
// production. The emulator needs none, so a missing one only shows when the
// query fails there with FAILED_PRECONDITION: infra/ declares each
// (google_firestore_index), internal/infracheck checks that it does, and
// indexes_test.go checks that the queries need nothing more.
type Index struct {
	// Collection is the collection ID the index applies to, with collection
	// scope: "deliveries" covers every tenants/{tenant}/deliveries.
	Collection string
	// Fields are in index order: equality filters first, then the field
	// ranged over or ordered by. Firestore appends the document ID
	// (fs.DocumentID, "__name__") in the direction of the last field when it
	// is left out; it is written out where a query orders by it.
	Fields []IndexField
}

// IndexField is one field of an Index.
type IndexField struct {
	Path string
	Desc bool
}

// asc and desc shorten the table below.
func asc(path string) IndexField  { return IndexField{Path: path} }
func desc(path string) IndexField { return IndexField{Path: path, Desc: true} }

// CompositeIndexes are the composite indexes the package's queries need.
// Queries on one field, and those with only equality filters (which
// Firestore serves by merging single-field indexes), need none; the one
// such query listed has an index of its own so that it does not depend on
// merging. An index serves one ordering direction only, so a range filter
// without an order (ascending, implicitly) needs its own index beside the
// descending one of a newest-first list.
var CompositeIndexes = []Index{
	// ListEndpointDeliveries: endpoint_id == and state ==.
	{Collection: "deliveries", Fields: []IndexField{asc("endpoint_id"), asc("state")}},

	// ListDeadLetters (deadLetterQuery, newestFirst): state ==, optionally
	// endpoint_id == and event_type ==, optionally a dead_time range,
	// ordered by dead_time then document ID, newest first.
	{Collection: "deliveries", Fields: []IndexField{asc("state"), desc("dead_time"), desc(fs.DocumentID)}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("endpoint_id"), desc("dead_time"), desc(fs.DocumentID)}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("event_type"), desc("dead_time"), desc(fs.DocumentID)}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("endpoint_id"), asc("event_type"), desc("dead_time"), desc(fs.DocumentID)}},

	// ClaimDeadLetters (deadLetterQuery without an order): the same
	// filters. A replay always has a dead_time range (the
	// ingest handler pins its end), which orders the query by dead_time
	// ascending: the descending indexes above cannot serve it.
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("dead_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("endpoint_id"), asc("dead_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("event_type"), asc("dead_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("endpoint_id"), asc("event_type"), asc("dead_time")}},

	// Metrics: COUNT and SUM over an event_time range of every shard, by
	// state, by endpoint, by both, and of all; COUNT of the accepted
	// events of every shard over a receive_time range.
	{Collection: "deliveries", Fields: []IndexField{asc("shard"), asc("event_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("shard"), asc("event_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("endpoint_id"), asc("shard"), asc("event_time")}},
	{Collection: "deliveries", Fields: []IndexField{asc("endpoint_id"), asc("state"), asc("shard"), asc("event_time")}},
	{Collection: "events", Fields: []IndexField{asc("state"), asc("shard"), asc("receive_time")}},

	// GetReplay: COUNT of a replay's deliveries by state (replay_chain ==,
	// chain ==, state ==).
	{Collection: "deliveries", Fields: []IndexField{asc("replay_chain"), asc("chain"), asc("state")}},

	// ListEvents without a state filter (listEventsByTime, newestFirst):
	// accepted events (state ==), optionally of one type, of every shard,
	// optionally a receive_time range, newest first.
	{Collection: "events", Fields: []IndexField{asc("state"), asc("shard"), desc("receive_time"), desc(fs.DocumentID)}},
	{Collection: "events", Fields: []IndexField{asc("state"), asc("type"), asc("shard"), desc("receive_time"), desc(fs.DocumentID)}},

	// ListEvents by delivery state (listEventsByDeliveryState,
	// newestFirst): deliveries in one state, optionally of one event
	// type, of every shard, optionally an event_time range, newest event
	// first. Its
	// summaries (event_id in) and the events by ID need no composite
	// index.
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("shard"), desc("event_time"), desc(fs.DocumentID)}},
	{Collection: "deliveries", Fields: []IndexField{asc("state"), asc("event_type"), asc("shard"), desc("event_time"), desc(fs.DocumentID)}},

	// ListRejected (newestFirst): tenant_id ==, newest first. Without a
	// tenant, the single-field index on reject_time serves.
	{Collection: "rejected_messages", Fields: []IndexField{asc("tenant_id"), desc("reject_time"), desc(fs.DocumentID)}},
}

// TTLPolicy is a field whose timestamp Firestore's TTL deletes documents
// after. The Store sets it from Config.EventRetention.
type TTLPolicy struct {
	// Collection is the collection ID (the policy applies to the
	// collection group).
	Collection string
	Field      string
}

// TTLPolicies are the TTL fields the package writes; infra/ declares a
// policy for each (google_firestore_field with ttl_config).
var TTLPolicies = []TTLPolicy{
	{Collection: "events", Field: "expire_time"},            // eventDoc
	{Collection: "deliveries", Field: "expire_time"},        // deliveryFields
	{Collection: "rejected_messages", Field: "expire_time"}, // rejectedDoc
	{Collection: "tenant_deletions", Field: "expire_time"},  // deletionDoc
	{Collection: "portal_links", Field: "expire_time"},      // portalLinkDoc
	{Collection: "dead_counted", Field: "expire_time"},      // CountDeadInARow
}

// Field is a field of the documents of a collection (ID; the settings of a
// field apply to the collection group).
type Field struct {
	Collection string
	Field      string
}

// QueryFields are the fields the package's queries filter or order by
// (fs.DocumentID aside): every other field is read by no query and may be
// exempted from Firestore's automatic single-field indexing (infra/, a
// google_firestore_field with an empty index_config). indexes_test.go
// keeps the list true to the queries; internal/infracheck checks that
// infra/ exempts none of these.
var QueryFields = []Field{
	{"api_keys", "key_id"}, {"api_keys", "tenant_id"},
	{"deliveries", "chain"}, {"deliveries", "dead_time"}, {"deliveries", "endpoint_id"}, {"deliveries", "event_id"},
	{"deliveries", "event_time"}, {"deliveries", "event_type"}, {"deliveries", "replay_chain"}, {"deliveries", "shard"}, {"deliveries", "state"},
	{"endpoints", "create_time"},
	{"events", "receive_time"}, {"events", "shard"}, {"events", "state"}, {"events", "type"},
	{"producer_keys", "create_time"}, {"producer_keys", "key_id"},
	{"rejected_messages", "reject_time"}, {"rejected_messages", "tenant_id"},
	{"source_claims", "tenant_id"},
}

// ShardedFields are the queried fields that every query reads together
// with a filter on all shards (shards.go) and an equality filter, which
// only composite indexes serve: the timestamps that queries order by, and
// the shard. Their single-field indexes serve no query, and a timestamp's
// would cap its collection at 500 writes per second whatever the shards,
// so infra/ exempts them; indexes_test.go checks that every query on them
// has a composite index. internal/infracheck allows exempting these of
// QueryFields, and no other.
var ShardedFields = []Field{
	{"deliveries", "event_time"}, {"deliveries", "shard"},
	{"events", "receive_time"}, {"events", "shard"},
}

// SequentialFields are the fields of the collections written once or more
// per event (events, deliveries, rejected messages) whose values grow with
// the time of the write: timestamps. A collection with such a field
// indexed takes at most 500 writes per second
// (https://cloud.google.com/firestore/docs/solutions/shard-timestamp), so
// infra/ exempts each that no query reads through a single-field index
// (not in QueryFields, or in ShardedFields) from single-field indexing;
// internal/infracheck checks it.
var SequentialFields = []Field{
	{"events", "receive_time"}, {"events", "lease_until"}, {"events", "expire_time"},
	{"deliveries", "event_time"}, {"deliveries", "update_time"}, {"deliveries", "next_attempt_time"},
	{"deliveries", "dead_time"}, {"deliveries", "replay_claim_time"}, {"deliveries", "expire_time"},
	{"rejected_messages", "publish_time"}, {"rejected_messages", "reject_time"}, {"rejected_messages", "expire_time"},
}
