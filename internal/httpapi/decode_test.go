package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

type createThing struct {
	Name  string          `json:"name"`
	Count int             `json:"count"`
	Tags  []string        `json:"tags"`
	Meta  struct{ A int } `json:"meta"`
}

func newJSONRequest(body io.Reader, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/things", body)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeJSON(t *testing.T) {
	const limit = 1024
	tests := []struct {
		name        string
		body        string
		contentType string
		wantCode    hookrun.Code // "" means success
		wantMsg     string       // substring of the caller-facing message
	}{
		{name: "valid", body: `{"name":"a","count":2,"tags":["x"]}`, contentType: "application/json"},
		{name: "valid with charset", body: `{"name":"a"}`, contentType: "application/json; charset=utf-8"},
		{name: "valid +json media type", body: `{"name":"a"}`, contentType: "application/cloudevents+json"},
		{name: "valid without content type", body: `{"name":"a"}`},
		{name: "valid with trailing whitespace", body: "{\"name\":\"a\"}\n\t ", contentType: "application/json"},
		{name: "malformed: ends early", body: `{"name":`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "not valid JSON"},
		{name: "malformed: syntax", body: `{"name" "a"}`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "not valid JSON at byte"},
		{name: "wrong type names the field", body: `{"count":"two"}`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "count: must be"},
		{name: "wrong type of array names the field", body: `{"tags":"x"}`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "tags: must be an array"},
		{name: "not an object", body: `[1,2]`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "must be a JSON object"},
		{name: "unknown field is refused by name", body: `{"name":"a","colour":"red"}`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "colour: unknown field"},
		{name: "trailing object", body: `{"name":"a"}{"name":"b"}`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "single JSON object"},
		{name: "trailing garbage", body: `{"name":"a"} x`, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "single JSON object"},
		{name: "empty body", body: ``, contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "body is empty"},
		{name: "whitespace body", body: " \n", contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "body is empty"},
		{name: "wrong content type", body: `{"name":"a"}`, contentType: "text/plain", wantCode: hookrun.CodeInvalidArgument, wantMsg: "Content-Type must be application/json"},
		{name: "form content type", body: `name=a`, contentType: "application/x-www-form-urlencoded", wantCode: hookrun.CodeInvalidArgument, wantMsg: "Content-Type must be application/json"},
		{name: "unparsable content type", body: `{"name":"a"}`, contentType: "application/json; =", wantCode: hookrun.CodeInvalidArgument, wantMsg: "Content-Type"},
		{name: "charset in capitals", body: `{"name":"a"}`, contentType: "application/json; charset=UTF-8"},
		{name: "quoted charset", body: `{"name":"a"}`, contentType: `application/json; charset="utf-8"`},
		{name: "charset utf-16", body: `{"name":"a"}`, contentType: "application/json; charset=utf-16", wantCode: hookrun.CodeInvalidArgument, wantMsg: "Content-Type: charset"},
		{name: "charset latin-1", body: `{"name":"a"}`, contentType: "application/json; charset=iso-8859-1", wantCode: hookrun.CodeInvalidArgument, wantMsg: "Content-Type: charset"},
		{name: "invalid UTF-8 in a string", body: "{\"name\":\"a\xff\"}", contentType: "application/json", wantCode: hookrun.CodeInvalidArgument, wantMsg: "name: invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got createThing
			err := httpapi.DecodeJSON(httptest.NewRecorder(), newJSONRequest(strings.NewReader(tt.body), tt.contentType), limit, &got)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("DecodeJSON(%q) = %v, want nil", tt.body, err)
				}
				if got.Name != "a" {
					t.Errorf("decoded name = %q, want %q", got.Name, "a")
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeJSON(%q) = nil, want %s error", tt.body, tt.wantCode)
			}
			if code := hookrun.ErrorCode(err); code != tt.wantCode {
				t.Errorf("DecodeJSON(%q) code = %s, want %s (error %v)", tt.body, code, tt.wantCode, err)
			}
			if msg := hookrun.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("DecodeJSON(%q) message = %q, want it to contain %q", tt.body, msg, tt.wantMsg)
			}
		})
	}
}

