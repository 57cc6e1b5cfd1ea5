package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// runReplayJob runs a replay job message from ingest (wire.AttrJob). A
// replay job is idempotent, so a redelivered or interrupted one resumes
// where it stopped.
func (s *Service) runReplayJob(ctx context.Context, env *wire.PushEnvelope) error {
	a := env.Message.Attributes
	tenantID, chain := a[wire.AttrTenantID], a[wire.AttrChain]
	reject := func(reason string) error {
		return s.recordRejected(ctx, env, &rejection{tenantID: tenantID, reason: reason})
	}
	if chain == "" {
		return reject(fmt.Sprintf("job %q without a chain", a[wire.AttrJob]))
	}
	if hookrun.ValidateTenantID(tenantID) != nil {
		return reject(fmt.Sprintf("job %q without a valid tenant_id", a[wire.AttrJob]))
	}
	switch _, err := s.tenant(ctx, tenantID); {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return reject(fmt.Sprintf("job %q for unknown tenant %q", a[wire.AttrJob], tenantID))
	case err != nil:
		return fmt.Errorf("get tenant: %w", err)
	}
	switch a[wire.AttrJob] {
	case wire.JobReplayClaimed:
		return s.replayClaimed(ctx, tenantID, chain)
	case wire.JobReplayDeadLetters:
		var f wire.DeadLetterFilter
		if err := json.Unmarshal(env.Message.Data, &f); err != nil {
			return reject("replay job without a valid filter")
		}
		// Claiming again after a redelivery is harmless: what this chain
		// holds or started is not claimable by it twice.
		if _, err := s.store.ClaimDeadLetters(ctx, tenantID, hookrun.DeadLetterFilter(f), chain, math.MaxInt, nil); err != nil {
			return fmt.Errorf("claim dead letters: %w", err)
		}
		return s.replayClaimed(ctx, tenantID, chain)
	default:
		return reject(fmt.Sprintf("unknown job %q", a[wire.AttrJob]))
	}
}

