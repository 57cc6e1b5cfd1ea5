package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// DefaultMaxBody is the default body limit of API requests: 256 KiB, like
// the largest webhook payloads senders commonly allow.
const DefaultMaxBody = 256 << 10

// DecodeJSON decodes the request body into dst, refusing bodies over limit
// bytes (by Content-Length before reading, and while reading when the length
// is unknown), other content types, unknown fields, and trailing data. Its
// errors name what to fix.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	return decode(w, r, limit, dst, true)
}

// DecodeJSONLenient is DecodeJSON for bodies hookrun does not define, such
// as Pub/Sub push envelopes, which gain fields over time: unknown fields
// are ignored.
func DecodeJSONLenient(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	return decode(w, r, limit, dst, false)
}

func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return hookrun.Errorf(hookrun.CodeInvalidArgument, "Content-Type must be application/json")
		}
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return hookrun.Errorf(hookrun.CodeInvalidArgument, "body must hold a single JSON object")
	}
	return nil
}

func tooLarge(limit int64) error {
	return hookrun.Errorf(hookrun.CodePayloadTooLarge, "body is larger than %d bytes", limit)
}

func decodeError(err error, limit int64) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
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
