package cloudtasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

// Bearer tokens the emulator sends in place of the tokens the real service
// mints. No Google signer exists locally, so these are fixed, unsigned
// strings: a local target must run with token verification off (hookrun's
// dispatcher does in the local stack) or accept exactly these.
const (
	// FakeOIDCToken is sent as "Authorization: Bearer emulator-oidc-token"
	// for tasks with an oidc_token.
	FakeOIDCToken = "emulator-oidc-token"
	// FakeOAuthToken is sent as "Authorization: Bearer
	// emulator-oauth-token" for tasks with an oauth_token.
	FakeOAuthToken = "emulator-oauth-token"
)

// userAgent is the User-Agent of every dispatch, as in the real service.
const userAgent = "Google-Cloud-Tasks"

// maxDrain bounds how much of a response body is read to reuse the
// connection; the body itself is not kept.
const maxDrain = 64 * 1024

// attempt is what one dispatch sends, copied from the task under the lock.
type attempt struct {
	number        int32 // the task's dispatch_count with this attempt
	method, url   string
	headers       map[string]string
	body          []byte
	authorization string // "" or a fake bearer token
	deadline      time.Duration
	queueID       string
	taskID        string
	eta           time.Time
	retryCount    int32 // attempts before this one
	execCount     int32 // earlier attempts answered with a non-5xx status
	prevStatus    int   // HTTP status of the previous attempt, 0 if none
}

// send makes the HTTP request of a and returns its status code, or the
// error that kept it from getting one: a connection failure, or the
// dispatch deadline (or the client's own timeout) running out.
func (s *Server) send(a *attempt) (int, error) {
	ctx, cancel := context.WithTimeout(s.ctx, a.deadline)
	defer cancel()
	var body io.Reader = http.NoBody
	if len(a.body) > 0 {
		body = bytes.NewReader(a.body)
	}
	req, err := http.NewRequestWithContext(ctx, a.method, a.url, body)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	for k, v := range a.headers {
		if !reservedHeader(k) {
			req.Header.Set(k, v)
		}
	}
	h := req.Header
	h.Set("User-Agent", userAgent)
	h.Set("X-CloudTasks-QueueName", a.queueID)
	h.Set("X-CloudTasks-TaskName", a.taskID)
	h.Set("X-CloudTasks-TaskRetryCount", strconv.Itoa(int(a.retryCount)))
	h.Set("X-CloudTasks-TaskExecutionCount", strconv.Itoa(int(a.execCount)))
	h.Set("X-CloudTasks-TaskETA", fmt.Sprintf("%d.%06d", a.eta.Unix(), a.eta.Nanosecond()/1000))
	if a.prevStatus != 0 {
		h.Set("X-CloudTasks-TaskPreviousResponse", strconv.Itoa(a.prevStatus))
	}
	if a.authorization != "" {
		h.Set("Authorization", a.authorization)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return resp.StatusCode, nil
}

// reservedHeader reports whether the real service ignores or replaces
// header k of a task: the client computes Host and Content-Length, and the
// service owns User-Agent, X-Google-*, X-AppEngine-* and X-CloudTasks-*.
func reservedHeader(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "host", "content-length", "user-agent":
		return true
	}
	return strings.HasPrefix(k, "x-google-") || strings.HasPrefix(k, "x-appengine-") || strings.HasPrefix(k, "x-cloudtasks-")
}

// responseStatus is an attempt's response_status: the gRPC code of its HTTP
// status (the usual google.rpc mapping), DEADLINE_EXCEEDED for a timeout or
// UNAVAILABLE for a failed connection.
func responseStatus(code int, err error) *rpcstatus.Status {
	if err != nil {
		c := codes.Unavailable
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			c = codes.DeadlineExceeded
		}
		return &rpcstatus.Status{Code: int32(c), Message: err.Error()}
	}
	return &rpcstatus.Status{Code: int32(httpCode(code)), Message: fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))}
}

func httpCode(code int) codes.Code {
	switch {
	case code >= 200 && code < 300:
		return codes.OK
	case code == http.StatusBadRequest:
		return codes.InvalidArgument
	case code == http.StatusUnauthorized:
		return codes.Unauthenticated
	case code == http.StatusForbidden:
		return codes.PermissionDenied
	case code == http.StatusNotFound:
		return codes.NotFound
	case code == http.StatusConflict:
		return codes.Aborted
	case code == http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case code == http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case code == http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case code == 499:
		return codes.Canceled
	case code == http.StatusNotImplemented:
		return codes.Unimplemented
	case code == http.StatusServiceUnavailable:
		return codes.Unavailable
	case code == http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case code >= 500:
		return codes.Internal
	default:
		return codes.Unknown
	}
}
