package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Status is the one place a hookrun.Code becomes an HTTP status.
func Status(c hookrun.Code) int {
	switch c {
	case hookrun.CodeInvalidArgument, hookrun.CodeFailedPrecondition:
		// google.rpc.Code maps FAILED_PRECONDITION to 400 too; 412 is for
		// conditional request headers, which hookrun does not use.
		return http.StatusBadRequest
	case hookrun.CodeUnauthenticated:
		return http.StatusUnauthorized
	case hookrun.CodePermissionDenied:
		return http.StatusForbidden
	case hookrun.CodeNotFound:
		return http.StatusNotFound
	case hookrun.CodeAlreadyExists, hookrun.CodeAborted:
		return http.StatusConflict
	case hookrun.CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case hookrun.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case hookrun.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// statusName is the google.rpc.Code name in the error body. A body over
// the limit has no google.rpc code of its own, nor any code whose HTTP
// mapping is 413. It says RESOURCE_EXHAUSTED, the code gRPC itself gives a
// message over the size limit (grpc/doc/statuscodes.md: "request/response
// larger than max"), so a client sees the same status whether it calls
// the API by gRPC or by HTTP; INVALID_ARGUMENT would say the request is
// malformed, which it is not, and the HTTP code (413, not 429) and the
// absence of Retry-After tell that sending it again cannot succeed.
func statusName(c hookrun.Code) string {
	if c == hookrun.CodePayloadTooLarge {
		return string(hookrun.CodeResourceExhausted)
	}
	return string(c)
}

// maxRetryAfter caps the Retry-After an error asks for: past a minute, a
// hint is more likely a clock that is off than a plan.
const maxRetryAfter = time.Minute

// retryable reports whether an answer of code is worth retrying as it
// is, later: it then carries Retry-After.
func retryable(c hookrun.Code) bool {
	return c == hookrun.CodeUnavailable || c == hookrun.CodeResourceExhausted || c == hookrun.CodeAborted
}

// retryAfter is err's RetryAfter in whole seconds, rounded up, from 1
// (the default) to maxRetryAfter.
func retryAfter(err error) string {
	var e *hookrun.Error
	d := time.Second
	if errors.As(err, &e) && e.RetryAfter > 0 {
		d = min(e.RetryAfter, maxRetryAfter)
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// ItemError is the error of one item of an answer that carries a result
// per item (a batch of events): the object WriteError writes under
// "error", and, as an item has no Retry-After header of its own, a
// retryable error's delay as a google.rpc.RetryInfo detail.
type ItemError struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
	// Details holds a RetryInfo when the item is worth retrying later.
	Details []RetryInfo `json:"details,omitempty"`
}

// RetryInfo is google.rpc.RetryInfo in Google's JSON error shape.
type RetryInfo struct {
	Type string `json:"@type"` // retryInfoType
	// RetryDelay is a google.protobuf.Duration in JSON: whole seconds
	// and "s", as Retry-After would say.
	RetryDelay string `json:"retryDelay"`
}

const retryInfoType = "type.googleapis.com/google.rpc.RetryInfo"

// ErrorOf returns err as the error of one item of the answer to r, coded
// and logged as WriteError codes and logs a request's error.
func ErrorOf(r *http.Request, err error) ItemError {
	err = timedOut(r, err)
	code := hookrun.ErrorCode(err)
	status := Status(code)
	if status >= 500 && !clientGone(r.Context()) {
		slog.ErrorContext(r.Context(), "request item failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	}
	e := ItemError{Code: status, Status: statusName(code), Message: hookrun.ErrorMessage(err)}
	if retryable(code) {
		e.Details = []RetryInfo{{Type: retryInfoType, RetryDelay: retryAfter(err) + "s"}}
	}
	return e
}

// WriteError answers with err in Google's JSON error shape. Uncoded errors
// become a 500 with a generic message; their text goes to the log only.
// An uncoded error that a deadline caused, the request's or a dependency
// call's, is UNAVAILABLE: a dependency did not answer in time.
// UNAVAILABLE, RESOURCE_EXHAUSTED (429, not 413) and ABORTED answers carry
// Retry-After: the error's RetryAfter or 1 second, unless the handler set
// one of its own. The failure of a request whose client went away is no
// server error: it is not logged as one.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	err = timedOut(r, err)
	code := hookrun.ErrorCode(err)
	status := Status(code)
	switch {
	case clientGone(r.Context()):
		AddLogAttrs(r.Context(), slog.String("error", err.Error()))
	case status >= 500:
		slog.ErrorContext(r.Context(), "request failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	}
	AddLogAttrs(r.Context(), slog.String("error_status", string(code)))
	if retryable(code) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter(err))
	}
	WriteJSON(w, status, errorBody{Error: errorDetail{Code: status, Status: statusName(code), Message: hookrun.ErrorMessage(err)}})
}

// timedOut gives CodeUnavailable to an uncoded err that a deadline caused:
// the request's own (Timeouts.Request), whatever form the dependency
// reported it in, or one of a call's own that the error wraps.
func timedOut(r *http.Request, err error) error {
	var coded *hookrun.Error
	if errors.As(err, &coded) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		return hookrun.WrapError(hookrun.CodeUnavailable, err, "a backing service did not answer within the request's time; retry")
	}
	return err
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // an API, not a page: keep "<" readable in messages
	_ = enc.Encode(v)        // an error here means the client went away
}

// NotFound answers unknown routes in the API's error shape.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, hookrun.Errorf(hookrun.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
}
