package ingest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/wire"
)

// FuzzPublishEvent feeds POST /v1/events any body, as a producer's key.
// The answer is 202, 400 or 413, errors in Google's shape; a 202 is given
// only for an event whose id, type and data are valid, and what is stored
// and published is that event with its data valid UTF-8 JSON. Nothing is
// stored or published otherwise.
func FuzzPublishEvent(f *testing.F) {
	const ct = "application/json"
	for _, s := range [][2]string{
		{ct, `{"id":"inv-2024-001","type":"invoice.paid","data":{"amount": 1200, "currency":"EUR"}}`},
		{ct, `{"type":"user.created","data":{}}`},
		{"application/json; charset=utf-8", `{"type":"user.created","data":{"a":[1,2,{"b":null}],"s":"é\u00e9"}}`},
		{"application/cloudevents+json", ` {"type":"a.b-c_d.9","data" : {"x":true}} `},
		{"", `{"type":"user.created","data":{}}`},
		{"text/plain", `{"type":"user.created","data":{}}`},
		{"application/json; charset", `{"type":"user.created","data":{}}`},
		{ct, `{"type":"User.Created","data":{}}`},
		{ct, `{"type":"user..created","data":{}}`},
		{ct, `{"id":"a/b","type":"user.created","data":{}}`},
		{ct, `{"id":"__x__","type":"user.created","data":{}}`},
		{ct, `{"id":"` + strings.Repeat("a", 129) + `","type":"user.created","data":{}}`},
		{ct, `{"type":"user.created","data":[1]}`},
		{ct, `{"type":"user.created","data":"{}"}`},
		{ct, `{"type":"user.created","data":null}`},
		{ct, `{"type":"user.created"}`},
		{ct, `{"type":"user.created","data":{},"extra":1}`},
		{ct, `{"type":"user.created","data":{}} {}`},
		{ct, `{"type":"user.created","data":{"s":"\ud800"}}`},
		{ct, `{"ID":"x","TYPE":"user.created","Data":{}}`},
		{ct, `{"type":"user.created","data":{"big":"` + strings.Repeat("x", 1024) + `"}}`},
		{ct, `{"type":1,"data":{}}`},
		{ct, `[]`}, {ct, `null`}, {ct, ``}, {ct, `{`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		e := newFuzzEnv(t)
		key := e.createTenant(t, "acme")
		w := e.send(http.MethodPost, "/v1/events", key, contentType, body)
		httpapitest.CheckAnswer(t, w, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		published := e.pub.published()
		if w.Code != http.StatusAccepted {
			if n := e.store.eventCount(); n != 0 || len(published) != 0 {
				t.Fatalf("answered %d but stored %d events and published %d", w.Code, n, len(published))
			}
			return
		}

		id := decode[eventAccepted](t, w).ID
		rec, ok := e.store.event("acme", id)
		if !ok || !rec.accepted || len(published) != 1 || e.store.eventCount() != 1 {
			t.Fatalf("202 for %q: stored %+v (found %v), published %d; want it stored accepted and published once", id, rec, ok, len(published))
		}
		ev := rec.event
		checkAcceptedEvent(t, ev)
		if !bytes.Equal(published[0].data, ev.Data) || published[0].attrs[wire.AttrEventID] != ev.ID || published[0].attrs[wire.AttrEventType] != ev.Type {
			t.Fatalf("published %q %v, stored %+v: want the same event", published[0].data, published[0].attrs, ev)
		}
	})
}

// checkAcceptedEvent checks an event that was accepted against the rules
// of an event: a valid id and type, data a JSON object in UTF-8.
func checkAcceptedEvent(t *testing.T, ev hookrun.Event) {
	t.Helper()
	if err := hookrun.ValidateEventID(ev.ID); err != nil {
		t.Fatalf("accepted event id %q: %v", ev.ID, err)
	}
	if err := hookrun.ValidateEventType(ev.Type); err != nil {
		t.Fatalf("accepted event type %q: %v", ev.Type, err)
	}
	if !json.Valid(ev.Data) || !utf8.Valid(ev.Data) || !bytes.HasPrefix(ev.Data, []byte("{")) {
		t.Fatalf("accepted event data %q: want a JSON object, valid UTF-8", ev.Data)
	}
}
