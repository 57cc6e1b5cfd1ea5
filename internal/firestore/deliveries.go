package firestore

import (
	"context"
	"fmt"
	"slices"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// deliveryDoc is a delivery's document, as read, and as the attempt log
// creates it for a first attempt (newAttemptFields). Later writes merge
// into it field by field (attemptFields, deliveryFields), with transforms.
//
// A created document leaves out the fields that are still zero and that
// no query filters or orders on while they are zero (omitempty): read
// back, they are the same zero values. Creating it from a struct rather
// than a map costs the client a fraction of the work: it reflects over a
// map's keys and values, copying each, on every pass it makes.
type deliveryDoc struct {
	EventID         string       `firestore:"event_id"`
	EndpointID      string       `firestore:"endpoint_id"`
	EventType       string       `firestore:"event_type"`
	EventTime       time.Time    `firestore:"event_time,omitempty"`
	WebhookID       string       `firestore:"webhook_id"`
	State           string       `firestore:"state"`
	AttemptCount    int          `firestore:"attempt_count"`
	LastStatusCode  int          `firestore:"last_status_code"`
	LastError       string       `firestore:"last_error,omitempty"`
	UpdateTime      time.Time    `firestore:"update_time"`
	ExpireTime      time.Time    `firestore:"expire_time"`
	Shard           int          `firestore:"shard"`
	Chain           string       `firestore:"chain,omitempty"`
	ChainAttempts   int          `firestore:"chain_attempts"`
	NextAttemptTime time.Time    `firestore:"next_attempt_time,omitempty"`
	DeadReason      string       `firestore:"dead_reason,omitempty"`
	DeadTime        time.Time    `firestore:"dead_time,omitempty"`
	Announced       bool         `firestore:"announced,omitempty"`
	CountsInARow    bool         `firestore:"counts_in_a_row,omitempty"`
	ReplayChain     string       `firestore:"replay_chain,omitempty"`
	ReplayClaimTime time.Time    `firestore:"replay_claim_time,omitempty"`
	Attempts        []attemptDoc `firestore:"attempts"`

	// Metrics (attemptFields says how they are summed). Of the latency
	// histogram's buckets, a document has those its attempts hit: one
	// field per bucket of hookrun.LatencyBuckets and the overflow
	// (TestDeliveryDocHasEveryLatencyBucket).
	LatencySumMS   float64 `firestore:"latency_sum_ms"`
	FailedAttempts int     `firestore:"failed_attempts"`
	Latency00      int     `firestore:"latency_bucket_00,omitempty"`
	Latency01      int     `firestore:"latency_bucket_01,omitempty"`
	Latency02      int     `firestore:"latency_bucket_02,omitempty"`
	Latency03      int     `firestore:"latency_bucket_03,omitempty"`
	Latency04      int     `firestore:"latency_bucket_04,omitempty"`
	Latency05      int     `firestore:"latency_bucket_05,omitempty"`
	Latency06      int     `firestore:"latency_bucket_06,omitempty"`
	Latency07      int     `firestore:"latency_bucket_07,omitempty"`
	Latency08      int     `firestore:"latency_bucket_08,omitempty"`
	Latency09      int     `firestore:"latency_bucket_09,omitempty"`
	Latency10      int     `firestore:"latency_bucket_10,omitempty"`
	Latency11      int     `firestore:"latency_bucket_11,omitempty"`
}

// latencyBucket is the field of latency bucket i (hookrun.LatencyBucket),
// named latencyBucketField(i).
func (d *deliveryDoc) latencyBucket(i int) *int {
	return [...]*int{&d.Latency00, &d.Latency01, &d.Latency02, &d.Latency03, &d.Latency04, &d.Latency05,
		&d.Latency06, &d.Latency07, &d.Latency08, &d.Latency09, &d.Latency10, &d.Latency11}[i]
}

// attemptDoc is one attempt in a delivery's document. Its empty strings
// are left out (read back as empty): most attempts have no chain, no
// error and no response body, and each field costs encoding on every
// write.
type attemptDoc struct {
	Number       int       `firestore:"number"`
	Chain        string    `firestore:"chain,omitempty"`
	StartTime    time.Time `firestore:"start_time"`
	StatusCode   int       `firestore:"status_code"`
	LatencyMS    float64   `firestore:"latency_ms"`
	Error        string    `firestore:"error,omitempty"`
	ResponseBody string    `firestore:"response_body,omitempty"`
}

// GetDeliveries returns the existing deliveries of one event to the given
// endpoints, by endpoint ID, in one read, without their attempts.
func (s *Store) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	refs := make([]*fs.DocumentRef, len(endpointIDs))
	for i, id := range endpointIDs {
		refs[i] = s.deliveryRef(tenantID, eventID, id)
	}
	snaps, err := s.reads.getAll(ctx, refs)
	if err != nil {
		return nil, coded(err, fmt.Sprintf("deliveries of event %q", eventID))
	}
	out := make(map[string]hookrun.Delivery, len(snaps))
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		d, err := decodeDelivery(tenantID, snap, false)
		if err != nil {
			return nil, err
		}
		out[d.EndpointID] = d
	}
	return out, nil
}

