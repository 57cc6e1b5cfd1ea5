package storetest

import (
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

func testDeadInARowCounter(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ep, _ := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: "https://a.example/h", EventTypes: []string{"*"}, RateLimit: 5}, hookrun.URLPolicy{}, Now())
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := s.CountDeadInARow(ctx, "acme", ep.ID); err != nil || n != want {
			t.Fatalf("CountDeadInARow = %d, %v; want %d", n, err, want)
		}
	}
	if err := s.ResetDeadInARow(ctx, "acme", ep.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetEndpoint(ctx, "acme", ep.ID)
	if got.ConsecutiveDead != 0 || got.RateLimit != 5 {
		t.Errorf("after reset: %d in a row, rate limit %d; want 0 and 5", got.ConsecutiveDead, got.RateLimit)
	}
	if _, err := s.CountDeadInARow(ctx, "acme", "ep_missing"); hookrun.ErrorCode(err) != hookrun.CodeNotFound {
		t.Errorf("missing endpoint: %v, want NOT_FOUND", err)
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
