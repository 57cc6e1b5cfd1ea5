package ingest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/wire"
)

// FuzzPublishBatch feeds POST /v1/events:batch any body, as a producer's
// key. The answer is 200, 400 or 413, errors in Google's shape. A 200
// answers every event of the body's list, in order, each accepted,
// duplicate or refused with an error; exactly the accepted events are
// stored and published, once each, and each is a valid event. Nothing is
// stored or published otherwise.
func FuzzPublishBatch(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"id":"a","type":"user.created","data":{"n":1}},{"type":"user.updated","data":{}}]}`,
		`{"events":[{"id":"a","type":"user.created","data":{}},{"id":"a","type":"user.created","data":{}}]}`,
		`{"events":[{"type":"User","data":{}},{"type":"user.created"},{"type":"user.created","data":{},"x":1}]}`,
		`{"events":[{"type":"user.created","data":{"s":"\ud800"}},"x",1,null,[],{}]}`,
		`{"events":[{"id":"a/b","type":"user.created","data":{}},{"id":"__x__","type":"hookrun.endpoint.disabled","data":{}}]}`,
		`{"events":[{"type":"user.created","data":{"big":"` + strings.Repeat("x", fuzzMaxBody) + `"}}]}`,
		`{"events":[]}`, `{"events":null}`, `{"events":{}}`, `{}`, `{"events":[{}],"more":[]}`,
		`{"events":[{"type":"user.created","data":{}}]} {}`,
		`[]`, `null`, ``, `{`, `{"events":[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		w := e.send(http.MethodPost, "/v1/events:batch", key, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		published := e.pub.published()
		if w.Code != http.StatusOK {
			if n := e.store.eventCount(); n != 0 || len(published) != 0 {
				t.Fatalf("answered %d but stored %d events and published %d", w.Code, n, len(published))
			}
			return
		}
		var sent struct{ Events []json.RawMessage }
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("200 for a body that is no list of events: %v", err)
		}
		ans := decode[batchAnswer](t, w)
		if len(ans.Results) != len(sent.Events) || ans.Accepted+ans.Duplicates+ans.Refused != len(sent.Events) {
			t.Fatalf("%d results (%d+%d+%d) for %d events", len(ans.Results), ans.Accepted, ans.Duplicates, ans.Refused, len(sent.Events))
		}
		accepted := map[string]bool{}
		for i, r := range ans.Results {
			switch r.Result {
			case "accepted":
				if accepted[r.ID] {
					t.Fatalf("results[%d]: %s accepted twice", i, r.ID)
				}
				accepted[r.ID] = true
			case "duplicate":
				if !accepted[r.ID] {
					t.Fatalf("results[%d]: %s a duplicate of no event accepted before", i, r.ID)
				}
			case "refused":
				if r.Error == nil || r.Error.Code < 400 || r.Error.Status == "" || r.Error.Message == "" {
					t.Fatalf("results[%d] refused with error %+v", i, r.Error)
				}
			default:
				t.Fatalf("results[%d].result = %q", i, r.Result)
			}
		}
		if len(accepted) != ans.Accepted || len(published) != ans.Accepted || e.store.eventCount() != ans.Accepted {
			t.Fatalf("%d accepted, %d published, %d stored: want the same", ans.Accepted, len(published), e.store.eventCount())
		}
		for _, p := range published {
			id := p.attrs[wire.AttrEventID]
			rec, ok := e.store.event("acme", id)
			if !accepted[id] || !ok || !rec.accepted || !bytes.Equal(rec.event.Data, p.data) {
				t.Fatalf("published %s %q: accepted %v, stored %+v (found %v)", id, p.data, accepted[id], rec, ok)
			}
			checkAcceptedEvent(t, rec.event)
		}
	})
}