// GetDelivery returns one delivery with its attempts.
func (s *Store) GetDelivery(ctx context.Context, tenantID, eventID, endpointID string) (hookrun.Delivery, error) {
	snap, err := s.deliveryRef(tenantID, eventID, endpointID).Get(ctx)
	if err != nil {
		return hookrun.Delivery{}, coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(eventID, endpointID)))
	}
	return decodeDelivery(tenantID, snap, true)
}

// ListEventDeliveries returns the deliveries of one event, with their
// attempts.
func (s *Store) ListEventDeliveries(ctx context.Context, tenantID, eventID string) ([]hookrun.Delivery, error) {
	q := s.tenantRef(tenantID).Collection("deliveries").Where("event_id", "==", eventID)
	return s.queryDeliveries(ctx, tenantID, q, true)
}

// ListEndpointDeliveries returns up to limit deliveries of an endpoint in
// the given state, without attempts.
func (s *Store) ListEndpointDeliveries(ctx context.Context, tenantID, endpointID string, state hookrun.DeliveryState, limit int) ([]hookrun.Delivery, error) {
	q := s.tenantRef(tenantID).Collection("deliveries").
		Where("endpoint_id", "==", endpointID).Where("state", "==", string(state)).Limit(limit)
	return s.queryDeliveries(ctx, tenantID, q, false)
}

func (s *Store) queryDeliveries(ctx context.Context, tenantID string, q fs.Query, withAttempts bool) ([]hookrun.Delivery, error) {
	it := q.Documents(ctx)
	defer it.Stop()
	var out []hookrun.Delivery
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return nil, coded(err, "deliveries")
		}
		d, err := decodeDelivery(tenantID, snap, withAttempts)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
}

func decodeDelivery(tenantID string, snap *fs.DocumentSnapshot, withAttempts bool) (hookrun.Delivery, error) {
	var d deliveryDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Delivery{}, fmt.Errorf("decode delivery %s: %w", snap.Ref.ID, err)
	}
	out := hookrun.Delivery{
		TenantID:        tenantID,
		EventID:         d.EventID,
		EndpointID:      d.EndpointID,
		EventType:       d.EventType,
		EventAt:         d.EventTime,
		WebhookID:       d.WebhookID,
		State:           hookrun.DeliveryState(d.State),
		Attempts:        d.AttemptCount,
		LastStatusCode:  d.LastStatusCode,
		LastError:       d.LastError,
		UpdatedAt:       d.UpdateTime,
		Chain:           d.Chain,
		ChainAttempts:   d.ChainAttempts,
		NextAttemptAt:   d.NextAttemptTime,
		DeadReason:      d.DeadReason,
		DeadAt:          d.DeadTime,
		Announced:       d.Announced,
		CountsInARow:    d.CountsInARow,
		ReplayChain:     d.ReplayChain,
		ReplayClaimedAt: d.ReplayClaimTime,
	}
	if withAttempts {
		out.AttemptLog = make([]hookrun.Attempt, len(d.Attempts))
		for i, a := range d.Attempts {
			out.AttemptLog[i] = hookrun.Attempt{
				Number:       a.Number,
				Chain:        a.Chain,
				StartedAt:    a.StartTime,
				StatusCode:   a.StatusCode,
				Latency:      time.Duration(a.LatencyMS * float64(time.Millisecond)),
				Error:        a.Error,
				ResponseBody: a.ResponseBody,
			}
		}
	}
	return out, nil
}

// RecordAttempt stores the outcome of one attempt and the delivery's new
// state in a single write: the attempt is appended to the delivery's list,
// so there is no multi-document transaction on the hot path.
func (s *Store) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	fields := s.attemptFields(d, a)
	ref := s.deliveryRef(d.TenantID, d.EventID, d.EndpointID)
	err := s.writes.write(ctx,
		func(bw *fs.BulkWriter) (*fs.BulkWriterJob, error) { return bw.Set(ref, fields, fs.MergeAll) },
		func(ctx context.Context) error { _, err := ref.Set(ctx, fields, fs.MergeAll); return err })
	return coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(d.EventID, d.EndpointID)))
}

