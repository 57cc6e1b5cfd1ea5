package ingest_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// What the fuzz targets of the ingest API share: the promises every
// answer to an untrusted body keeps, and those of what it stores.

// fuzzMaxBody is the body limit of the fuzz targets' services, the
// smallest the configuration allows, so that 413 is within the fuzzer's
// reach.
const fuzzMaxBody = 1024

// newFuzzEnv is a fresh ingest service on fakes for one fuzz input, so
// that every input meets the same state and a failure replays.
func newFuzzEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, func(c *ingest.Config) { c.MaxBodyBytes = fuzzMaxBody })
}

// send POSTs (or PATCHes…) body with the given Content-Type as the caller
// of token.
func (e *env) send(method, path, token, contentType string, body []byte) *httptest.ResponseRecorder {
	return doRaw(e, method, path, "Bearer "+token, contentType, bytes.NewReader(body))
}

// checkText checks free text a caller had stored (a name, a
// description): valid UTF-8 without NUL, CR or LF, which break log lines,
// headers and the consoles that show it.
func checkText(t *testing.T, field, s string) {
	t.Helper()
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
		t.Fatalf("stored %s %q: want valid UTF-8 without NUL, CR or LF", field, s)
	}
}

// checkTenant checks a stored tenant against the domain's rules.
func checkTenant(t *testing.T, tn hookrun.Tenant) {
	t.Helper()
	if err := hookrun.ValidateTenantID(tn.ID); err != nil {
		t.Fatalf("stored tenant id: %v", err)
	}
	checkText(t, "tenant name", tn.Name)
	if tn.Name == "" || tn.Name != strings.TrimSpace(tn.Name) || utf8.RuneCountInString(tn.Name) > 200 {
		t.Fatalf("stored tenant name %q: want 1-200 characters, trimmed", tn.Name)
	}
	if err := tn.RetryPolicy.Validate(); err != nil {
		t.Fatalf("stored tenant retry policy %+v: %v", tn.RetryPolicy, err)
	}
	if err := tn.Limits.Validate(); err != nil {
		t.Fatalf("stored tenant limits %+v: %v", tn.Limits, err)
	}
	switch {
	case tn.Status == hookrun.TenantActive && tn.DisabledReason == "":
	case tn.Status == hookrun.TenantDisabled && tn.DisabledReason != "":
	default:
		t.Fatalf("stored tenant status %q, disabled reason %q", tn.Status, tn.DisabledReason)
	}
}

// storedTenant reads a tenant from the store.
func (e *env) storedTenant(t *testing.T, id string) hookrun.Tenant {
	t.Helper()
	tn, err := e.store.GetTenant(context.Background(), id)
	if err != nil {
		t.Fatalf("stored tenant %q: %v", id, err)
	}
	return tn
}
