package firestore

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A delivery document the attempt log creates leaves out the fields that
// are still zero (deliveryDoc's omitempty, and an attempt's empty
// strings) and reads back exactly as the same success recorded field by
// field (RecordAttempt, which merges every field), the fields Metrics
// sums included.
func TestCreatedDeliveryLeavesOutZeroFields(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	created, merged := firstSuccess("evt_created", at), firstSuccess("evt_merged", at)
	if errs := s.RecordAttempts(ctx, []hookrun.AttemptRecord{created}); errs != nil {
		t.Fatalf("RecordAttempts: %v", errs)
	}
	if err := s.RecordAttempt(ctx, merged.Delivery, merged.Attempt); err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}

	snap, err := s.deliveryRef("t1", "evt_created", "ep_1").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := snap.Data()
	for _, k := range []string{"chain", "next_attempt_time", "dead_reason", "dead_time", "last_error", "announced", "counts_in_a_row", "replay_chain", "replay_claim_time"} {
		if _, ok := data[k]; ok {
			t.Errorf("created document has %s = %v; want it left out while zero", k, data[k])
		}
	}
	// The fields Metrics sums are as a merge makes them: the attempt's
	// one latency bucket and no other, and the shard.
	mergedSnap, err := s.deliveryRef("t1", "evt_merged", "ep_1").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mergedData := mergedSnap.Data()
	bucket := latencyBucketField(hookrun.LatencyBucket(created.Attempt.Latency))
	for _, k := range []string{"attempt_count", "latency_sum_ms", "failed_attempts", bucket} {
		if !reflect.DeepEqual(data[k], mergedData[k]) {
			t.Errorf("created document's %s = %v (%T), want %v (%T) as a merge writes it", k, data[k], data[k], mergedData[k], mergedData[k])
		}
	}
	for k := range data {
		if strings.HasPrefix(k, "latency_bucket_") && k != bucket {
			t.Errorf("created document has %s = %v; want only %s", k, data[k], bucket)
		}
	}
	if _, ok := data["shard"]; !ok {
		t.Error("created document has no shard")
	}
	if attempts, _ := data["attempts"].([]any); len(attempts) != 1 {
		t.Errorf("created document's attempts = %v, want one", data["attempts"])
	} else if a, _ := attempts[0].(map[string]any); a == nil || a["error"] != nil || a["response_body"] != nil || a["chain"] != nil {
		t.Errorf("created document's attempt = %v, want no empty strings", attempts[0])
	}

	got, err := s.GetDelivery(ctx, "t1", "evt_created", "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.GetDelivery(ctx, "t1", "evt_merged", "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	want.EventID, want.WebhookID = got.EventID, got.WebhookID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created delivery reads back as\n%+v\nwant, as recorded field by field,\n%+v", got, want)
	}
}

// deliveryDoc has a field for each latency bucket, named as attemptFields
// names it, and latencyBucket(i) is that field.
func TestDeliveryDocHasEveryLatencyBucket(t *testing.T) {
	typ := reflect.TypeFor[deliveryDoc]()
	buckets := 0
	for f := range typ.Fields() {
		if strings.HasPrefix(f.Tag.Get("firestore"), "latency_bucket_") {
			buckets++
		}
	}
	if want := len(hookrun.LatencyBuckets) + 1; buckets != want {
		t.Errorf("deliveryDoc has %d latency bucket fields, want %d (hookrun.LatencyBuckets and the overflow)", buckets, want)
	}
	for i := range len(hookrun.LatencyBuckets) + 1 {
		var d deliveryDoc
		*d.latencyBucket(i) = 1
		v := reflect.ValueOf(d)
		for j := range typ.NumField() {
			tag, _, _ := strings.Cut(typ.Field(j).Tag.Get("firestore"), ",")
			if want := int64(0); tag == latencyBucketField(i) {
				want = 1
				if got := v.Field(j).Int(); got != want {
					t.Errorf("latencyBucket(%d) set %s to %d, want %d", i, tag, got, want)
				}
			} else if strings.HasPrefix(tag, "latency_bucket_") && v.Field(j).Int() != want {
				t.Errorf("latencyBucket(%d) set %s", i, tag)
			}
		}
	}
}

// firstSuccess is the attempt log's usual record: the first attempt of
// tenant t1's event eventID to endpoint ep_1, a 204 at at.
func firstSuccess(eventID string, at time.Time) hookrun.AttemptRecord {
	a := hookrun.Attempt{Number: 1, StartedAt: at, StatusCode: 204, Latency: 3 * time.Millisecond}
	return hookrun.AttemptRecord{
		Delivery: hookrun.Delivery{TenantID: "t1", EventID: eventID, EndpointID: "ep_1", EventType: "user.created",
			WebhookID: "msg_" + eventID, State: hookrun.DeliverySucceeded, ChainAttempts: 1,
			LastStatusCode: 204, UpdatedAt: at.Add(a.Latency), EventAt: at},
		Attempt: a,
	}
}
