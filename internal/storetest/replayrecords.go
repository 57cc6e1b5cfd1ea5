package storetest

import (
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// getReplay reads replay id of acme, failing the test when it cannot.
func getReplay(t *testing.T, s Store, id string) hookrun.Replay {
	t.Helper()
	r, err := s.GetReplay(t.Context(), "acme", id)
	if err != nil {
		t.Fatalf("GetReplay(%s): %v", id, err)
	}
	return r
}

// A replay's record round-trips, belongs to its tenant, and changes only
// through UpdateReplay.
func testReplayRecords(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	at := Now()
	f := hookrun.DeadLetterFilter{EndpointID: "ep_a", EventType: "order.created", Since: at.Add(-2 * hookrun.ReplayClaimTTL), Until: at}
	want := hookrun.NewReplay("acme", "rp_1", f, hookrun.ReplayClaims{Claimed: 3, Skipped: 2, More: true}, at)
	if err := s.CreateReplay(ctx, want); err != nil {
		t.Fatalf("CreateReplay: %v", err)
	}
	WantCode(t, "CreateReplay(same ID)", s.CreateReplay(ctx, want), hookrun.CodeAlreadyExists)
	if got := getReplay(t, s, "rp_1"); got != want {
		t.Errorf("GetReplay = %+v; want %+v", got, want)
	}
	_, err := s.GetReplay(ctx, "globex", "rp_1")
	WantCode(t, "GetReplay(another tenant's)", err, hookrun.CodeNotFound)
	_, err = s.UpdateReplay(ctx, "globex", "rp_1", func(r hookrun.Replay) hookrun.Replay { return r })
	WantCode(t, "UpdateReplay(another tenant's)", err, hookrun.CodeNotFound)

	later := at.Add(hookrun.ReplayClaimTTL)
	tests := []struct {
		name  string
		apply func(hookrun.Replay) hookrun.Replay
		check func(hookrun.Replay) bool
	}{
		{"started", func(r hookrun.Replay) hookrun.Replay { return r.Started(at) },
			func(r hookrun.Replay) bool { return r.State == hookrun.ReplayRunning && r.StartedAt.Equal(at) }},
		{"progressed", func(r hookrun.Replay) hookrun.Replay { return r.Progressed(2, 1) },
			func(r hookrun.Replay) bool { return r.Counts.Replayed == 2 && r.Counts.Skipped == 3 }},
		{"failed", func(r hookrun.Replay) hookrun.Replay { return r.Finished(later, "stopped") },
			func(r hookrun.Replay) bool {
				return r.State == hookrun.ReplayFailed && r.Error == "stopped" && r.EndedAt.Equal(later)
			}},
		{"done", func(r hookrun.Replay) hookrun.Replay { return r.Started(later).Finished(later, "") },
			func(r hookrun.Replay) bool {
				return r.State == hookrun.ReplayDone && r.Error == "" && r.StartedAt.Equal(at) && r.Counts.Skipped == 3 && r.Filter == f
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UpdateReplay(ctx, "acme", "rp_1", tt.apply)
			if err != nil {
				t.Fatalf("UpdateReplay: %v", err)
			}
			if read := getReplay(t, s, "rp_1"); read != got || !tt.check(got) {
				t.Errorf("UpdateReplay = %+v, read back %+v; want them equal and %s", got, read, tt.name)
			}
		})
	}
}

// GetReplay counts the outcomes of the deliveries in the replay's chain
// when it is read, whatever the record says.
func testReplayCountsOutcomes(t *testing.T, open Opener) {
	s := open.store(t)
	seedDeadLetters(t, s)
	ctx := t.Context()
	claims, err := s.ClaimDeadLetters(ctx, "acme", hookrun.DeadLetterFilter{EndpointID: "ep_a"}, "rp_1", 100, nil)
	if err != nil {
		t.Fatalf("ClaimDeadLetters: %v", err)
	}
	if err := s.CreateReplay(ctx, hookrun.NewReplay("acme", "rp_1", hookrun.DeadLetterFilter{EndpointID: "ep_a"}, claims, Now())); err != nil {
		t.Fatalf("CreateReplay: %v", err)
	}
	// Of ep_a's four dead letters, dl:4 stays claimed and not started.
	outcomes := map[string]hookrun.DeliveryState{"dl1": hookrun.DeliverySucceeded, "dl3": hookrun.DeliveryRetrying, "dl6": hookrun.DeliveryDead}
	for eventID, state := range outcomes {
		if ok, err := s.StartReplay(ctx, "acme", eventID, "ep_a", "rp_1"); !ok || err != nil {
			t.Fatalf("StartReplay(%s) = %v, %v", eventID, ok, err)
		}
		d := getDelivery(t, s, eventID, "ep_a")
		d.State, d.ChainAttempts = state, 1
		if err := s.SetDeliveryState(ctx, d); err != nil {
			t.Fatalf("SetDeliveryState(%s): %v", eventID, err)
		}
	}
	got := getReplay(t, s, "rp_1").Counts
	want := hookrun.ReplayCounts{Matched: 4, Claimed: 4, Delivered: 1, Retrying: 1, Dead: 1}
	if got != want {
		t.Errorf("counts = %+v; want %+v", got, want)
	}
}

// A tenant's replays go with it.
func testReplaysDeletedWithTenant(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	seedTenantData(t, s, "acme", 1)
	if err := s.CreateReplay(ctx, hookrun.NewReplay("acme", "rp_1", hookrun.DeadLetterFilter{}, hookrun.ReplayClaims{}, Now())); err != nil {
		t.Fatalf("CreateReplay: %v", err)
	}
	markDeleting(t, s, "acme")
	if _, done, err := s.DeleteTenantData(ctx, "acme", 0); !done || err != nil {
		t.Fatalf("DeleteTenantData = %v, %v; want done", done, err)
	}
	_, err := s.GetReplay(ctx, "acme", "rp_1")
	WantCode(t, "GetReplay after the tenant was deleted", err, hookrun.CodeNotFound)
}