// RecordAttempts stores each record as RecordAttempt does. The attempt
// log's records are nearly all the first of their delivery, so each of
// those is written as a new document: a create of plain values, which
// costs the client far less CPU than RecordAttempt's merge of transforms,
// in as few commits as they fit (commitAll), and those of a commit that
// failed through one BulkWriter. One whose delivery exists already, a
// second record of one delivery (a BulkWriter takes one write per
// document), and a later attempt's record are then written by
// RecordAttempt, after the others, in order.
func (s *Store) RecordAttempts(ctx context.Context, recs []hookrun.AttemptRecord) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(recs))
		}
		d := recs[i].Delivery
		errs[i] = coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(d.EventID, d.EndpointID)))
	}
	// The first attempts of deliveries go in as few commits as they fit,
	// and those of a commit that failed through a BulkWriter, each with
	// its own outcome; the others merge into their delivery's document
	// (RecordAttempt), after them.
	var first, again []int
	for i, r := range recs {
		if r.Attempt.Number == 1 && r.Attempt.Chain == "" {
			first = append(first, i)
		} else {
			again = append(again, i)
		}
	}
	failed := s.commitAll(ctx, len(first),
		func(int) int { return 4 << 10 }, // a response body is kept to sender.MaxResponseSnippet
		func(tx *fs.Transaction, j int) error {
			r := recs[first[j]]
			return tx.Create(s.deliveryRef(r.Delivery.TenantID, r.Delivery.EventID, r.Delivery.EndpointID), s.newAttemptFields(r.Delivery, r.Attempt))
		})
	if len(failed) > 0 {
		bw := s.c.BulkWriter(ctx)
		jobs := make(map[int]*fs.BulkWriterJob, len(failed))
		for _, j := range failed {
			i := first[j]
			d := recs[i].Delivery
			job, err := bw.Create(s.deliveryRef(d.TenantID, d.EventID, d.EndpointID), s.newAttemptFields(d, recs[i].Attempt))
			if err != nil {
				again = append(again, i)
				continue
			}
			jobs[i] = job
		}
		bw.End()
		for i, job := range jobs {
			switch _, err := job.Results(); {
			case status.Code(err) == codes.AlreadyExists:
				again = append(again, i)
			case err != nil:
				fail(i, err)
			}
		}
	}
	slices.Sort(again)
	for _, i := range again {
		if err := s.RecordAttempt(ctx, recs[i].Delivery, recs[i].Attempt); err != nil {
			fail(i, err)
		}
	}
	return errs
}

// attemptFields are the fields RecordAttempt merges into a delivery's
// document for attempt a, which left the delivery in state d.
func (s *Store) attemptFields(d hookrun.Delivery, a hookrun.Attempt) map[string]any {
	record := newAttemptDoc(a)
	fields := deliveryFields(d, s.retention)
	fields["attempt_count"] = fs.Increment(1)
	fields["last_status_code"] = d.LastStatusCode
	fields["last_error"] = d.LastError
	fields["chain_attempts"] = a.Number
	// Metrics: server-side increments, exact with any number of writers.
	// An aggregation query that sums several fields counts only documents
	// that have every one, so the three summed together (Metrics) are
	// written on every attempt, by 0 when unchanged. The latency histogram
	// gets only the bucket this attempt hit: each bucket is summed in a
	// query of its own, where a missing field just adds nothing, which
	// spares every attempt eleven more transforms on the hot path.
	fields["latency_sum_ms"] = fs.Increment(record.LatencyMS)
	fields[latencyBucketField(hookrun.LatencyBucket(a.Latency))] = fs.Increment(1)
	fields["failed_attempts"] = fs.Increment(boolInt(!a.Succeeded()))
	fields["attempts"] = fs.ArrayUnion(record)
	return fields
}

// newAttemptFields is the document of a delivery that attempt a creates:
// what attemptFields merges into a document that has none, each
// transform's result written as a value.
func (s *Store) newAttemptFields(d hookrun.Delivery, a hookrun.Attempt) deliveryDoc {
	record := newAttemptDoc(a)
	doc := deliveryDoc{
		EventID: d.EventID, EndpointID: d.EndpointID, EventType: d.EventType, EventTime: d.EventAt,
		WebhookID: d.WebhookID, State: string(d.State),
		AttemptCount: 1, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		UpdateTime: d.UpdatedAt, ExpireTime: d.UpdatedAt.Add(s.retention),
		Shard: shardOf(hookrun.DeliveryID(d.EventID, d.EndpointID)),
		Chain: d.Chain, ChainAttempts: a.Number, NextAttemptTime: d.NextAttemptAt,
		DeadReason: d.DeadReason, DeadTime: d.DeadAt, Announced: d.Announced, CountsInARow: d.CountsInARow,
		Attempts:     []attemptDoc{record},
		LatencySumMS: record.LatencyMS, FailedAttempts: boolInt(!a.Succeeded()),
	}
	*doc.latencyBucket(hookrun.LatencyBucket(a.Latency)) = 1
	return doc
}

