package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// decodeWithDecoder is how decode read a body before it was made cheaper:
// a json.Decoder, then a token more to refuse trailing data. It is the
// reference that FuzzDecodeSameAsDecoder holds unmarshal to.
func decodeWithDecoder(body []byte, dst any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body must hold a single JSON object")
	}
	return checkUTF8(body)
}

// Bodies decoded into: ingest's event, a Pub/Sub push envelope (its
// shape, as internal/wire declares it), and one of every kind a request
// holds.
type (
	sameEvent struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	samePush struct {
		Message struct {
			Data        []byte            `json:"data"`
			Attributes  map[string]string `json:"attributes"`
			MessageID   string            `json:"messageId"`
			PublishTime time.Time         `json:"publishTime"`
		} `json:"message"`
		Subscription    string `json:"subscription"`
		DeliveryAttempt int    `json:"deliveryAttempt,omitempty"`
	}
	sameKinds struct {
		Name    string            `json:"name"`
		Count   int               `json:"count"`
		Ratio   float64           `json:"ratio,omitempty"`
		On      *bool             `json:"on"`
		Tags    []string          `json:"tags"`
		Meta    map[string]string `json:"meta"`
		Any     any               `json:"any"`
		Inner   *sameEvent        `json:"inner"`
		Quoted  int               `json:"quoted,string"`
		Skipped string            `json:"-"`
	}
)

// FuzzDecodeSameAsDecoder: decode answers every body as the Decoder it
// replaced did, with the same error (code and message) and the same value
// decoded, strict or lenient, into a fresh value or one holding data.
func FuzzDecodeSameAsDecoder(f *testing.F) {
	for _, s := range []string{
		`{"type":"user.created","data":{"a":[1,2.5e3,{"b":null}],"s":"é\u00e9"}}`,
		`{"id":"x","type":"a.b","data":null}`,
		`{"ID":"x","TYPE":"a.b","Data":{}}`,
		`{"type":"a.b","type":"c.d","data":{},"data":[1]}`,
		`{"type":"a","extra":1}`, `{"type":1}`, `{"type":"a"} {}`, `{"type":"a"} x`, `{"type":"a"}]`,
		`{"count":"two"} x`, `{"colour":"red"}{}`, "{\"type\":\"\xff\"}", "{\"data\":{\"k\xff\":1}}",
		`{"type":"\ud800"}`, `{"type":"a\"b\\c\/\n"}`, "{\"type\":\"a\x01\"}",
		`{"message":{"data":"eyJhIjoxfQ==","attributes":{"tenant_id":"acme","event_type":"a.b"},"messageId":"1","message_id":"1","publishTime":"2026-12-07T17:20:00.456Z"},"subscription":"s","deliveryAttempt":2}`,
		`{"message":{"data":"not base64!"}}`, `{"message":{"publishTime":"yesterday"}}`, `{"message":null,"deliveryAttempt":1.5}`,
		`{"name":"a","count":2,"ratio":0.5,"on":true,"tags":["x",null],"meta":{"k":"v"},"any":[{"a":1}],"inner":{"id":"i"},"quoted":"7","Skipped":"s","-":1}`,
		`{"on":null,"tags":null,"meta":null,"inner":null,"any":null}`, `{"quoted":7}`, `{"count":1e400}`, `{"count":-0}`,
		``, ` `, `{`, `{"type":`, `{"type":"a"`, `[]`, `null`, `"s"`, `1`, `-`, `01`, `1.`, `tru`, `{}`, ` {} `, "\ufeff{}", "{}\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, strict := range []bool{true, false} {
			for _, fresh := range []func() any{
				func() any { return new(sameEvent) },
				func() any { return &sameEvent{ID: "kept", Data: json.RawMessage(`{"kept":1}`)} },
				func() any { return new(samePush) },
				func() any { return new(sameKinds) },
				func() any {
					return &sameKinds{Name: "kept", Tags: []string{"a", "b"}, Meta: map[string]string{"k": "kept"}, Any: map[string]any{"x": 1.0}}
				},
			} {
				want, got := fresh(), fresh()
				wantErr := decodeWithDecoder(body, want, strict)
				gotErr := unmarshal(body, got, strict)
				if gotErr == nil {
					gotErr = checkUTF8(body)
				}
				if errString(gotErr) != errString(wantErr) || hookrun.ErrorCode(gotErr) != hookrun.ErrorCode(wantErr) {
					t.Fatalf("strict=%v %T: body %q: error %v, want %v", strict, want, body, gotErr, wantErr)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("strict=%v %T: body %q: decoded %+v, want %+v", strict, want, body, got, want)
				}
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzDecodeJSONListSame: DecodeJSONList answers every body as
// encoding/json's path (decodeListV1) does: the same items, the same
// error for each, and the same error for the whole.
func FuzzDecodeJSONListSame(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"type":"user.created","data":{"a":[1,2.5e3,{"b":null}]}},{"id":"x","type":"a.b","data":null}]}`,
		`{"events":[]}`, `{"events":[] }`, ` {"events":[{}]} `, `{"events":null}`, `{}`, `{"events":[],"events":[]}`,
		`{"events":[{"ID":"x","TYPE":"a.b","Data":{}}]}`, `{"events":[{"type":"a","type":"b"}]}`,
		`{"events":[{"type":1}]}`, `{"events":[{"extra":1}]}`, `{"events":["x"]}`, `{"events":[null]}`, `{"events":[[]]}`,
		"{\"events\":[{\"type\":\"\xff\"}]}", "{\"ev\xffents\":[]}", `{"events":[{"type":"\ud800"}]}`,
		`{"events":[{"type":"` + string(bytes.Repeat([]byte("y"), 80)) + `"}]}`,
		`{"events":[{"name":"a","count":2,"tags":["x",null],"meta":{"k":"v"},"any":[{"a":1}],"inner":{"id":"i"},"quoted":"7"}]}`,
		`{"events":[{"quoted":7}]}`, `{"events":[{"count":1e400}]}`,
		`{"events":[]} {}`, `{"events":[]} x`, `{"events":[{}],}`, `{"events":[{},]}`, `{"events":[{}]`, `{"events":{"a":1}}`,
		`{"Events":[]}`, `{"x":1,"events":[]}`, `[]`, ``, `{`, "\ufeff{\"events\":[]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameList[sameEvent](t, body)
		sameList[sameKinds](t, body)
	})
}

func sameList[T any](t *testing.T, body []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	got, gotErrs, gotErr := DecodeJSONList[T](httptest.NewRecorder(), r, 1<<20, 64, "events")
	want, wantErrs, wantErr := decodeListV1[T](body, 64, "events")
	if len(body) == 0 {
		return // read refuses an empty body before either decodes
	}
	if errString(gotErr) != errString(wantErr) || !reflect.DeepEqual(got, want) || len(gotErrs) != len(wantErrs) {
		t.Fatalf("%T: body %q: %+v, %v, %v; want %+v, %v, %v", *new(T), body, got, gotErrs, gotErr, want, wantErrs, wantErr)
	}
	for i := range gotErrs {
		if errString(gotErrs[i]) != errString(wantErrs[i]) {
			t.Fatalf("%T: body %q: item %d: %v, want %v", *new(T), body, i, gotErrs[i], wantErrs[i])
		}
	}
}