// encoding/json replaces invalid UTF-8 in strings with U+FFFD but keeps
// it in a json.RawMessage, which Firestore then refuses: the decoder
// refuses it, naming where it is.
func TestDecodeJSONRefusesInvalidUTF8(t *testing.T) {
	type event struct {
		Type string            `json:"type"`
		Tags []string          `json:"tags"`
		Meta map[string]string `json:"meta"`
		Data json.RawMessage   `json:"data"`
	}
	tests := []struct {
		name, body, wantMsg string
	}{
		{"in raw data", "{\"type\":\"a.b\",\"data\":{\"s\":\"\xff\"}}", "data.s: invalid UTF-8"},
		{"deep in raw data", "{\"data\":{\"a\":[1,{\"b\":\"ok\"},{\"c\":[\"x\",\"\xc3\"]}]}}", "data.a[2].c[1]: invalid UTF-8"},
		{"in a key of raw data", "{\"data\":{\"ok\":1,\"k\xff\":1}}", "data: invalid UTF-8 in a key"},
		{"in a string field", "{\"type\":\"\xffa.b\",\"data\":{}}", "type: invalid UTF-8"},
		{"in an array", "{\"tags\":[\"a\",\"b\xfe\"]}", "tags[1]: invalid UTF-8"},
		{"in a map value", "{\"meta\":{\"X-A\":\"\xed\xa0\x80\"}}", "meta.X-A: invalid UTF-8"}, // a UTF-16 surrogate
		{"after valid multibyte text", "{\"type\":\"ä\",\"data\":{\"s\":\"ü\x80\"}}", "data.s: invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got event
			err := httpapi.DecodeJSON(httptest.NewRecorder(), newJSONRequest(strings.NewReader(tt.body), "application/json"), 1024, &got)
			if hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument || !strings.HasPrefix(hookrun.ErrorMessage(err), tt.wantMsg) {
				t.Errorf("DecodeJSON(%q) = %v, want INVALID_ARGUMENT starting %q", tt.body, err, tt.wantMsg)
			}
		})
	}
	// Valid text of every width and escapes stay valid.
	var got event
	body := `{"type":"a.b","data":{"s":"ä€𝄞 \u00e4 \"q\""}}`
	if err := httpapi.DecodeJSON(httptest.NewRecorder(), newJSONRequest(strings.NewReader(body), "application/json"), 1024, &got); err != nil {
		t.Errorf("DecodeJSON(%q) = %v, want nil", body, err)
	}
}

func TestDecodeJSONLenientIgnoresUnknownFields(t *testing.T) {
	var got createThing
	r := newJSONRequest(strings.NewReader(`{"name":"a","added_later":true}`), "application/json")
	if err := httpapi.DecodeJSONLenient(httptest.NewRecorder(), r, 1024, &got); err != nil {
		t.Fatalf("DecodeJSONLenient = %v, want nil", err)
	}
	if got.Name != "a" {
		t.Errorf("name = %q, want %q", got.Name, "a")
	}
	// Lenient is about fields only: trailing data is still refused.
	r = newJSONRequest(strings.NewReader(`{"name":"a"}{}`), "application/json")
	if err := httpapi.DecodeJSONLenient(httptest.NewRecorder(), r, 1024, &got); hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument {
		t.Errorf("DecodeJSONLenient with trailing data = %v, want INVALID_ARGUMENT", err)
	}
}

// unreadBody fails the test if the decoder reads a body it should have
// refused by its Content-Length.
type unreadBody struct{ t *testing.T }

func (b unreadBody) Read([]byte) (int, error) {
	b.t.Error("body was read, want it refused by Content-Length before reading")
	return 0, io.EOF
}

func (b unreadBody) Close() error { return nil }

func TestDecodeJSONRefusesDeclaredLengthOverLimitWithoutReading(t *testing.T) {
	const limit = 1024
	r := httptest.NewRequest(http.MethodPost, "/v1/things", nil)
	r.Header.Set("Content-Type", "application/json")
	r.Body = unreadBody{t}
	r.ContentLength = limit + 1
	var got createThing
	err := httpapi.DecodeJSON(httptest.NewRecorder(), r, limit, &got)
	if code := hookrun.ErrorCode(err); code != hookrun.CodePayloadTooLarge {
		t.Fatalf("DecodeJSON code = %s (error %v), want %s", code, err, hookrun.CodePayloadTooLarge)
	}
	if got := httpapi.Status(hookrun.ErrorCode(err)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want %d", got, http.StatusRequestEntityTooLarge)
	}
}

// jsonOfSize returns a valid JSON object of exactly n bytes.
func jsonOfSize(n int) []byte {
	const head, tail = `{"name":"`, `"}`
	return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
}

func TestDecodeJSONUnknownLength(t *testing.T) {
	const limit = 1024
	tests := []struct {
		name     string
		size     int
		wantCode hookrun.Code
	}{
		{"exactly the limit", limit, ""},
		{"one byte over", limit + 1, hookrun.CodePayloadTooLarge},
		{"far over", 64 * limit, hookrun.CodePayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// io.MultiReader hides the length, as a chunked request does.
			r := newJSONRequest(io.MultiReader(bytes.NewReader(jsonOfSize(tt.size))), "application/json")
			if r.ContentLength != -1 {
				t.Fatalf("test setup: ContentLength = %d, want -1 (unknown)", r.ContentLength)
			}
			var got createThing
			err := httpapi.DecodeJSON(httptest.NewRecorder(), r, limit, &got)
			if code := codeOf(err); code != tt.wantCode {
				t.Errorf("DecodeJSON of %d bytes: code %q (error %v), want %q", tt.size, code, err, tt.wantCode)
			}
		})
	}
}

