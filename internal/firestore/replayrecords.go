package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// replayDoc is tenants/{tenant}/replays/{replay ID}: a replay's record,
// deleted with its tenant. The outcomes of its deliveries are not stored:
// GetReplay counts them.
type replayDoc struct {
	EndpointID string    `firestore:"endpoint_id,omitempty"`
	EventType  string    `firestore:"event_type,omitempty"`
	Since      time.Time `firestore:"since,omitempty"`
	Until      time.Time `firestore:"until,omitempty"`
	State      string    `firestore:"state"`
	Matched    int64     `firestore:"matched"`
	Claimed    int64     `firestore:"claimed"`
	Replayed   int64     `firestore:"replayed"`
	Skipped    int64     `firestore:"skipped"`
	More       bool      `firestore:"more,omitempty"`
	CreateTime time.Time `firestore:"create_time"`
	StartTime  time.Time `firestore:"start_time,omitempty"`
	EndTime    time.Time `firestore:"end_time,omitempty"`
	Error      string    `firestore:"error,omitempty"`
}

func (s *Store) replayRef(tenantID, id string) *fs.DocumentRef {
	return s.tenantRef(tenantID).Collection("replays").Doc(id)
}

func toReplayDoc(r hookrun.Replay) replayDoc {
	return replayDoc{
		EndpointID: r.Filter.EndpointID, EventType: r.Filter.EventType, Since: r.Filter.Since, Until: r.Filter.Until,
		State: string(r.State), Matched: r.Counts.Matched, Claimed: r.Counts.Claimed, Replayed: r.Counts.Replayed,
		Skipped: r.Counts.Skipped, More: r.More, CreateTime: r.CreatedAt, StartTime: r.StartedAt, EndTime: r.EndedAt, Error: r.Error,
	}
}

func decodeReplay(tenantID string, snap *fs.DocumentSnapshot) (hookrun.Replay, error) {
	var d replayDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Replay{}, fmt.Errorf("decode replay %s: %w", snap.Ref.ID, err)
	}
	return hookrun.Replay{
		TenantID: tenantID, ID: snap.Ref.ID, State: hookrun.ReplayState(d.State), More: d.More,
		Filter:    hookrun.DeadLetterFilter{EndpointID: d.EndpointID, EventType: d.EventType, Since: d.Since, Until: d.Until},
		Counts:    hookrun.ReplayCounts{Matched: d.Matched, Claimed: d.Claimed, Replayed: d.Replayed, Skipped: d.Skipped},
		CreatedAt: d.CreateTime, StartedAt: d.StartTime, EndedAt: d.EndTime, Error: d.Error,
	}, nil
}

// CreateReplay stores the record of a new replay; one with its ID is
// CodeAlreadyExists.
func (s *Store) CreateReplay(ctx context.Context, r hookrun.Replay) error {
	_, err := s.replayRef(r.TenantID, r.ID).Create(ctx, toReplayDoc(r))
	return coded(err, fmt.Sprintf("replay %q", r.ID))
}

// GetReplay returns a tenant's replay with the outcomes of the deliveries
// in its chain counted now, by aggregation queries that read no
// documents (equality filters only: merged single-field indexes serve
// them).
func (s *Store) GetReplay(ctx context.Context, tenantID, id string) (hookrun.Replay, error) {
	what := fmt.Sprintf("replay %q", id)
	snap, err := s.replayRef(tenantID, id).Get(ctx)
	if err != nil {
		return hookrun.Replay{}, coded(err, what)
	}
	r, err := decodeReplay(tenantID, snap)
	if err != nil {
		return hookrun.Replay{}, err
	}
	chain := s.tenantRef(tenantID).Collection("deliveries").Where("replay_chain", "==", id).Where("chain", "==", id)
	for _, c := range []struct {
		state hookrun.DeliveryState
		n     *int64
	}{
		{hookrun.DeliverySucceeded, &r.Counts.Delivered},
		{hookrun.DeliveryRetrying, &r.Counts.Retrying},
		{hookrun.DeliveryDead, &r.Counts.Dead},
	} {
		q := chain.Where("state", "==", string(c.state))
		res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
		if err != nil {
			return hookrun.Replay{}, coded(err, what+" deliveries")
		}
		v, ok := res["n"].(*firestorepb.Value)
		if !ok {
			return hookrun.Replay{}, fmt.Errorf("count deliveries of replay %s: unexpected result %T", id, res["n"])
		}
		*c.n = v.GetIntegerValue()
	}
	return r, nil
}

// UpdateReplay replaces a tenant's replay by what apply makes of it, in a
// transaction, and returns the result without the counted outcomes. apply
// may run more than once and must not have side effects.
func (s *Store) UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error) {
	var out hookrun.Replay
	ref := s.replayRef(tenantID, id)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		r, err := decodeReplay(tenantID, snap)
		if err != nil {
			return err
		}
		out = apply(r)
		out.TenantID, out.ID = tenantID, id
		out.Counts.Delivered, out.Counts.Retrying, out.Counts.Dead = 0, 0, 0
		return tx.Set(ref, toReplayDoc(out))
	})
	if err != nil {
		return hookrun.Replay{}, coded(err, fmt.Sprintf("replay %q", id))
	}
	return out, nil
}
