package firestore

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A delivery document the attempt log creates leaves out the fields that
// are still zero (optionalFields, and an attempt's empty strings) and
// reads back exactly as the same success recorded field by field
// (RecordAttempt, which merges every field).
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
	for _, k := range optionalFields {
		if _, ok := data[k]; ok {
			t.Errorf("created document has %s = %v; want it left out while zero", k, data[k])
		}
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
