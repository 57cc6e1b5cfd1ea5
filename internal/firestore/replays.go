package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A replay claims the dead letters it will send (replay_chain,
// replay_claim_time) with a compare-and-set on each document's update
// time, so that of two replays racing for one dead letter exactly one wins;
// the dispatcher then starts the replay's chain on each claimed dead
// letter in a transaction (StartReplay), so a late or repeated job message
// cannot start it twice. See hookrun.Delivery.ClaimableAt for the rule.

// ClaimDeadLetter claims one dead letter for the replay chain. It is
// CodeNotFound when there is no such delivery and CodeFailedPrecondition
// when it is not a dead letter or another replay holds it.
func (s *Store) ClaimDeadLetter(ctx context.Context, tenantID, eventID, endpointID, chain string) error {
	ref := s.deliveryRef(tenantID, eventID, endpointID)
	what := fmt.Sprintf("delivery %q", hookrun.DeliveryID(eventID, endpointID))
	snap, err := ref.Get(ctx)
	if err != nil {
		return coded(err, what)
	}
	d, err := decodeDelivery(tenantID, snap, false)
	if err != nil {
		return err
	}
	if err := d.ClaimableAt(s.now()); err != nil {
		return err
	}
	_, err = ref.Update(ctx, s.claimUpdates(chain), fs.LastUpdateTime(snap.UpdateTime))
	if lostRace(err) {
		return hookrun.Errorf(hookrun.CodeFailedPrecondition, "dead letter %q is being replayed by another request", hookrun.DeliveryID(eventID, endpointID))
	}
	return coded(err, what)
}

// ClaimDeadLetters claims for the replay chain up to limit dead letters of
// a tenant that match f and that eligible accepts (nil accepts all). Dead
// letters another replay holds, or that eligible refuses, are skipped and
// counted. When it fails part way, the claims made stay: ReleaseReplay
// drops them.
func (s *Store) ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error) {
	var out hookrun.ReplayClaims
	now := s.now()
	bw := s.c.BulkWriter(ctx)
	var jobs []*fs.BulkWriterJob
	it := s.deadLetterQuery(tenantID, f).Documents(ctx)
	defer it.Stop()
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			bw.End()
			return out, coded(err, "dead letters")
		}
		d, err := decodeDelivery(tenantID, snap, false)
		if err != nil {
			bw.End()
			return out, err
		}
		if d.ClaimableAt(now) != nil || (eligible != nil && !eligible(d)) {
			out.Skipped++
			continue
		}
		if len(jobs) == limit {
			out.More = true
			break
		}
		j, err := bw.Update(snap.Ref, s.claimUpdates(chain), fs.LastUpdateTime(snap.UpdateTime))
		if err != nil {
			bw.End()
			return out, fmt.Errorf("claim dead letter %s: %w", snap.Ref.ID, err)
		}
		jobs = append(jobs, j)
	}
	bw.End()
	var firstErr error
	for _, j := range jobs {
		_, err := j.Results()
		switch {
		case err == nil:
			out.Claimed++
		case lostRace(err):
			out.Skipped++ // another replay claimed it between the read and the write
		case firstErr == nil:
			firstErr = coded(err, "dead letters")
		}
	}
	return out, firstErr
}

// ReleaseReplay drops the claims of a replay whose chain will not start
// (its message could not be published), so the dead letters can be
// replayed again at once.
func (s *Store) ReleaseReplay(ctx context.Context, tenantID, chain string) error {
	return s.eachReplayClaim(ctx, tenantID, chain, func(snap *fs.DocumentSnapshot, d hookrun.Delivery) error {
		if d.State != hookrun.DeliveryDead || d.Chain == chain {
			return nil // started: no longer a claim
		}
		_, err := snap.Ref.Update(ctx, []fs.Update{{Path: "replay_chain", Value: ""}}, fs.LastUpdateTime(snap.UpdateTime))
		if err != nil && !lostRace(err) {
			return coded(err, fmt.Sprintf("delivery %q", snap.Ref.ID))
		}
		return nil
	})
}

// EachReplayClaim calls fn for every delivery of a tenant that the replay
// chain claimed, started or not, without attempts, until fn returns an
// error.
func (s *Store) EachReplayClaim(ctx context.Context, tenantID, chain string, fn func(hookrun.Delivery) error) error {
	return s.eachReplayClaim(ctx, tenantID, chain, func(_ *fs.DocumentSnapshot, d hookrun.Delivery) error { return fn(d) })
}

func (s *Store) eachReplayClaim(ctx context.Context, tenantID, chain string, fn func(*fs.DocumentSnapshot, hookrun.Delivery) error) error {
	it := s.tenantRef(tenantID).Collection("deliveries").Where("replay_chain", "==", chain).Documents(ctx)
	defer it.Stop()
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			return nil
		}
		if err != nil {
			return coded(err, "replay claims")
		}
		d, err := decodeDelivery(tenantID, snap, false)
		if err != nil {
			return err
		}
		if err := fn(snap, d); err != nil {
			return err
		}
	}
}

// StartReplay starts the replay chain on a dead letter it claimed: in one
// transaction, the delivery becomes pending in the chain, with no attempt
// yet. It reports false, changing nothing, when the delivery is no longer
// a dead letter claimed by chain (another replay took it after the claim
// lapsed, or the chain already started).
func (s *Store) StartReplay(ctx context.Context, tenantID, eventID, endpointID, chain string) (started bool, err error) {
	ref := s.deliveryRef(tenantID, eventID, endpointID)
	err = s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		started = false
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		d, err := decodeDelivery(tenantID, snap, false)
		if err != nil {
			return err
		}
		if d.State != hookrun.DeliveryDead || d.ReplayChain != chain || d.Chain == chain {
			return nil
		}
		started = true
		now := s.now().UTC()
		return tx.Update(ref, []fs.Update{
			{Path: "state", Value: string(hookrun.DeliveryPending)},
			{Path: "chain", Value: chain},
			{Path: "chain_attempts", Value: 0},
			{Path: "next_attempt_time", Value: time.Time{}},
			{Path: "dead_reason", Value: ""},
			{Path: "dead_time", Value: time.Time{}},
			{Path: "announced", Value: false},
			{Path: "counts_in_a_row", Value: false},
			{Path: "update_time", Value: now},
		})
	})
	return started, coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(eventID, endpointID)))
}

func (s *Store) claimUpdates(chain string) []fs.Update {
	return []fs.Update{
		{Path: "replay_chain", Value: chain},
		{Path: "replay_claim_time", Value: s.now().UTC()},
	}
}

// lostRace reports whether a write failed its update-time precondition:
// the document changed since it was read.
func lostRace(err error) bool { return status.Code(err) == codes.FailedPrecondition }
