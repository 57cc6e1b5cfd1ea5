package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// DecodeJSON decodes the request body into dst, refusing bodies over limit
// bytes (by Content-Length before reading, and while reading when the length
// is unknown), other content types and charsets than UTF-8, invalid UTF-8,
// unknown fields, and trailing data. Its errors name what to fix.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	return decode(w, r, limit, dst, true)
}

// DecodeJSONLenient is DecodeJSON for bodies hookrun does not define, such
// as Pub/Sub push envelopes, which gain fields over time: unknown fields
// are ignored.
func DecodeJSONLenient(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	return decode(w, r, limit, dst, false)
}

// DecodeJSONList decodes a request body that is an object with one
// field, name, a list of objects of type T: {"events":[…]}. The body is
// refused whole as DecodeJSON refuses it (size, Content-Type, syntax,
// another field); each item is decoded as DecodeJSON decodes a body,
// strictly, and one that is wrong (over itemLimit bytes, a field unknown
// or of the wrong type, invalid UTF-8) is refused alone: errs[i] says why,
// and items[i] holds what could be decoded of it. An absent or null list
// is an empty one. Each item is read once, not once for the list and
// again for itself.
func DecodeJSONList[T any](w http.ResponseWriter, r *http.Request, limit, itemLimit int64, name string) (items []T, errs []error, err error) {
	body, err := read(w, r, limit)
	if err != nil {
		return nil, nil, err
	}
	if items, ok := decodeListFast[T](body, itemLimit, name); ok {
		if len(items) > 0 {
			errs = make([]error, len(items))
		}
		return items, errs, nil
	}
	return decodeListV1[T](body, itemLimit, name)
}

// decodeListFast decodes body as DecodeJSONList does when all of it is
// right, with encoding/json/v2's implementation (as unmarshal): a list
// whose items are all objects that decode without error, within
// itemLimit and in UTF-8. Anything else (an error anywhere, a null or
// absent list) it leaves to decodeListV1, by ok false, for the errors
// encoding/json's path gives, word for word. FuzzDecodeJSONListSame
// holds the two to the same answers.
func decodeListFast[T any](body []byte, itemLimit int64, name string) (items []T, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	if key, err := dec.ReadToken(); err != nil || key.Kind() != '"' || key.String() != name || dec.PeekKind() != '[' {
		return nil, false
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, false
	}
	for dec.PeekKind() != ']' {
		raw, err := dec.ReadValue()
		if err != nil || raw.Kind() != '{' || int64(len(raw)) > itemLimit || !utf8.Valid(raw) {
			return nil, false
		}
		var item T
		if jsonv2.Unmarshal(raw, &item, strictV1) != nil {
			return nil, false
		}
		items = append(items, item)
	}
	for _, want := range []jsontext.Kind{']', '}'} {
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != want {
			return nil, false
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, false
	}
	return items, true
}

// decodeListV1 is DecodeJSONList's decoding of body with encoding/json,
// for its errors.
func decodeListV1[T any](body []byte, itemLimit int64, name string) (items []T, errs []error, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := expectDelim(dec, '{', "body must be a JSON object"); err != nil {
		return nil, nil, err
	}
	seen := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, nil, decodeError(err)
		}
		if k, _ := key.(string); k != name || seen {
			return nil, nil, hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: unknown field, or given twice", k)
		}
		seen = true
		if items, errs, err = decodeItems[T](dec, body, itemLimit, name); err != nil {
			return nil, nil, err
		}
	}
	if err := closing(dec); err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, hookrun.Errorf(hookrun.CodeInvalidArgument, "body must hold a single JSON object")
	}
	return items, errs, nil
}

