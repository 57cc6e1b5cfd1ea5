package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

// Every API route that writes an endpoint marks its tenant's events as
// accepted just after a change made here (wire.AttrEndpointsChanged) for
// the window, and no other tenant's.
func TestEndpointWritesMarkTheirTenant(t *testing.T) {
	s, err := NewMatrixService(Config{AdminToken: matrixAdminToken})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	var mu sync.Mutex // handlers' background work reads the clock too
	now := time.Now()
	s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	f := &matrixFixture{h: s.Handler()}
	call := func(method, path, token, body string) map[string]any {
		t.Helper()
		w := f.do(t, method, path, token, body)
		if w.Code/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		var v map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &v)
		return v
	}
	key, _ := call(http.MethodPost, "/v1/tenants", matrixAdminToken, `{"id":"acme","name":"Acme"}`)["api_key"].(string)
	call(http.MethodPost, "/v1/tenants", matrixAdminToken, `{"id":"globex","name":"Globex"}`)
	if s.endpointsChangedHere("acme") {
		t.Fatal("acme marked before any endpoint write")
	}

	var id string
	for _, step := range []struct{ name, method, path, body string }{
		{"create", http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"https://example.com/hooks","event_types":["*"]}`},
		{"update", http.MethodPatch, "/v1/tenants/acme/endpoints/%s", `{"description":"CRM"}`},
		{"verify", http.MethodPost, "/v1/tenants/acme/endpoints/%s:verify", ""},
		{"rotate", http.MethodPost, "/v1/tenants/acme/endpoints/%s/secret:rotate", ""},
		{"delete", http.MethodDelete, "/v1/tenants/acme/endpoints/%s", ""},
	} {
		advance(wire.EndpointsChangedWindow)
		if s.endpointsChangedHere("acme") {
			t.Fatalf("before %s: acme still marked a window after the last write", step.name)
		}
		path := step.path
		if id != "" {
			path = fmt.Sprintf(path, id)
		}
		if v := call(step.method, path, key, step.body); id == "" {
			id, _ = v["id"].(string)
		}
		advance(wire.EndpointsChangedWindow - time.Millisecond)
		if !s.endpointsChangedHere("acme") || s.endpointsChangedHere("globex") {
			t.Errorf("%s: acme marked %v, globex %v, just within the window; want acme only",
				step.name, s.endpointsChangedHere("acme"), s.endpointsChangedHere("globex"))
		}
	}
}

// The record is bounded: past its size, every tenant counts as changed
// for a window, so no change made here goes unmarked.
func TestRecentEndpointWritesIsBounded(t *testing.T) {
	var w recentEndpointWrites
	now := time.Unix(1000, 0)
	for i := range maxRecentEndpointWrites {
		w.note(fmt.Sprint("t", i), now)
	}
	w.note("last", now)
	if n := len(w.last); n > maxRecentEndpointWrites {
		t.Errorf("record holds %d tenants, want at most %d", n, maxRecentEndpointWrites)
	}
	for _, id := range []string{"t0", "t9999", "last", "never"} {
		if !w.changed(id, now.Add(time.Second)) {
			t.Errorf("changed(%s) = false just after the record filled up, want true", id)
		}
	}
	later := now.Add(wire.EndpointsChangedWindow)
	w.note("later", later)
	if w.changed("never", later) || !w.changed("later", later) {
		t.Errorf("a window after the record filled up: never %v, later %v; want false, true", w.changed("never", later), w.changed("later", later))
	}
}
