package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// Code is the API's error status: a google.rpc.Code name.
type Code string

// The codes the API answers (the Error schema of the OpenAPI document).
const (
	CodeInvalidArgument    = Code(api.ErrorErrorStatusINVALIDARGUMENT)
	CodeFailedPrecondition = Code(api.ErrorErrorStatusFAILEDPRECONDITION)
	CodeUnauthenticated    = Code(api.ErrorErrorStatusUNAUTHENTICATED)
	CodePermissionDenied   = Code(api.ErrorErrorStatusPERMISSIONDENIED)
	CodeNotFound           = Code(api.ErrorErrorStatusNOTFOUND)
	CodeAlreadyExists      = Code(api.ErrorErrorStatusALREADYEXISTS)
	CodeAborted            = Code(api.ErrorErrorStatusABORTED)
	CodeResourceExhausted  = Code(api.ErrorErrorStatusRESOURCEEXHAUSTED)
	CodeUnavailable        = Code(api.ErrorErrorStatusUNAVAILABLE)
	CodeInternal           = Code(api.ErrorErrorStatusINTERNAL)
)

// Error is the API's refusal of a call: a non-2xx answer.
type Error struct {
	// StatusCode is the HTTP status, such as 429.
	StatusCode int
	// Code is the API's status, such as CodeResourceExhausted. An answer
	// that is not the API's JSON error (a proxy's 502) gets the code its
	// HTTP status stands for.
	Code Code
	// Message says what went wrong and what to fix; a field error starts
	// with the field's name.
	Message string
	// RetryAfter is the answer's Retry-After: how long to wait before
	// trying again; 0 when it had none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.StatusCode, e.Code, e.Message)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// retryable reports whether the API asks for the call to be made again:
// over a rate limit (429), a claim held by another request (ABORTED), a
// dependency or the service unavailable (503, and a gateway's 502 or 504).
func (e *Error) retryable() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return e.Code == CodeAborted
}

// refusedBeforeWork reports whether the API refused the call before doing
// anything, so that even a call that is not idempotent may be repeated.
func (e *Error) refusedBeforeWork() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.Code == CodeAborted
}

// TransportError is a call that got no answer: the connection failed, or
// the attempt timed out (WithTimeout). The request may or may not have
// reached the service.
type TransportError struct {
	Err error
}

func (e *TransportError) Error() string { return e.Err.Error() }

// Unwrap answers the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is a failure worth trying again: an
// *Error that asks for it (429, 503, 502, 504, ABORTED) or
// a *TransportError. A Client retries these itself (WithRetry); a caller
// that gets one has seen its retries run out. Repeating a call that is not
// idempotent (creating an endpoint) after a TransportError may do it twice.
func IsRetryable(err error) bool {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.retryable()
	}
	var te *TransportError
	return errors.As(err, &te)
}

// IsCode reports whether err is an *Error with code.
func IsCode(err error, code Code) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.Code == code
}

// mayRetry reports whether a call that failed with err may be sent again:
// a refusal before any work always, other retryable failures when the call
// is idempotent.
func mayRetry(err error, idempotent bool) bool {
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.refusedBeforeWork() {
		return true
	}
	return idempotent && IsRetryable(err)
}

// Bounds of what an answer may hold.
const (
	maxAnswerBytes = 32 << 20 // a page of 500 dead letters with their attempts
	maxErrorBytes  = 64 << 10
)

// decodeAnswer reads resp: a 2xx into out (unless nil), anything else into
// an *Error. A body cut off in transit is a *TransportError; a 2xx that
// does not decode, a plain error.
func decodeAnswer(resp *http.Response, out any) error {
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return &TransportError{Err: fmt.Errorf("read answer: %w", err)}
	}
	if len(b) > maxAnswerBytes {
		return fmt.Errorf("answer over %d bytes", maxAnswerBytes)
	}
	if len(b) == 0 && resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// readError makes the *Error of a non-2xx answer.
func readError(resp *http.Response) *Error {
	e := &Error{StatusCode: resp.StatusCode}
	if ra, ok := hookrun.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = ra
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var body struct {
		Error struct {
			Status  Code   `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error.Status != "" {
		e.Code, e.Message = body.Error.Status, body.Error.Message
		return e
	}
	e.Code = codeOfStatus(resp.StatusCode)
	e.Message = http.StatusText(resp.StatusCode)
	return e
}

// codeOfStatus is the code an HTTP status stands for, for answers that
// are not the API's own (a load balancer's, a proxy's).
func codeOfStatus(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return CodeInvalidArgument
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodePermissionDenied
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeAborted
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return CodeResourceExhausted
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CodeUnavailable
	}
	return CodeInternal
}