// decodeItems decodes the list of name that dec, reading body, is at.
func decodeItems[T any](dec *json.Decoder, body []byte, itemLimit int64, name string) (items []T, errs []error, err error) {
	if !bytes.HasPrefix(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n:"), []byte("[")) {
		var null *struct{}
		if err := dec.Decode(&null); err != nil || null != nil {
			return nil, nil, hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: must be an array", name)
		}
		return nil, nil, nil
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, decodeError(err)
	}
	for dec.More() {
		start := dec.InputOffset()
		var item T
		err := dec.Decode(&item)
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, decodeError(err) // the rest cannot be read
		}
		raw := bytes.TrimLeft(body[start:dec.InputOffset()], " \t\r\n,")
		var typ *json.UnmarshalTypeError
		switch {
		case int64(len(raw)) > itemLimit:
			err = hookrun.Errorf(hookrun.CodePayloadTooLarge, "each of %s may be at most %d bytes, not %d", name, itemLimit, len(raw))
		case errors.As(err, &typ) && typ.Field == "":
			err = hookrun.Errorf(hookrun.CodeInvalidArgument, "each of %s must be a JSON object, not %s", name, typ.Value)
		case err != nil:
			err = decodeError(err)
		default:
			err = checkUTF8(raw)
		}
		items, errs = append(items, item), append(errs, err)
	}
	if err := closing(dec); err != nil {
		return nil, nil, err
	}
	return items, errs, nil
}

// closing reads the bracket or brace that dec.More said comes next.
func closing(dec *json.Decoder) error {
	_, err := dec.Token()
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return decodeError(err)
	}
	return nil
}

// expectDelim reads the next token of dec, which must be d.
func expectDelim(dec *json.Decoder, d json.Delim, otherwise string) error {
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err)
	}
	if tok != d {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "%s", otherwise)
	}
	return nil
}

// UnmarshalJSON decodes data, one JSON value, into dst as DecodeJSON
// decodes a body: unknown fields, trailing data and invalid UTF-8 are
// refused, with errors that name what to fix.
func UnmarshalJSON(data []byte, dst any) error {
	if err := unmarshal(data, dst, true); err != nil {
		return err
	}
	return checkUTF8(data)
}

func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any, strict bool) error {
	body, err := read(w, r, limit)
	if err != nil {
		return err
	}
	if err := unmarshal(body, dst, strict); err != nil {
		return err
	}
	return checkUTF8(body)
}

// read reads a JSON body of at most limit bytes, refusing a longer one by
// its Content-Length before reading.
func read(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	// Read whole, within the limit, to check its encoding once decoded;
	// into a buffer of the announced size, when there is one, rather
	// than one grown (and copied) from 512 bytes. (ReadFrom keeps
	// bytes.MinRead free to read into, even at the end.)
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, hookrun.WrapError(hookrun.CodeInvalidArgument, err, "could not read the body")
	}
	return body, nil
}

// Decoding options of encoding/json/v2's implementation
// (github.com/go-json-experiment/json, where it is developed) that
// decode as encoding/json does: v1's semantics, and for a strict decode
// unknown fields refused, as Decoder.DisallowUnknownFields does.
var (
	lenientV1 = jsonv1.DefaultOptionsV1()
	strictV1  = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.RejectUnknownMembers(true))
)

// unmarshal decodes body, a single JSON value, into dst.
//
// A body into a fresh (zero) dst, as every handler passes, is decoded by
// encoding/json/v2's implementation with v1's semantics, which reads it
// once where encoding/json validates it whole first: a Pub/Sub push
// envelope in 6 µs rather than 17, with 6 allocations rather than 32
// (BenchmarkDecodeJSONLenientPushEnvelope). Only success is taken from
// it: a body it refuses, rare, is decoded again, into a zeroed dst, by
// the encoding/json path below, so that errors are word for word what
// they were. A dst already holding data, which encoding/json merges
// into, takes that path too. FuzzDecodeSameAsDecoder holds both to the
// Decoder that came before them.
func unmarshal(body []byte, dst any, strict bool) error {
	if v := reflect.ValueOf(dst); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().IsZero() {
		opts := lenientV1
		if strict {
			opts = strictV1
		}
		if jsonv2.Unmarshal(body, dst, opts) == nil {
			return nil
		}
		v.Elem().SetZero()
	}
	return unmarshalV1(body, dst, strict)
}

