package firestore

import (
	"context"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Between a status change's commit and its second stamp, a reader that
// sees the endpoint inactive must still owe the events accepted at that
// moment: the emulator may make the change visible later than its commit
// time, so an event accepted after the commit time may have been accepted
// while the endpoint still looked active. The fault test lost such events
// when the dispatcher read the first stamp.
func TestInactiveBeforeSecondStampOwesEventsAcceptedNow(t *testing.T) {
	changes := []struct {
		name    string
		disable func(context.Context, *Store, hookrun.Endpoint) error
	}{
		{"DisableEndpoint", func(ctx context.Context, s *Store, ep hookrun.Endpoint) error {
			return s.DisableEndpoint(ctx, ep.TenantID, ep.ID, "too many dead letters")
		}},
		{"UpdateEndpoint", func(ctx context.Context, s *Store, ep hookrun.Endpoint) error {
			ep.SetStatus(hookrun.EndpointDisabled, time.Now())
			return s.UpdateEndpoint(ctx, ep)
		}},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			ctx := t.Context()
			ep, err := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: "https://a.example/h", EventTypes: []string{"*"}}, hookrun.URLPolicy{}, now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			ep.SetStatus(hookrun.EndpointActive, now().Add(-time.Hour))
			if err := s.CreateEndpoint(ctx, ep); err != nil {
				t.Fatalf("CreateEndpoint: %v", err)
			}
			seen := false
			s.beforeRestamp = func() {
				got, err := s.GetEndpoint(ctx, "acme", ep.ID)
				if err != nil {
					t.Errorf("GetEndpoint: %v", err)
					return
				}
				seen = got.Status == hookrun.EndpointDisabled
				if accepted := time.Now(); !got.Owes(accepted) {
					t.Errorf("before the second stamp: inactive since %v, owes nothing accepted at %v", got.InactiveSince, accepted)
				}
			}
			if err := tt.disable(ctx, s, ep); err != nil {
				t.Fatal(err)
			}
			if !seen {
				t.Fatal("the hook did not see the endpoint disabled")
			}
			// After the second stamp, InactiveSince is the server's time:
			// events accepted from now on are not owed.
			got, _ := s.GetEndpoint(ctx, "acme", ep.ID)
			if later := time.Now().Add(time.Second); got.Owes(later) || got.InactiveSince.After(time.Now()) {
				t.Errorf("after the second stamp: inactive since %v, in the future", got.InactiveSince)
			}
		})
	}
}
