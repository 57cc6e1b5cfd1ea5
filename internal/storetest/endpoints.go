package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func testUpdateEndpointRoundTripsEveryField(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ep, err := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: "https://a.example/h", EventTypes: []string{"user.*"}}, hookrun.URLPolicy{}, Now())
	if err != nil {
		t.Fatal(err)
	}
	ep.SecretVersion = "projects/p/secrets/s/versions/1"
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	ep.URL = "https://b.example/h"
	ep.Status, ep.VerificationError = hookrun.EndpointPending, "no answer"
	ep.SecretVersion, ep.PreviousSecretVersion, ep.PreviousSecretUntil = "v2", "v1", Now().Add(time.Hour)
	ep.AuthKind, ep.HeaderNames = hookrun.AuthBasic, []string{"X-Team"}
	ep.RetryPolicy = hookrun.RetryPolicy{MaxAttempts: 3, InitialDelay: hookrun.Duration(2 * time.Second)}
	ep.OnClientError, ep.Timeout = hookrun.ClientErrorDeadLetter, hookrun.Duration(5*time.Second)
	ep.PropagateTrace = true
	if err := s.UpdateEndpoint(ctx, ep); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	got, err := s.GetEndpoint(ctx, "acme", ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if got.URL != ep.URL || got.Status != ep.Status || got.VerificationError != ep.VerificationError ||
		got.SecretVersion != "v2" || got.PreviousSecretVersion != "v1" || !got.PreviousSecretUntil.Equal(ep.PreviousSecretUntil) ||
		got.AuthKind != hookrun.AuthBasic || len(got.HeaderNames) != 1 || got.RetryPolicy != ep.RetryPolicy ||
		got.OnClientError != ep.OnClientError || got.Timeout != ep.Timeout || !got.PropagateTrace {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ep)
	}
	ep.ID = "ep_missing"
	if err := s.UpdateEndpoint(ctx, ep); hookrun.ErrorCode(err) != hookrun.CodeNotFound {
		t.Errorf("UpdateEndpoint(missing) = %v, want NOT_FOUND", err)
	}
}

// deadLetter records the death of endpointID's delivery of eventID in
// chain at its first attempt: a dead letter that counts in a row.
func deadLetter(t *testing.T, s Store, eventID, endpointID, chain string) hookrun.Delivery {
	t.Helper()
	d := hookrun.Delivery{TenantID: "acme", EventID: eventID, EndpointID: endpointID, EventType: "user.created",
		WebhookID: hookrun.WebhookID("acme", eventID, endpointID), State: hookrun.DeliveryDead, Chain: chain,
		ChainAttempts: 1, DeadReason: "gave up after 1 attempt", DeadAt: Now(), CountsInARow: true}
	record(t, s, d, failedAttempt(1, chain, Now()))
	return d
}

// wantDeadInARow counts dead letter d and checks the count after.
func wantDeadInARow(t *testing.T, s Store, d hookrun.Delivery, want int, why string) {
	t.Helper()
	if n, err := s.CountDeadInARow(t.Context(), d); err != nil || n != want {
		t.Fatalf("CountDeadInARow(%s, chain %q), %s = %d, %v; want %d", hookrun.DeliveryID(d.EventID, d.EndpointID), d.Chain, why, n, err, want)
	}
}

// The dead letters in a row count each dead letter once, however often
// the dispatcher asks (a follow-up retried after an error or a crash),
// and a replayed one that dies again once more.
func testDeadInARowCounter(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ep, _ := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: "https://a.example/h", EventTypes: []string{"*"}, RateLimit: 5}, hookrun.URLPolicy{}, Now())
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	d1 := deadLetter(t, s, "evt_1", ep.ID, "")
	if got := getDelivery(t, s, d1.EventID, ep.ID); !got.CountsInARow {
		t.Errorf("stored dead letter %+v does not count in a row", got)
	}
	wantDeadInARow(t, s, d1, 1, "first")
	wantDeadInARow(t, s, d1, 1, "the same dead letter again")
	d2 := deadLetter(t, s, "evt_2", ep.ID, "")
	wantDeadInARow(t, s, d2, 2, "another delivery's")
	wantDeadInARow(t, s, d1, 2, "the first again")

	// evt_1's dead letter replayed, dying again in its new chain.
	if err := s.ClaimDeadLetter(ctx, "acme", d1.EventID, ep.ID, "rp_1"); err != nil {
		t.Fatalf("ClaimDeadLetter: %v", err)
	}
	if ok, err := s.StartReplay(ctx, "acme", d1.EventID, ep.ID, "rp_1"); !ok || err != nil {
		t.Fatalf("StartReplay = %v, %v", ok, err)
	}
	if got := getDelivery(t, s, d1.EventID, ep.ID); got.CountsInARow {
		t.Errorf("replay started, the delivery still counts in a row: %+v", got)
	}
	d1 = deadLetter(t, s, "evt_1", ep.ID, "rp_1")
	wantDeadInARow(t, s, d1, 3, "the replayed chain's")
	wantDeadInARow(t, s, d1, 3, "the replayed chain's again")
	first := d1
	first.Chain = ""
	wantDeadInARow(t, s, first, 3, "the first chain's again, after the replayed chain's")

	if err := s.ResetDeadInARow(ctx, "acme", ep.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetEndpoint(ctx, "acme", ep.ID)
	if got.ConsecutiveDead != 0 || got.RateLimit != 5 {
		t.Errorf("after reset: %d in a row, rate limit %d; want 0 and 5", got.ConsecutiveDead, got.RateLimit)
	}
	wantDeadInARow(t, s, d2, 0, "counted before the reset, again after it")

	missingEndpoint := deadLetter(t, s, "evt_3", "ep_missing", "")
	WantCode(t, "CountDeadInARow(missing endpoint)", second(s.CountDeadInARow(ctx, missingEndpoint)), hookrun.CodeNotFound)
	missingDelivery := d2
	missingDelivery.EventID = "evt_missing"
	WantCode(t, "CountDeadInARow(missing delivery)", second(s.CountDeadInARow(ctx, missingDelivery)), hookrun.CodeNotFound)
}