// unmarshalV1 decodes body, a single JSON value, into dst with
// encoding/json, for its errors.
//
// A lenient decode is json.Unmarshal's: it reads body where it is, with
// no Decoder to allocate and copy body into. Unmarshal checks that body is
// one value before decoding it, so its errors other than syntax errors
// are a Decoder's; a syntax error, though, may be trailing data that a
// Decoder would have found only after decoding the value (and reported
// its type errors first) or a body that ends early, which a Decoder
// tells from an empty one: such a body, rare, is decoded again as a
// Decoder does, for the same error and dst. A strict decode needs a
// Decoder, the one way to refuse unknown fields.
func unmarshalV1(body []byte, dst any, strict bool) error {
	if !strict {
		err := json.Unmarshal(body, dst)
		var syntax *json.SyntaxError
		if err == nil || !errors.As(err, &syntax) {
			return decodeErrorOrNil(err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// What dec.Token would read after the value: io.EOF if all that is
	// left is whitespace.
	if len(bytes.TrimLeft(body[dec.InputOffset():], jsonSpace)) != 0 {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body must hold a single JSON object")
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens (RFC 8259).
const jsonSpace = " \t\r\n"

// checkUTF8 refuses body, valid JSON, unless it is valid UTF-8:
// encoding/json replaces invalid UTF-8 in strings with U+FFFD, silently,
// and keeps it in a json.RawMessage, which Firestore then refuses.
func checkUTF8(body []byte) error {
	if !utf8.Valid(body) {
		field, what := invalidUTF8(body)
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: %s: send JSON in UTF-8", field, what)
	}
	return nil
}

// checkContentType allows no Content-Type, or JSON in UTF-8: JSON between
// systems is UTF-8 (RFC 8259, section 8.1), and a body in another charset
// would be read as if it were.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "Content-Type must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "Content-Type: charset %q is not supported: send JSON in UTF-8 (charset=utf-8, or none)", cs)
	}
	return nil
}

// invalidUTF8 says where the first string of body, valid JSON, that is
// not valid UTF-8 is: its path, as errors name fields ("data.user.name",
// "tags[2]"), and what is wrong there.
func invalidUTF8(body []byte) (field, what string) {
	type level struct {
		path  string
		array bool
		n     int    // array: elements seen
		key   string // object: the key of the value being read
		isKey bool   // object: the next string is a key
	}
	join := func(path, name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*level
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "body", "invalid UTF-8" // not reached: body is valid JSON
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		// A value, or an object's key: where is it?
		path := ""
		switch {
		case top == nil:
		case top.array:
			path = fmt.Sprintf("%s[%d]", top.path, top.n)
			top.n++
		case top.isKey:
			top.isKey = false
			if !utf8.Valid(body[start:dec.InputOffset()]) {
				return cmp.Or(top.path, "body"), "invalid UTF-8 in a key"
			}
			top.key = tok.(string)
			continue
		default:
			path = join(top.path, top.key)
			top.isKey = true
		}
		switch tok := tok.(type) {
		case json.Delim:
			stack = append(stack, &level{path: path, array: tok == '[', isKey: tok == '{'})
		case string:
			if !utf8.Valid(body[start:dec.InputOffset()]) {
				return cmp.Or(path, "body"), "invalid UTF-8"
			}
		}
	}
}
func tooLarge(limit int64) error {
	return hookrun.Errorf(hookrun.CodePayloadTooLarge, "body is larger than %d bytes", limit)
}

// decodeErrorOrNil is decodeError, and nil for nil.
func decodeErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return decodeError(err)
}

func decodeError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body is not valid JSON: it ends early")
	case errors.As(err, &syntax):
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body is not valid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return hookrun.Errorf(hookrun.CodeInvalidArgument, "body must be a JSON object, not %s", typ.Value)
		}
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	default:
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body is not valid JSON: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	default:
		return fmt.Sprintf("a %s", goKind)
	}
}
