package hookrun

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for callers that branch on it, and for the one
// place (internal/httpapi) that maps it to an HTTP status. The names follow
// google.rpc.Code so API errors read like every other Google API's.
type Code string

// Codes used across hookrun.
const (
	CodeInvalidArgument    Code = "INVALID_ARGUMENT"
	CodeUnauthenticated    Code = "UNAUTHENTICATED"
	CodePermissionDenied   Code = "PERMISSION_DENIED"
	CodeNotFound           Code = "NOT_FOUND"
	CodeAlreadyExists      Code = "ALREADY_EXISTS"
	CodeAborted            Code = "ABORTED"
	CodeFailedPrecondition Code = "FAILED_PRECONDITION"
	CodePayloadTooLarge    Code = "PAYLOAD_TOO_LARGE"
	CodeResourceExhausted  Code = "RESOURCE_EXHAUSTED" // over a limit (a tenant's events per second): retry later
	CodeUnavailable        Code = "UNAVAILABLE"
	CodeInternal           Code = "INTERNAL"
)

// Error is an error with a Code and a message that is safe to show to the
// caller: it never holds a secret, a key or a signature.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs; never shown to callers
	// RetryAfter is how long a retry should wait, when the error knows
	// (what is left of another request's lease); zero: the API's default.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message whose cause is
// err, so logs keep the cause while callers see only message.
func WrapError(code Code, err error, message string) error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the Code of the first *Error in err's chain, or
// CodeInternal when there is none: an uncoded error is a bug or an outage,
// and its text must not reach a caller.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err: the *Error's message,
// or a generic text for uncoded errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
