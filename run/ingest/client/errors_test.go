package client

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadError feeds readError the answers a server (or whatever stands
// between it and the client) might give: any status, body and
// Retry-After. The error it makes always has the status and a code, and
// never a negative Retry-After.
func FuzzReadError(f *testing.F) {
	f.Add(429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down"}}`, "2")
	f.Add(503, `{"error":{"code":503,"status":"UNAVAILABLE","message":"retry"}}`, "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(502, "<html>Bad Gateway</html>", "")
	f.Add(409, `{"error":{"status":""}}`, "-1")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		if status < 400 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}, Body: io.NopCloser(strings.NewReader(body))}
		e := readError(resp)
		if e.StatusCode != status || e.Code == "" || e.RetryAfter < 0 {
			t.Errorf("readError(%d, %q, Retry-After %q) = %+v", status, body, retryAfter, e)
		}
		if len(e.Message) > maxErrorBytes {
			t.Errorf("message of %d bytes, over the bound of %d", len(e.Message), maxErrorBytes)
		}
	})
}
