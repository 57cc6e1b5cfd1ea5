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
// recorded: those that were in flight at the crash.
func (s *Service) replayClaimed(ctx context.Context, tenantID, chain string) error {
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxFanOut)
	var replayed, skipped atomic.Int64
	err := s.store.EachReplayClaim(ctx, tenantID, chain, func(d hookrun.Delivery) error {
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
		default:
			skipped.Add(1) // replayed by this replay job already
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
	return s.settle(ctx, attempt{tenant: t, event: e, ep: &ep, chain: d.Chain, n: 1, body: hookrun.WebhookBody(e)})
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
