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
	record := func(eventID string) hookrun.AttemptRecord {
		a := hookrun.Attempt{Number: 1, StartedAt: at, StatusCode: 204, Latency: 3 * time.Millisecond}
		return hookrun.AttemptRecord{
			Delivery: hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: "ep_1", EventType: "user.created",
				WebhookID: hookrun.WebhookID("acme", eventID, "ep_1"), State: hookrun.DeliverySucceeded, ChainAttempts: 1,
				LastStatusCode: 204, UpdatedAt: at.Add(a.Latency), EventAt: at},
			Attempt: a,
		}
	}
	created, merged := record("evt_created"), record("evt_merged")
	if errs := s.RecordAttempts(ctx, []hookrun.AttemptRecord{created}); errs != nil {
		t.Fatalf("RecordAttempts: %v", errs)
	}
	if err := s.RecordAttempt(ctx, merged.Delivery, merged.Attempt); err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}

	snap, err := s.deliveryRef("acme", "evt_created", "ep_1").Get(ctx)
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

	got, err := s.GetDelivery(ctx, "acme", "evt_created", "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.GetDelivery(ctx, "acme", "evt_merged", "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	want.EventID, want.WebhookID = got.EventID, got.WebhookID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created delivery reads back as\n%+v\nwant, as recorded field by field,\n%+v", got, want)
	}
}
