package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		wantStatus     int
		wantBody       string
		wantRetryAfter bool
	}{
		{"invalid argument", hookrun.Errorf(hookrun.CodeInvalidArgument, "type: required"), 400,
			`{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"type: required"}}`, false},
		{"unauthenticated", hookrun.Errorf(hookrun.CodeUnauthenticated, "missing credentials"), 401,
			`{"error":{"code":401,"status":"UNAUTHENTICATED","message":"missing credentials"}}`, false},
		{"permission denied", hookrun.Errorf(hookrun.CodePermissionDenied, "not yours"), 403,
			`{"error":{"code":403,"status":"PERMISSION_DENIED","message":"not yours"}}`, false},
		{"not found", hookrun.Errorf(hookrun.CodeNotFound, "endpoint not found"), 404,
			`{"error":{"code":404,"status":"NOT_FOUND","message":"endpoint not found"}}`, false},
		{"already exists", hookrun.Errorf(hookrun.CodeAlreadyExists, "tenant exists"), 409,
			`{"error":{"code":409,"status":"ALREADY_EXISTS","message":"tenant exists"}}`, false},
		{"aborted", hookrun.Errorf(hookrun.CodeAborted, "retry later"), 409,
			`{"error":{"code":409,"status":"ABORTED","message":"retry later"}}`, true},
		// google.rpc.Code maps FAILED_PRECONDITION to HTTP 400.
		{"failed precondition", hookrun.Errorf(hookrun.CodeFailedPrecondition, "endpoint is disabled"), 400,
			`{"error":{"code":400,"status":"FAILED_PRECONDITION","message":"endpoint is disabled"}}`, false},
		// gRPC answers a message over its size limit RESOURCE_EXHAUSTED;
		// retrying the same body cannot help, so no Retry-After.
		{"payload too large", hookrun.Errorf(hookrun.CodePayloadTooLarge, "body is larger than 1024 bytes"), 413,
			`{"error":{"code":413,"status":"RESOURCE_EXHAUSTED","message":"body is larger than 1024 bytes"}}`, false},
		{"resource exhausted", hookrun.Errorf(hookrun.CodeResourceExhausted, "too many events"), 429,
			`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"too many events"}}`, true},
		{"unavailable", hookrun.Errorf(hookrun.CodeUnavailable, "retry"), 503,
			`{"error":{"code":503,"status":"UNAVAILABLE","message":"retry"}}`, true},
		{"internal", hookrun.Errorf(hookrun.CodeInternal, "internal error"), 500,
			`{"error":{"code":500,"status":"INTERNAL","message":"internal error"}}`, false},
		{"wrapped coded error keeps its code", fmt.Errorf("load endpoint: %w", hookrun.Errorf(hookrun.CodeNotFound, "endpoint not found")), 404,
			`{"error":{"code":404,"status":"NOT_FOUND","message":"endpoint not found"}}`, false},
		{"cause of a coded error stays out", hookrun.WrapError(hookrun.CodeUnavailable, errors.New("rpc error: dial 10.0.0.7:443"), "storage is unavailable; retry"), 503,
			`{"error":{"code":503,"status":"UNAVAILABLE","message":"storage is unavailable; retry"}}`, true},
		{"uncoded error is a generic 500", errors.New("firestore tenants/acme: dial 10.0.0.7:443: password=hunter2"), 500,
			`{"error":{"code":500,"status":"INTERNAL","message":"internal error"}}`, false},
		{"uncoded deadline is unavailable", fmt.Errorf("read batch: %w", context.DeadlineExceeded), 503,
			`{"error":{"code":503,"status":"UNAVAILABLE","message":"a backing service did not answer within the request's time; retry"}}`, true},
		{"coded error keeps its code past a deadline", hookrun.WrapError(hookrun.CodeInternal, context.DeadlineExceeded, "internal error"), 500,
			`{"error":{"code":500,"status":"INTERNAL","message":"internal error"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, httptest.NewRequest(http.MethodGet, "/x", nil), tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if got := strings.TrimSuffix(w.Body.String(), "\n"); got != tt.wantBody {
				t.Errorf("body = %s\nwant   %s", got, tt.wantBody)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := w.Header().Get("Retry-After") != ""; got != tt.wantRetryAfter {
				t.Errorf("Retry-After present = %v, want %v", got, tt.wantRetryAfter)
			}
		})
	}
}

func TestUncodedErrorTextNeverReachesTheCaller(t *testing.T) {
	const internal = "dial tcp 10.1.2.3:5432: secret=s3cr3t"
	w := httptest.NewRecorder()
	httpapi.WriteError(w, httptest.NewRequest(http.MethodGet, "/x", nil), fmt.Errorf("load tenant: %w", errors.New(internal)))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
	for _, leak := range []string{internal, "10.1.2.3", "s3cr3t", "load tenant"} {
		if strings.Contains(w.Body.String(), leak) {
			t.Errorf("body %s contains internal text %q", w.Body.String(), leak)
		}
	}
}

// A handler that knows when to come back says so; WriteError's default
// of 1 second is for those that do not.
func TestWriteErrorKeepsTheHandlersRetryAfter(t *testing.T) {
	for _, code := range []hookrun.Code{hookrun.CodeResourceExhausted, hookrun.CodeUnavailable, hookrun.CodeAborted} {
		t.Run(string(code), func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("Retry-After", "7")
			httpapi.WriteError(w, httptest.NewRequest(http.MethodPost, "/x", nil), hookrun.Errorf(code, "later"))
			if got := w.Header().Get("Retry-After"); got != "7" {
				t.Errorf("Retry-After = %q, want the handler's 7", got)
			}
		})
	}
}

// An error that knows how long a retry should wait says so in
// Retry-After, in whole seconds rounded up, from 1 to a minute.
func TestWriteErrorRetryAfterOfTheError(t *testing.T) {
	tests := []struct {
		code  hookrun.Code
		after time.Duration
		want  string
	}{
		{hookrun.CodeAborted, 0, "1"},
		{hookrun.CodeAborted, 300 * time.Millisecond, "1"},
		{hookrun.CodeAborted, 3200 * time.Millisecond, "4"},
		{hookrun.CodeAborted, 12 * time.Second, "12"},
		{hookrun.CodeAborted, time.Hour, "60"},
		{hookrun.CodeAborted, -time.Second, "1"},
		{hookrun.CodeUnavailable, 5 * time.Second, "5"},
		{hookrun.CodeInvalidArgument, 5 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.code, tt.after), func(t *testing.T) {
			w := httptest.NewRecorder()
			err := fmt.Errorf("claim: %w", &hookrun.Error{Code: tt.code, Message: "later", RetryAfter: tt.after})
			httpapi.WriteError(w, httptest.NewRequest(http.MethodPost, "/x", nil), err)
			if got := w.Header().Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotFoundRoute(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.NotFound(w, httptest.NewRequest(http.MethodPut, "/v2/nothing", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", w.Code)
	}
	want := `{"error":{"code":404,"status":"NOT_FOUND","message":"no route for PUT /v2/nothing"}}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

// Once the request's deadline passed, an uncoded error is the dependency's
// report of it, in whatever form (here a gRPC status as text): 503.
func TestWriteErrorAfterTheRequestsDeadline(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	w := httptest.NewRecorder()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/events", nil)
	httpapi.WriteError(w, r, errors.New("rpc error: code = DeadlineExceeded desc = context deadline exceeded"))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("answer = %d, Retry-After %q; want 503 with a Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}

// An item's error is WriteError's body without the envelope; a retryable
// one says when to retry in a RetryInfo, as the item has no header.
func TestErrorOf(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	got := httpapi.ErrorOf(r, &hookrun.Error{Code: hookrun.CodeResourceExhausted, Message: "slow down", RetryAfter: 2500 * time.Millisecond})
	want := httpapi.ItemError{Code: 429, Status: "RESOURCE_EXHAUSTED", Message: "slow down",
		Details: []httpapi.RetryInfo{{Type: "type.googleapis.com/google.rpc.RetryInfo", RetryDelay: "3s"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ErrorOf = %+v, want %+v", got, want)
	}
	got = httpapi.ErrorOf(r, hookrun.Errorf(hookrun.CodeInvalidArgument, "type: required"))
	if want := (httpapi.ItemError{Code: 400, Status: "INVALID_ARGUMENT", Message: "type: required"}); !reflect.DeepEqual(got, want) {
		t.Errorf("ErrorOf = %+v, want %+v", got, want)
	}
	got = httpapi.ErrorOf(r, errors.New("dial 10.0.0.7: secret"))
	if got.Code != 500 || got.Message != "internal error" || got.Details != nil {
		t.Errorf("ErrorOf of an uncoded error = %+v, want a generic 500", got)
	}
}
