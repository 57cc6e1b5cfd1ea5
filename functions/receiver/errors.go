package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// apiError is an error answered in Google's JSON API error shape,
// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "…"}}.
// Its message is safe to show the caller: it never holds a secret or a
// signature; the cause, if any, goes to the log only.
type apiError struct {
	status  int    // HTTP status
	message string // shown to the caller
	err     error  // the cause, for the log
}

func (e *apiError) Error() string {
	if e.err != nil {
		return e.message + ": " + e.err.Error()
	}
	return e.message
}

func (e *apiError) Unwrap() error { return e.err }

// errorf returns an apiError answered with status and a formatted message.
func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// wrapError returns an apiError answered with status and message, whose
// cause err is logged but not shown.
func wrapError(status int, err error, message string) error {
	return &apiError{status: status, message: message, err: err}
}

// statusName is the google.rpc.Code name of an HTTP status in the error
// body. 413 says RESOURCE_EXHAUSTED, as gRPC does for a message over the
// size limit; 405 says INVALID_ARGUMENT, google.rpc.Code having no "method
// not allowed".
func statusName(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusRequestEntityTooLarge:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// writeError answers with err in Google's JSON error shape. An error that
// is no apiError is a 500 with a generic message, its text logged only. A
// 503 carries Retry-After: 1 (the sender may retry at once), unless the
// handler set one. The failure of a request whose client went away is no
// server error: it is not logged as one.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: http.StatusInternalServerError, message: "internal error", err: err}
	}
	ctx := r.Context()
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		addLogAttrs(ctx, slog.String("error", err.Error()))
	case e.status >= 500:
		slog.ErrorContext(ctx, "request failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	}
	name := statusName(e.status)
	addLogAttrs(ctx, slog.String("error_status", name))
	if e.status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, errorBody{errorDetail{Code: e.status, Status: name, Message: e.message}})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // an API, not a page: keep "<" readable in messages
	_ = enc.Encode(v)        // an error here means the client went away
}
