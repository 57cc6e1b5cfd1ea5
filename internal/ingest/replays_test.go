package ingest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// replayRead is GET …/replays/{replay}'s answer.
type replayRead struct {
	Name string `json:"name"`
	Done bool   `json:"done"`
	hookrun.Replay
}

// startReplay POSTs a replay and returns its ID.
func (e *deliveryEnv) startReplay(t *testing.T, path, body string) string {
	t.Helper()
	w := e.do(t, http.MethodPost, path, e.acmeKey, body)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST %s: %d %s; want 202", path, w.Code, w.Body)
	}
	return decode[replayAccepted](t, w).ReplayID
}

// The replay_id a replay answers names a record that reads back its
// state, filter and counts.
func TestGetReplay(t *testing.T) {
	tests := []struct {
		name, path, body string
		filter           hookrun.DeadLetterFilter // Until aside
		state            hookrun.ReplayState
		counts           hookrun.ReplayCounts
	}{
		{"bulk", "/v1/tenants/acme/dead-letters:replay", "", hookrun.DeadLetterFilter{},
			hookrun.ReplayRunning, hookrun.ReplayCounts{Matched: 4, Claimed: 2, Skipped: 2}},
		{"bulk by endpoint", "/v1/tenants/acme/dead-letters:replay", `{"endpoint_id":"ep_a"}`, hookrun.DeadLetterFilter{EndpointID: "ep_a"},
			hookrun.ReplayRunning, hookrun.ReplayCounts{Matched: 2, Claimed: 2}},
		{"nothing to replay: done at once", "/v1/tenants/acme/dead-letters:replay", `{"endpoint_id":"ep_b"}`, hookrun.DeadLetterFilter{EndpointID: "ep_b"},
			hookrun.ReplayDone, hookrun.ReplayCounts{}},
		{"one dead letter", "/v1/tenants/acme/dead-letters/" + evOrder + ":ep_a:replay", "", hookrun.DeadLetterFilter{EndpointID: "ep_a"},
			hookrun.ReplayRunning, hookrun.ReplayCounts{Matched: 1, Claimed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDeliveryEnv(t)
			id := e.startReplay(t, tt.path, tt.body)
			for _, token := range []string{e.acmeKey, adminToken} {
				w := e.do(t, http.MethodGet, "/v1/tenants/acme/replays/"+id, token, "")
				if w.Code != http.StatusOK {
					t.Fatalf("GET replay: %d %s; want 200", w.Code, w.Body)
				}
				got := decode[replayRead](t, w)
				f := got.Filter
				f.Until = time.Time{}
				if got.Name != "tenants/acme/replays/"+id || got.ID != id || got.TenantID != "acme" || f != tt.filter ||
					got.State != tt.state || got.Done != (tt.state != hookrun.ReplayRunning) || got.Counts != tt.counts || got.CreatedAt.IsZero() {
					t.Errorf("GET replay = %s; want %s, filter %+v, counts %+v", w.Body, tt.state, tt.filter, tt.counts)
				}
				if got.Done != !got.EndedAt.IsZero() {
					t.Errorf("GET replay = %s; want an end time when, and only when, done", w.Body)
				}
			}
		})
	}
}

// A replay belongs to its tenant: another tenant's key cannot name it,
// even under its own tenant's path.
func TestGetReplayIsolation(t *testing.T) {
	e := newDeliveryEnv(t)
	id := e.startReplay(t, "/v1/tenants/acme/dead-letters:replay", "")
	tests := []struct {
		name, path, token string
		status            int
		code              hookrun.Code
		msg               string
	}{
		{"another tenant's key", "/v1/tenants/acme/replays/" + id, e.globexKey, 403, hookrun.CodePermissionDenied, "acme"},
		{"under another tenant", "/v1/tenants/globex/replays/" + id, e.globexKey, 404, hookrun.CodeNotFound, id},
		{"admin under another tenant", "/v1/tenants/globex/replays/" + id, adminToken, 404, hookrun.CodeNotFound, id},
		{"unknown replay", "/v1/tenants/acme/replays/rp_nope", e.acmeKey, 404, hookrun.CodeNotFound, "rp_nope"},
		{"no credentials", "/v1/tenants/acme/replays/" + id, "", 401, hookrun.CodeUnauthenticated, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, http.MethodGet, tt.path, tt.token, ""), tt.status, tt.code, tt.msg)
		})
	}
}