// second returns the error of a call that returns a value and an error.
func second[T any](_ T, err error) error { return err }

// A burst: an endpoint that fails for good has many deliveries die at
// about the same time. Each counts, none times out on the endpoint, and
// each counted again at once (every follow-up retried) adds nothing.
func testDeadInARowBurst(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ep := newEndpoint(t, "acme", "https://a.example/h", Now(), "*")
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const burst = 25
	dead := make([]hookrun.Delivery, burst)
	for i := range dead {
		dead[i] = deadLetter(t, s, fmt.Sprintf("evt_%02d", i), ep.ID, "")
	}
	countAll := func(round string) []int {
		counts := make([]int, burst)
		var wg sync.WaitGroup
		for i, d := range dead {
			wg.Go(func() {
				n, err := s.CountDeadInARow(ctx, d)
				if err != nil {
					t.Errorf("%s: CountDeadInARow(%s): %v", round, d.EventID, err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		return counts
	}
	first := countAll("first count")
	if got, _ := s.GetEndpoint(ctx, "acme", ep.ID); got.ConsecutiveDead != burst {
		t.Errorf("after %d dead letters counted at once: %d in a row", burst, got.ConsecutiveDead)
	}
	if !slices.Contains(first, burst) {
		t.Errorf("counts returned %v: none saw the count reach %d, so none would disable the endpoint", first, burst)
	}
	again := countAll("counted again")
	if got, _ := s.GetEndpoint(ctx, "acme", ep.ID); got.ConsecutiveDead != burst {
		t.Errorf("after counting the same %d dead letters again: %d in a row", burst, got.ConsecutiveDead)
	}
	for i, n := range again {
		if n != burst {
			t.Errorf("dead letter %d counted again returned %d, want the count %d", i, n, burst)
		}
	}
}

// Status changes are stamped with the time they commit, whatever time the
// caller decided them at: that is when the endpoint stopped (or started)
// being active for the events ingest accepts meanwhile.
func testStatusChangesAreStampedWhenTheyCommit(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ep := newEndpoint(t, "acme", "https://a.example/h", Now().Add(-2*time.Hour), "user.*")
	ep.Status = hookrun.EndpointPending
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	decided := Now().Add(-time.Hour) // a caller that took its time
	before := Now().Add(-time.Second)
	ep.SetStatus(hookrun.EndpointActive, decided)
	if err := s.UpdateEndpoint(ctx, ep); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	got, err := s.GetEndpoint(ctx, "acme", ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if got.ActiveSince.Before(before) {
		t.Errorf("active since %v; want the commit time, not the %v the caller decided at", got.ActiveSince, decided)
	}
	// An update that changes no status keeps the stamps.
	got.Description = "renamed"
	if err := s.UpdateEndpoint(ctx, got); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	again, _ := s.GetEndpoint(ctx, "acme", ep.ID)
	if !again.ActiveSince.Equal(got.ActiveSince) || !again.InactiveSince.IsZero() {
		t.Errorf("after an update without a status change: active since %v, inactive since %v; want %v and none", again.ActiveSince, again.InactiveSince, got.ActiveSince)
	}
	again.SetStatus(hookrun.EndpointDisabled, decided)
	if err := s.UpdateEndpoint(ctx, again); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	disabled, _ := s.GetEndpoint(ctx, "acme", ep.ID)
	if disabled.InactiveSince.Before(got.ActiveSince) || !disabled.Owes(got.ActiveSince) {
		t.Errorf("inactive since %v (active since %v); want the commit time, owing what was accepted while it was active", disabled.InactiveSince, got.ActiveSince)
	}
}

// Every method that writes an endpoint gives its tenant's endpoint list a
// new version (EndpointsChanged), in the same transaction: the dispatcher
// trusts a cached list while the version is the one it was read at, so a
// write that does not move it leaves the dispatcher on a stale list. A new
// method that writes endpoints belongs in this table.
func testEveryEndpointChangeMovesTheVersion(t *testing.T, open Opener) {
	tests := []struct {
		name   string
		change func(ctx context.Context, s Store, ep hookrun.Endpoint) error
	}{
		{"CreateEndpoint", func(ctx context.Context, s Store, _ hookrun.Endpoint) error {
			return s.CreateEndpoint(ctx, newEndpoint(t, "acme", "https://b.example/h", Now(), "*"))
		}},
		{"UpdateEndpoint", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			ep.URL = "https://renamed.example/h"
			return s.UpdateEndpoint(ctx, ep)
		}},
		{"UpdateEndpoint status", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			ep.SetStatus(hookrun.EndpointDisabled, Now())
			return s.UpdateEndpoint(ctx, ep)
		}},
		{"UpdateEndpoint verification", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			ep.Status, ep.VerificationError = hookrun.EndpointPending, "no answer"
			return s.UpdateEndpoint(ctx, ep)
		}},
		{"DeleteEndpoint", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			return s.DeleteEndpoint(ctx, "acme", ep.ID)
		}},
		{"DisableEndpoint", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			return s.DisableEndpoint(ctx, "acme", ep.ID, "gone")
		}},
		{"ClearPreviousSecret", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			if ok, err := s.ClearPreviousSecret(ctx, "acme", ep.ID, "v1"); !ok {
				return fmt.Errorf("ClearPreviousSecret cleared nothing: %v", err)
			}
			return nil
		}},
		{"CountDeadInARow", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			_, err := s.CountDeadInARow(ctx, deadLetter(t, s, "evt_1", ep.ID, ""))
			return err
		}},
		{"ResetDeadInARow", func(ctx context.Context, s Store, ep hookrun.Endpoint) error {
			return s.ResetDeadInARow(ctx, "acme", ep.ID)
		}},
		{"DeleteTenantData", func(ctx context.Context, s Store, _ hookrun.Endpoint) error {
			markDeleting(t, s, "acme")
			_, _, err := s.DeleteTenantData(ctx, "acme", 0)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open.store(t)
			ctx := t.Context()
			createTenant(t, s, "acme", Now())
			ep := newEndpoint(t, "acme", "https://a.example/h", Now(), "*")
			ep.PreviousSecretVersion, ep.PreviousSecretUntil = "v1", Now().Add(time.Hour)
			ep.ConsecutiveDead = 2
			if err := s.CreateEndpoint(ctx, ep); err != nil {
				t.Fatalf("CreateEndpoint: %v", err)
			}
			if err := s.CreateEndpoint(ctx, newEndpoint(t, "globex", "https://g.example/h", Now(), "*")); err != nil {
				t.Fatalf("CreateEndpoint(globex): %v", err)
			}
			before := endpointsVersion(t, s, "acme")
			if before == (hookrun.EndpointsVersion{}) {
				t.Fatalf("version after CreateEndpoint is the zero one")
			}
			other := endpointsVersion(t, s, "globex")
			if err := tc.change(ctx, s, ep); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if after := endpointsVersion(t, s, "acme"); after.Equal(before) {
				t.Errorf("after %s the version is still %+v", tc.name, after)
			}
			if got := endpointsVersion(t, s, "globex"); !got.Equal(other) {
				t.Errorf("after %s of acme, globex's version is %+v, want its own %+v", tc.name, got, other)
			}
		})
	}
	t.Run("reads and changes that change nothing", func(t *testing.T) {
		s := open.store(t)
		ep := newEndpoint(t, "acme", "https://a.example/h", Now(), "*")
		if err := s.CreateEndpoint(t.Context(), ep); err != nil {
			t.Fatal(err)
		}
		v := endpointsVersion(t, s, "acme")
		if _, err := s.GetEndpoint(t.Context(), "acme", ep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListEndpoints(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		if err := s.ResetDeadInARow(t.Context(), "acme", ep.ID); err != nil {
			t.Fatal(err)
		}
		if got := endpointsVersion(t, s, "acme"); !got.Equal(v) {
			t.Errorf("reading endpoints, or resetting a counter at zero, moved the version from %+v to %+v", v, got)
		}
		if got := endpointsVersion(t, s, "never"); got != (hookrun.EndpointsVersion{}) {
			t.Errorf("a tenant without endpoints has version %+v, want the zero one", got)
		}
	})
}

func endpointsVersion(t *testing.T, s Store, tenantID string) hookrun.EndpointsVersion {
	t.Helper()
	v, err := s.EndpointsChanged(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("EndpointsChanged(%s): %v", tenantID, err)
	}
	return v
}
