package dispatch_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/wire"
)

// FuzzDeliverTask feeds POST /tasks/deliver any body, as Cloud Tasks would
// deliver it. See checkDelivered.
func FuzzDeliverTask(f *testing.F) {
	waiting := `"tenant_id":"acme","event_id":"evt_fuzz","endpoint_id":"ep_fuzz"`
	for _, s := range []string{
		`{` + waiting + `,"attempt":2,"event":{"type":"user.created","data":{"user":"u_1"},"source":"api","received_at":"2026-03-01T12:00:00.123456789Z"}}`,
		`{` + waiting + `,"attempt":2}`,
		`{` + waiting + `,"attempt":1,"event":{"type":"user.created","data":{}}}`,
		`{` + waiting + `,"attempt":3,"chain":"replay_1","event":{"type":"user.created","data":{}}}`,
		`{` + waiting + `,"attempt":2,"event":{"type":"user.created","data":[1,"x",null]}}`,
		`{` + waiting + `,"attempt":2,"event":{"type":"user.created","data":null}}`,
		`{` + waiting + `,"attempt":2,"event":null}`,
		`{` + waiting + `,"attempt":0}`,
		`{` + waiting + `,"attempt":-1}`,
		`{` + waiting + `,"attempt":"2"}`,
		`{"tenant_id":"acme","event_id":"evt_other","endpoint_id":"ep_fuzz","attempt":2}`,
		`{"tenant_id":"nobody","event_id":"evt_fuzz","endpoint_id":"ep_fuzz","attempt":2}`,
		`{"tenant_id":"acme","event_id":"evt_fuzz","attempt":2}`,
		`{` + waiting + `,"attempt":2,"event":{"type":"user.created","data":{}},"unknown":true}`,
		`{}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	fe := newFuzzEnv(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		fe.reset()
		w := serve(fe.env, httptestRequest("/tasks/deliver", body))
		httpapitest.CheckAnswer(t, w, http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		fe.checkDelivered(t, w.Code)
	})
}

// FuzzDeliverTaskEvent feeds POST /tasks/deliver well-formed tasks for the
// waiting delivery carrying any event, as a forged or corrupted task
// would: the event's type, data (left out when it is no JSON) and source
// are the task's. See checkDelivered.
func FuzzDeliverTaskEvent(f *testing.F) {
	for _, s := range []struct {
		attempt          int
		eventType        string
		data             string
		source, received string
	}{
		{2, "user.created", `{"user":"u_1"}`, "api", "2026-03-01T12:00:00Z"},
		{2, "user.created", `[1,"x",null]`, "pubsub", ""},
		{2, "user.created", `"x"`, "", ""},
		{2, "User Created", `{}`, "api", ""},
		{2, "", `{}`, "", ""},
		{1, "user.created", `{}`, "api", ""},
		{5, "user.created", `{}`, "api", "0001-01-01T00:00:00Z"},
	} {
		f.Add(s.attempt, s.eventType, []byte(s.data), s.source, s.received)
	}
	fe := newFuzzEnv(f)

	f.Fuzz(func(t *testing.T, attempt int, eventType string, data []byte, source, received string) {
		fe.reset()
		ev := map[string]any{"type": eventType, "source": source}
		if json.Valid(data) {
			ev["data"] = json.RawMessage(data)
		}
		if at, err := time.Parse(time.RFC3339Nano, received); err == nil {
			ev["received_at"] = at
		}
		body, err := json.Marshal(map[string]any{"tenant_id": "acme", "event_id": fuzzEventID, "endpoint_id": fuzzEndpointID, "attempt": attempt, "event": ev})
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		w := serve(fe.env, httptestRequest("/tasks/deliver", body))
		want := http.StatusNoContent
		if attempt < 1 {
			want = http.StatusBadRequest
		}
		httpapitest.CheckAnswer(t, w, want)
		fe.checkDelivered(t, w.Code)
	})
}

// checkDelivered checks what became of a retry task answered status:
// nothing, unless it was acknowledged (a task that cannot be done, stale
// or about something gone, is done with: Cloud Tasks retries only 5xx);
// what was delivered is JSON, signed.
func (fe *fuzzEnv) checkDelivered(t *testing.T, status int) {
	t.Helper()
	fe.checkSent(t)
	if status != http.StatusNoContent {
		if d, want := fe.waiting(), fe.savedWaiting(); !reflect.DeepEqual(d, want) || len(fe.rc.requests()) != 0 {
			t.Fatalf("answered %d but the waiting delivery changed to %+v, or a webhook was sent", status, d)
		}
	}
}

// FuzzRetireSecretTask feeds POST /tasks/retire-secret any body, as Cloud
// Tasks would deliver it. The answer is 204, a 400/413 for what is no
// task, or a 503 only while the task's time has not come (for Cloud Tasks
// to retry). The endpoint's current secret is never disabled; the previous
// one only by a task naming it.
func FuzzRetireSecretTask(f *testing.F) {
	for _, s := range []string{
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":"` + fuzzOldVersion + `","at":"2026-03-01T12:00:00Z"}`,
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":"` + fuzzOldVersion + `","at":"2999-01-01T00:00:00Z"}`,
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":"projects/test/secrets/x/versions/1","at":"2026-03-01T12:00:00Z"}`,
		`{"tenant_id":"acme","endpoint_id":"ep_gone","version":"v","at":"2026-03-01T12:00:00Z"}`,
		`{"tenant_id":"nobody","endpoint_id":"ep_fuzz","version":"v"}`,
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":""}`,
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":"v","at":"yesterday"}`,
		`{"tenant_id":"acme","endpoint_id":"ep_fuzz","version":"v","at":"0001-01-01T00:00:00Z","extra":[]}`,
		`{}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	fe := newFuzzEnv(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		fe.reset()
		before := time.Now()
		w := serve(fe.env, httptestRequest("/tasks/retire-secret", body))
		httpapitest.CheckAnswer(t, w, http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable)
		var task wire.RetireSecretTask
		_ = json.Unmarshal(body, &task)
		if w.Code == http.StatusServiceUnavailable && !task.At.After(before) {
			t.Fatalf("503 for a task due at %v, before %v", task.At, before)
		}
		if _, err := fe.secrets.Access(t.Context(), fe.current); err != nil {
			t.Fatalf("the endpoint's current secret version was disabled: %v", err)
		}
		if _, err := fe.secrets.Access(t.Context(), fuzzOldVersion); err != nil && (w.Code != http.StatusNoContent || task.Version != fuzzOldVersion) {
			t.Fatalf("answered %d to a task for version %q, but the previous version was disabled", w.Code, task.Version)
		}
	})
}
