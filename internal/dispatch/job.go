package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// runJob runs a job message from ingest. A job is idempotent, so a
// redelivered or interrupted one resumes: dead letters already replayed in
// the job's chain are skipped.
func (s *Service) runJob(ctx context.Context, env *pushEnvelope) error {
	a := env.Message.Attributes
	switch a[hookrun.AttrJob] {
	case hookrun.JobReplayDeadLetters:
		var f hookrun.DeadLetterFilter
		if err := json.Unmarshal(env.Message.Data, &f); err != nil {
			return s.store.RecordRejected(ctx, (&rejection{tenantID: a[hookrun.AttrTenantID], reason: "replay job without a valid filter"}).record(env, s.now()))
		}
		return s.replayDeadLetters(ctx, a[hookrun.AttrTenantID], a[hookrun.AttrChain], f)
	default:
		return s.store.RecordRejected(ctx, (&rejection{tenantID: a[hookrun.AttrTenantID], reason: fmt.Sprintf("unknown job %q", a[hookrun.AttrJob])}).record(env, s.now()))
	}
}

// replayDeadLetters replays every dead letter of the tenant matching f in
// chain: a first attempt now, then the endpoint's schedule.
func (s *Service) replayDeadLetters(ctx context.Context, tenantID, chain string, f hookrun.DeadLetterFilter) error {
	if chain == "" {
		return fmt.Errorf("replay job for tenant %s has no chain", tenantID)
	}
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("get tenant: %w", err)
	}
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxFanOut)
	var replayed, skipped atomic.Int64
	err = s.store.EachDeadLetter(ctx, tenantID, f, func(d hookrun.Delivery) error {
		if d.Chain == chain {
			skipped.Add(1) // replayed by this job already, and dead again
			return nil
		}
		g.Go(func() error {
			ep, err := s.store.GetEndpoint(ctx, tenantID, d.EndpointID)
			if err != nil || ep.Status != hookrun.EndpointActive {
				skipped.Add(1) // deleted or disabled: it stays a dead letter
				return nil
			}
			e, err := s.store.GetEvent(ctx, tenantID, d.EventID)
			if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
				skipped.Add(1) // past retention: nothing to send
				return nil
			}
			if err != nil {
				return err
			}
			replayed.Add(1)
			return s.settle(ctx, job{tenant: t, event: e, ep: &ep, chain: chain, n: 1, body: hookrun.WebhookBody(e)})
		})
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	slog.InfoContext(ctx, "dead letters replayed", "tenant_id", tenantID, "replay_id", chain,
		"replayed", replayed.Load(), "skipped", skipped.Load(), "error", fmt.Sprint(err))
	return err
}
