package memstore

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A replay claims the dead letters it will send by the domain's rule
// (hookrun.Delivery.ClaimableAt), under the store's lock where Firestore
// compares and sets each document.

// ClaimDeadLetter claims one dead letter for the replay chain. It is
// CodeNotFound when there is no such delivery and CodeFailedPrecondition
// when it is not a dead letter or another replay holds it.
func (s *Store) ClaimDeadLetter(ctx context.Context, tenantID, eventID, endpointID, chain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deliveries[key(tenantID, hookrun.DeliveryID(eventID, endpointID))]
	if !ok {
		return deliveryNotFound(eventID, endpointID)
	}
	now := s.now()
	if err := r.d.ClaimableAt(now); err != nil {
		return err
	}
	r.d.ReplayChain, r.d.ReplayClaimedAt = chain, stamp(now)
	return nil
}

// ClaimDeadLetters claims for the replay chain up to limit dead letters of
// a tenant that match f and that eligible accepts (nil accepts all); the
// others are skipped and counted.
func (s *Store) ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out hookrun.ReplayClaims
	now := s.now()
	for _, d := range s.deadLetters(tenantID, f, false) {
		if d.ClaimableAt(now) != nil || (eligible != nil && !eligible(d)) {
			out.Skipped++
			continue
		}
		if out.Claimed == int64(limit) {
			out.More = true
			break
		}
		r := s.deliveries[key(tenantID, hookrun.DeliveryID(d.EventID, d.EndpointID))]
		r.d.ReplayChain, r.d.ReplayClaimedAt = chain, stamp(now)
		out.Claimed++
	}
	return out, nil
}

// ReleaseReplay drops the claims of a replay whose chain will not start,
// so the dead letters can be replayed again at once.
func (s *Store) ReleaseReplay(ctx context.Context, tenantID, chain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.deliveries {
		if ofTenant(k, tenantID) && r.d.ReplayChain == chain && r.d.State == hookrun.DeliveryDead && r.d.Chain != chain {
			r.d.ReplayChain = ""
		}
	}
	return nil
}

// EachReplayClaim calls fn for every delivery of a tenant that the replay
// chain claimed, started or not, without attempts, until fn returns an
// error. fn runs without the store's lock: it may call the store.
func (s *Store) EachReplayClaim(ctx context.Context, tenantID, chain string, fn func(hookrun.Delivery) error) error {
	s.mu.Lock()
	claimed := s.query(tenantID, false, func(d hookrun.Delivery) bool { return d.ReplayChain == chain })
	s.mu.Unlock()
	for _, d := range claimed {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// StartReplay starts the replay chain on a dead letter it claimed: the
// delivery becomes pending in the chain, with no attempt yet. It reports
// false, changing nothing, when the delivery is no longer a dead letter
// claimed by chain; a missing delivery is CodeNotFound.
func (s *Store) StartReplay(ctx context.Context, tenantID, eventID, endpointID, chain string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deliveries[key(tenantID, hookrun.DeliveryID(eventID, endpointID))]
	if !ok {
		return false, deliveryNotFound(eventID, endpointID)
	}
	d := &r.d
	if d.State != hookrun.DeliveryDead || d.ReplayChain != chain || d.Chain == chain {
		return false, nil
	}
	d.State, d.Chain, d.ChainAttempts, d.NextAttemptAt = hookrun.DeliveryPending, chain, 0, time.Time{}
	d.DeadReason, d.DeadAt, d.Announced, d.CountsInARow, d.UpdatedAt = "", time.Time{}, false, false, stamp(s.now())
	return true, nil
}

// CreateReplay stores the record of a new replay; one with its ID is
// CodeAlreadyExists.
func (s *Store) CreateReplay(ctx context.Context, r hookrun.Replay) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(r.TenantID, r.ID)
	if _, ok := s.replays[k]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "replay %q already exists", r.ID)
	}
	s.replays[k] = storedReplay(r)
	return nil
}

// GetReplay returns a tenant's replay with the outcomes of the deliveries
// in its chain counted now.
func (s *Store) GetReplay(ctx context.Context, tenantID, id string) (hookrun.Replay, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replays[key(tenantID, id)]
	if !ok {
		return hookrun.Replay{}, replayNotFound(id)
	}
	for _, d := range s.query(tenantID, false, func(d hookrun.Delivery) bool { return d.ReplayChain == id && d.Chain == id }) {
		switch d.State {
		case hookrun.DeliverySucceeded:
			r.Counts.Delivered++
		case hookrun.DeliveryRetrying:
			r.Counts.Retrying++
		case hookrun.DeliveryDead:
			r.Counts.Dead++
		}
	}
	return r, nil
}

// UpdateReplay replaces a tenant's replay by what apply makes of it and
// returns the result, its counted outcomes zero.
func (s *Store) UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tenantID, id)
	r, ok := s.replays[k]
	if !ok {
		return hookrun.Replay{}, replayNotFound(id)
	}
	out := apply(r)
	out.TenantID, out.ID = tenantID, id
	out = storedReplay(out)
	s.replays[k] = out
	return out, nil
}

func replayNotFound(id string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "replay %q not found", id)
}

// storedReplay is r as Firestore keeps it: times stamped, the counts
// read from the deliveries left out.
func storedReplay(r hookrun.Replay) hookrun.Replay {
	r.CreatedAt, r.StartedAt, r.EndedAt = stamp(r.CreatedAt), stamp(r.StartedAt), stamp(r.EndedAt)
	r.Filter.Since, r.Filter.Until = stamp(r.Filter.Since), stamp(r.Filter.Until)
	r.Counts.Delivered, r.Counts.Retrying, r.Counts.Dead = 0, 0, 0
	return r
}