func newAttemptDoc(a hookrun.Attempt) attemptDoc {
	return attemptDoc{
		Number:       a.Number,
		Chain:        a.Chain,
		StartTime:    a.StartedAt,
		StatusCode:   a.StatusCode,
		LatencyMS:    float64(a.Latency.Microseconds()) / 1000,
		Error:        a.Error,
		ResponseBody: a.ResponseBody,
	}
}

// SetDeliveryState stores a delivery's state without an attempt: dead
// because its endpoint went away while it waited, or waiting for a rate
// limit.
func (s *Store) SetDeliveryState(ctx context.Context, d hookrun.Delivery) error {
	f := deliveryFields(d, s.retention)
	f["chain_attempts"] = d.ChainAttempts // a new chain waiting for its first attempt starts at 0
	_, err := s.deliveryRef(d.TenantID, d.EventID, d.EndpointID).Set(ctx, f, fs.MergeAll)
	return coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(d.EventID, d.EndpointID)))
}

// MarkAnnounced records that a dead letter was published.
func (s *Store) MarkAnnounced(ctx context.Context, tenantID, eventID, endpointID string) error {
	_, err := s.deliveryRef(tenantID, eventID, endpointID).Update(ctx, []fs.Update{{Path: "announced", Value: true}})
	return coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(eventID, endpointID)))
}

// deliveryFields are the state fields every delivery write sets.
func deliveryFields(d hookrun.Delivery, retention time.Duration) map[string]any {
	f := map[string]any{
		"event_id":          d.EventID,
		"endpoint_id":       d.EndpointID,
		"event_type":        d.EventType,
		"webhook_id":        d.WebhookID,
		"state":             string(d.State),
		"chain":             d.Chain,
		"next_attempt_time": d.NextAttemptAt,
		"dead_reason":       d.DeadReason,
		"dead_time":         d.DeadAt,
		"announced":         d.Announced,
		"counts_in_a_row":   d.CountsInARow,
		"update_time":       d.UpdatedAt,
		"expire_time":       d.UpdatedAt.Add(retention),
		"shard":             shardOf(hookrun.DeliveryID(d.EventID, d.EndpointID)),
	}
	if !d.EventAt.IsZero() { // state-only writes keep the stored one
		f["event_time"] = d.EventAt
	}
	return f
}

func latencyBucketField(i int) string { return fmt.Sprintf("latency_bucket_%02d", i) }

type rejectedDoc struct {
	Reason      string            `firestore:"reason"`
	TenantID    string            `firestore:"tenant_id"`
	Attributes  map[string]string `firestore:"attributes"`
	Data        []byte            `firestore:"data"`
	PublishTime time.Time         `firestore:"publish_time"`
	RejectTime  time.Time         `firestore:"reject_time"`
	ExpireTime  time.Time         `firestore:"expire_time"`
}

// RecordRejected keeps a message that could not become an event, with its
// reason. Recording the same message twice keeps one record.
func (s *Store) RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error {
	_, err := s.c.Collection("rejected_messages").Doc(m.MessageID).Set(ctx, rejectedDoc{
		Reason:      m.Reason,
		TenantID:    m.TenantID,
		Attributes:  m.Attributes,
		Data:        m.Data,
		PublishTime: m.PublishedAt,
		RejectTime:  m.RejectedAt,
		ExpireTime:  m.RejectedAt.Add(s.retention),
	})
	return coded(err, fmt.Sprintf("rejected message %q", m.MessageID))
}

// ListRejected returns a page of rejected messages, newest first: of one
// tenant, or all when tenantID is empty.
func (s *Store) ListRejected(ctx context.Context, tenantID string, pageSize int, token string) ([]hookrun.RejectedMessage, string, error) {
	coll := s.c.Collection("rejected_messages")
	q := coll.Query
	if tenantID != "" {
		q = q.Where("tenant_id", "==", tenantID)
	}
	q, err := newestFirst(q, coll, "reject_time", pageSize, token)
	if err != nil {
		return nil, "", err
	}
	it := q.Documents(ctx)
	defer it.Stop()
	var out []hookrun.RejectedMessage
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, "", coded(err, "rejected messages")
		}
		m, err := decodeRejected(snap)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	out, next := page(out, pageSize, func(m hookrun.RejectedMessage) (time.Time, string) { return m.RejectedAt, m.MessageID })
	return out, next, nil
}

func decodeRejected(snap *fs.DocumentSnapshot) (hookrun.RejectedMessage, error) {
	var d rejectedDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.RejectedMessage{}, fmt.Errorf("decode rejected message %s: %w", snap.Ref.ID, err)
	}
	return hookrun.RejectedMessage{
		MessageID: snap.Ref.ID, Reason: d.Reason, TenantID: d.TenantID, Attributes: d.Attributes,
		Data: d.Data, PublishedAt: d.PublishTime, RejectedAt: d.RejectTime,
	}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
