// Package wire declares the messages that cross a service boundary in
// hookrun: what ingest publishes, what Pub/Sub pushes, what Cloud Tasks
// posts back, what the dispatcher announces, and what an endpoint is sent
// to prove it is its owner's. It is the contract between ingest, the
// dispatcher, the sample receiver and outside publishers, and the one home
// of each format; producers and consumers, tests and benchmarks included,
// use these declarations rather than their own.
//
// It depends on the standard library only, so that anything may import it
// and it may import nothing of hookrun's. Domain types stay in
// internal/hookrun; where a message carries one, the wire shape here has
// the same fields in the same order, so that the two convert with a plain
// Go conversion (wire.Event(e), hookrun.Event(w)) and the compiler refuses
// the conversion the day they differ. The JSON field and attribute names are
// part of the contract: messages already in flight (queued tasks, retained
// Pub/Sub messages) must keep decoding after an upgrade, so a name here is
// never changed, only added.
//
// The formats, by file:
//
//   - push.go: the Pub/Sub push envelope, as POSTed to the dispatcher's
//     /pubsub/push and /pubsub/dead-letter (and to any push subscriber,
//     such as the sample receiver's hand-off target).
//   - event.go: an event as Pub/Sub attributes plus data, as ingest
//     publishes it and outside publishers may (the dispatcher reads them,
//     with its fallbacks to CloudEvents and source bindings, in
//     internal/dispatch/message.go), and the redelivery of one event.
//   - cloudevents.go: CloudEvents on Pub/Sub, binary (ce- attributes) and
//     structured (application/cloudevents+json), and what Eventarc's
//     events of Cloud Storage and Cloud Audit Logs carry; outside
//     publishers' messages that the dispatcher routes by source binding.
//   - storage.go: Cloud Storage's Pub/Sub notifications (bucketId,
//     eventType, payloadFormat…).
//   - replay.go: the replay job messages ingest publishes for the
//     dispatcher.
//   - task.go: the Cloud Tasks bodies: a scheduled retry
//     (POST /tasks/deliver) and a signing secret's retirement
//     (POST /tasks/retire-secret).
//   - deadletter.go: the announcement of a dead delivery on the
//     dead-letters topic.
//   - challenge.go: the ownership challenge sent to a new or moved
//     endpoint, and the answer that echoes it.
//
// The sample receiver (functions/receiver) is a module of its own that a
// tenant copies and owns, so it declares its own copy of the push envelope
// and the challenge, which must agree with these.
package wire