// A chunked request over a real connection: the server must answer 413 and
// must not read the whole body first.
func TestDecodeJSONChunkedOverLimitOverHTTP(t *testing.T) {
	const limit = 1024
	type seen struct {
		contentLength int64
		read          int64
	}
	seenc := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := &countingReader{r: r.Body}
		r.Body = cr
		var got createThing
		err := httpapi.DecodeJSON(w, r, limit, &got)
		seenc <- seen{contentLength: r.ContentLength, read: cr.n}
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	pr, pw := io.Pipe()
	go func() {
		// Far more than the limit; the write fails once the server hangs up.
		_, _ = pw.Write(jsonOfSize(1 << 20))
		pw.Close()
	}()
	defer pr.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusRequestEntityTooLarge)
	}
	s := <-seenc
	if s.contentLength != -1 {
		t.Errorf("server saw Content-Length %d, want -1 (chunked; test setup)", s.contentLength)
	}
	if s.read > 2*limit {
		t.Errorf("handler read %d bytes of the body, want about the limit (%d) at most", s.read, limit)
	}
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func codeOf(err error) hookrun.Code {
	if err == nil {
		return ""
	}
	return hookrun.ErrorCode(err)
}

// A list's items are decoded one by one: an item that is wrong, invalid
// UTF-8 included, is refused alone; a body that is not a list is refused
// whole.
func TestDecodeJSONList(t *testing.T) {
	type item struct {
		N int    `json:"n"`
		S string `json:"s"`
	}
	tests := []struct {
		name, body string
		want       []item
		wantErrs   []string // "" for none
		wantErr    string
	}{
		{"items", `{"events":[{"n":1}, {"s":"a"}]}`, []item{{N: 1}, {S: "a"}}, []string{"", ""}, ""},
		{"items wrong alone", "{\"events\":[{\"n\":\"x\",\"s\":\"kept\"},{\"m\":1},\"x\",{\"s\":\"\xff\"},{\"s\":\"" + strings.Repeat("y", 40) + "\"},{\"n\":2}]}",
			[]item{{S: "kept"}, {}, {}, {S: "\ufffd"}, {S: strings.Repeat("y", 40)}, {N: 2}},
			[]string{"n: must be a int, not string", "m: unknown field", "each of events must be a JSON object, not string", "s: invalid UTF-8", "at most 32 bytes", ""}, ""},
		{"no list", `{}`, nil, nil, ""},
		{"null list", `{"events":null}`, nil, nil, ""},
		{"not a list", `{"events":{"a":1}}`, nil, nil, "events: must be an array"},
		{"unknown field", `{"events":[],"x":1}`, nil, nil, "x: unknown field"},
		{"list twice", `{"events":[],"events":[]}`, nil, nil, "given twice"},
		{"not an object", `[1]`, nil, nil, "must be a JSON object"},
		{"empty", ``, nil, nil, "body is empty"},
		{"trailing data", `{"events":[]} {}`, nil, nil, "single JSON object"},
		{"malformed", `{"events":[{"n":1},}`, nil, nil, "not valid JSON"},
		{"ends early", `{"events":[{"n":1}`, nil, nil, "ends early"},
		{"ends early after the list", `{"events":[]`, nil, nil, "ends early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, errs, err := httpapi.DecodeJSONList[item](httptest.NewRecorder(), newJSONRequest(strings.NewReader(tt.body), "application/json"), 1024, 32, "events")
			if tt.wantErr != "" {
				if hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want INVALID_ARGUMENT containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(items, tt.want) {
				t.Errorf("items = %+v, want %+v", items, tt.want)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("%d errors, want %d: %v", len(errs), len(tt.wantErrs), errs)
			}
			for i, want := range tt.wantErrs {
				if (want == "") != (errs[i] == nil) || (want != "" && !strings.Contains(errs[i].Error(), want)) {
					t.Errorf("errs[%d] = %v, want %q", i, errs[i], want)
				}
			}
		})
	}
}

func TestUnmarshalJSONNamesWhatToFix(t *testing.T) {
	var v struct {
		Name string          `json:"name"`
		Data json.RawMessage `json:"data"`
	}
	for body, want := range map[string]string{
		`{"name":1}`:                  "name: must be a string",
		`{"other":1}`:                 "other: unknown field",
		"{\"data\":{\"s\":\"\xff\"}}": "data.s: invalid UTF-8",
	} {
		if err := httpapi.UnmarshalJSON([]byte(body), &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("UnmarshalJSON(%q) = %v, want an error containing %q", body, err, want)
		}
	}
	if err := httpapi.UnmarshalJSON([]byte(`{"name":"a","data":{"b":[1]}}`), &v); err != nil || v.Name != "a" || string(v.Data) != `{"b":[1]}` {
		t.Errorf("UnmarshalJSON of a valid value = %v, %+v", err, v)
	}
}
