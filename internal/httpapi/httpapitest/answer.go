// Package httpapitest checks, in tests, the promises every hookrun API
// answer keeps, whatever the request: an expected status, and errors in
// Google's JSON error shape.
package httpapitest

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// CheckAnswer fails the test unless w's status is one of want and, for an
// error, its body is exactly {"error":{"code","status","message"}} with
// the status's code, as JSON.
func CheckAnswer(t testing.TB, w *httptest.ResponseRecorder, want ...int) {
	t.Helper()
	if !slices.Contains(want, w.Code) {
		t.Fatalf("status %d, want one of %v; body %s", w.Code, want, w.Body)
	}
	if w.Code < 400 {
		return
	}
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code != w.Code || e.Error.Status == "" || e.Error.Message == "" {
		t.Fatalf("error answer %d %q is not {\"error\":{\"code\",\"status\",\"message\"}}: %v", w.Code, w.Body, err)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("error answer Content-Type = %q, want application/json", w.Header().Get("Content-Type"))
	}
}
