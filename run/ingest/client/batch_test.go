package client_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// batchAnswer answers a batch request with outcome(n, id) for each of its
// events, n counting the requests.
func batchAnswer(outcome func(n int, id string) string) func(http.ResponseWriter, *http.Request) {
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		n++
		var req struct{ Events []struct{ ID string } }
		_ = json.NewDecoder(r.Body).Decode(&req)
		var results []json.RawMessage
		for _, e := range req.Events {
			results = append(results, json.RawMessage(outcome(n, e.ID)))
		}
		b, _ := json.Marshal(map[string]any{"results": results, "accepted": 0, "duplicates": 0, "refused": 0})
		answer(200, string(b))(w, r)
	}
}

func TestSendBatchRetriesOnlyTheEventsRefusedForAPassingReason(t *testing.T) {
	rec := &recorder{}
	rec.answers = []func(http.ResponseWriter, *http.Request){batchAnswer(func(n int, id string) string {
		switch {
		case id == "limited" && n == 1:
			return `{"id":"limited","result":"refused","error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"over the limit","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.001s"}]}}`
		case id == "bad":
			return `{"id":"bad","result":"refused","error":{"code":400,"status":"INVALID_ARGUMENT","message":"type: required"}}`
		case id == "seen":
			return `{"id":"seen","result":"duplicate"}`
		}
		return fmt.Sprintf(`{"id":%q,"result":"accepted"}`, id)
	})}
	c := newClient(t, rec)
	events := []client.Event{
		{ID: "ok", Type: "order.paid", Data: map[string]any{}},
		{ID: "limited", Type: "order.paid", Data: map[string]any{}},
		{ID: "bad", Data: map[string]any{}},
		{ID: "seen", Type: "order.paid", Data: map[string]any{}},
		{Type: "order.paid", Data: map[string]any{}},
	}
	res, err := c.SendBatch(t.Context(), events)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	want := []client.BatchOutcome{client.Accepted, client.Accepted, client.Refused, client.Duplicate, client.Accepted}
	for i, r := range res.Results {
		if r.Outcome != want[i] {
			t.Errorf("result %d: %+v, want %s", i, r, want[i])
		}
	}
	if res.Accepted != 3 || res.Duplicates != 1 || res.Refused != 1 || !client.IsCode(res.Results[2].Err, client.CodeInvalidArgument) {
		t.Errorf("results %+v", res)
	}
	if res.Results[4].ID == "" || res.Results[4].ID != events[4].ID && len(res.Results[4].ID) < 5 {
		t.Errorf("the event without an ID got none: %+v", res.Results[4])
	}
	got := rec.got()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	var again struct{ Events []struct{ ID string } }
	_ = json.Unmarshal(got[1].body, &again)
	if len(again.Events) != 1 || again.Events[0].ID != "limited" || got[1].path != "/v1/events:batch" {
		t.Errorf("second request %s %s, want only the limited event again", got[1].path, got[1].body)
	}
}

func TestSendBatchSplitsWhatOneRequestCannotHold(t *testing.T) {
	rec := &recorder{}
	rec.answers = []func(http.ResponseWriter, *http.Request){batchAnswer(func(_ int, id string) string {
		return fmt.Sprintf(`{"id":%q,"result":"accepted"}`, id)
	})}
	c := newClient(t, rec)
	events := make([]client.Event, 2*client.MaxBatchEvents+1)
	for i := range events {
		events[i] = client.Event{ID: fmt.Sprintf("e%d", i), Type: "order.paid", Data: map[string]int{"n": i}}
	}
	res, err := c.SendBatchTo(t.Context(), "acme", events)
	if err != nil {
		t.Fatalf("SendBatchTo: %v", err)
	}
	if res.Accepted != len(events) || res.Results[len(events)-1].ID != fmt.Sprintf("e%d", len(events)-1) {
		t.Errorf("accepted %d of %d", res.Accepted, len(events))
	}
	got := rec.got()
	if len(got) != 3 || got[0].path != "/v1/tenants/acme/events:batch" {
		t.Errorf("%d requests to %s, want 3 to the tenant's batch route", len(got), got[0].path)
	}
}