// replayClaimed replays, in chain, every dead letter of the tenant that
// chain claimed: a first attempt now, then the endpoint's schedule. Run
// again (a redelivered replay job message, after a crash), it skips what it
// started and recorded, and repeats only first attempts started but not
// recorded: those that were in flight at the crash. The replay's record
// follows: running with counts every replayProgressEvery dead letters,
// then done, or failed until a redelivered job resumes it.
func (s *Service) replayClaimed(ctx context.Context, tenantID, chain string) error {
	rec := s.replayRecord(ctx, tenantID, chain)
	rec.update(func(r hookrun.Replay) hookrun.Replay { return r.Started(s.now()) })
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxFanOut)
	var replayed, skipped, seen atomic.Int64
	err := s.store.EachReplayClaim(ctx, tenantID, chain, func(d hookrun.Delivery) error {
		if seen.Add(1)%replayProgressEvery == 0 {
			rec.update(func(r hookrun.Replay) hookrun.Replay { return r.Progressed(replayed.Load(), skipped.Load()) })
		}
		switch {
		case d.State == hookrun.DeliveryDead && d.Chain != chain:
			// Claimed, not started: start it, unless another replay took
			// it after this claim lapsed.
			started, err := s.store.StartReplay(ctx, tenantID, d.EventID, d.EndpointID, chain)
			if err != nil {
				return fmt.Errorf("start replay: %w", err)
			}
			if !started {
				skipped.Add(1)
				return nil
			}
		case d.Chain == chain && d.State == hookrun.DeliveryPending && d.ChainAttempts == 0:
			// Started by an earlier run that stopped before recording
			// the first attempt.
		case d.Chain == chain && d.State == hookrun.DeliveryDead && !d.Announced:
			// Died again at the first attempt of an earlier run, which
			// stopped before counting and announcing the dead letter.
			replayed.Add(1)
			g.Go(func() error { return s.finishDead(ctx, d) })
			return nil
		default:
			replayed.Add(1) // replayed by an earlier run of this job
			return nil
		}
		d.Chain, d.ChainAttempts, d.State = chain, 0, hookrun.DeliveryPending
		replayed.Add(1)
		g.Go(func() error { return s.replayOne(ctx, d) })
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	slog.InfoContext(ctx, "dead letters replayed", "tenant_id", tenantID, "replay_id", chain,
		"replayed", replayed.Load(), "skipped", skipped.Load(), "error", fmt.Sprint(err))
	reason := ""
	if err != nil {
		reason = "the replay stopped on an error; it resumes when the dispatcher retries its job"
	}
	ferr := rec.finish(func(r hookrun.Replay) hookrun.Replay {
		return r.Progressed(replayed.Load(), skipped.Load()).Finished(s.now(), reason)
	})
	if err == nil && ferr != nil {
		// A record left running would never end: the job's redelivery
		// runs again (nothing twice) and records the end.
		err = fmt.Errorf("record the end of the replay: %w", ferr)
	}
	return err
}

// replayProgressEvery is how many dead letters a replay job goes through
// between two writes of its counts: progress a reader can follow at one
// write per that many deliveries.
const replayProgressEvery = 100

// replayRecord is the record of one replay that its job keeps up to date.
// A job without a record (published before records existed) runs the
// same, recording nothing.
type replayRecord struct {
	s               *Service
	ctx             context.Context
	tenantID, chain string
	missing         atomic.Bool
}

func (s *Service) replayRecord(ctx context.Context, tenantID, chain string) *replayRecord {
	return &replayRecord{s: s, ctx: ctx, tenantID: tenantID, chain: chain}
}

// update applies a change of progress; failing, it logs: the counts catch
// up at the next update, and the replay is not held up for them.
func (rr *replayRecord) update(apply func(hookrun.Replay) hookrun.Replay) {
	if err := rr.finish(apply); err != nil {
		slog.WarnContext(rr.ctx, "record the progress of a replay", "tenant_id", rr.tenantID, "replay_id", rr.chain, "error", err.Error())
	}
}

// finish applies a change and returns the store's error.
func (rr *replayRecord) finish(apply func(hookrun.Replay) hookrun.Replay) error {
	if rr.missing.Load() {
		return nil
	}
	_, err := rr.s.store.UpdateReplay(rr.ctx, rr.tenantID, rr.chain, apply)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		rr.missing.Store(true)
		return nil
	}
	return err
}

// replayOne makes the first attempt of a started replay chain, or makes
// the delivery a dead letter again when there is nothing it can be sent
// to: the tenant or endpoint gone or not active, the event past
// retention.
func (s *Service) replayOne(ctx context.Context, d hookrun.Delivery) error {
	t, ep, reason, err := s.target(ctx, d.TenantID, d.EndpointID)
	if err != nil {
		return err
	}
	if reason != "" {
		return s.markDead(ctx, d, reason)
	}
	e, err := s.store.GetEvent(ctx, d.TenantID, d.EventID)
	switch {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return s.markDead(ctx, d, "the event's data is no longer stored (past retention)")
	case err != nil:
		return fmt.Errorf("get event: %w", err)
	}
	return s.settle(ctx, attempt{tenant: t, event: e, ep: &ep, chain: d.Chain, n: 1, body: hookrun.WebhookBody(e), stored: true})
}

// target loads the tenant and endpoint of a retry or replay, or says why
// the delivery can only be a dead letter: the tenant or endpoint deleted
// or not active.
func (s *Service) target(ctx context.Context, tenantID, endpointID string) (t hookrun.Tenant, ep hookrun.Endpoint, deadReason string, err error) {
	t, err = s.tenant(ctx, tenantID)
	switch {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return t, ep, "the tenant was deleted", nil
	case err != nil:
		return t, ep, "", fmt.Errorf("get tenant: %w", err)
	case !t.Active():
		return t, ep, "the tenant is " + string(t.Status), nil
	}
	ep, err = s.store.GetEndpoint(ctx, tenantID, endpointID)
	switch {
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return t, ep, "the endpoint was deleted", nil
	case err != nil:
		return t, ep, "", fmt.Errorf("get endpoint: %w", err)
	case ep.Status != hookrun.EndpointActive:
		return t, ep, ep.InactiveReason(), nil
	}
	return t, ep, "", nil
}
