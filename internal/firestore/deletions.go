package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// deletionDoc is tenant_deletions/{tenant}: the record of a tenant's
// deletion, outside the tenant's document so it outlives it. It carries
// expire_time once it ended, for the TTL policy (infra/firestore.tf).
type deletionDoc struct {
	State      string    `firestore:"state"`
	Deleted    int64     `firestore:"deleted"`
	StartTime  time.Time `firestore:"start_time"`
	EndTime    time.Time `firestore:"end_time,omitempty"`
	Error      string    `firestore:"error,omitempty"`
	ExpireTime time.Time `firestore:"expire_time,omitempty"`
}

func (s *Store) deletionRef(tenantID string) *fs.DocumentRef {
	return s.c.Collection("tenant_deletions").Doc(tenantID)
}

func decodeDeletion(tenantID string, snap *fs.DocumentSnapshot) (hookrun.TenantDeletion, error) {
	var d deletionDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.TenantDeletion{}, fmt.Errorf("decode deletion of tenant %s: %w", tenantID, err)
	}
	return hookrun.TenantDeletion{TenantID: tenantID, State: hookrun.DeletionState(d.State), Deleted: d.Deleted,
		StartedAt: d.StartTime, EndedAt: d.EndTime, Error: d.Error}, nil
}

// GetTenantDeletion returns the record of a tenant's deletion, which
// outlives the tenant; CodeNotFound when it was never deleted (or the
// record expired).
func (s *Store) GetTenantDeletion(ctx context.Context, tenantID string) (hookrun.TenantDeletion, error) {
	snap, err := s.deletionRef(tenantID).Get(ctx)
	if err != nil {
		return hookrun.TenantDeletion{}, coded(err, fmt.Sprintf("deletion of tenant %q", tenantID))
	}
	return decodeDeletion(tenantID, snap)
}

// UpdateTenantDeletion stores apply's change of the record of a tenant's
// deletion (apply gets the zero record when there is none), in a
// transaction: two instances deleting the same tenant both add their
// counts.
func (s *Store) UpdateTenantDeletion(ctx context.Context, tenantID string, apply func(hookrun.TenantDeletion) hookrun.TenantDeletion) (hookrun.TenantDeletion, error) {
	var out hookrun.TenantDeletion
	ref := s.deletionRef(tenantID)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		var d hookrun.TenantDeletion
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if d, err = decodeDeletion(tenantID, snap); err != nil {
				return err
			}
		}
		out = apply(d)
		out.TenantID = tenantID
		return tx.Set(ref, deletionDoc{State: string(out.State), Deleted: out.Deleted, StartTime: out.StartedAt,
			EndTime: out.EndedAt, Error: out.Error, ExpireTime: out.ExpireAt()})
	})
	if err != nil {
		return hookrun.TenantDeletion{}, coded(err, fmt.Sprintf("deletion of tenant %q", tenantID))
	}
	return out, nil
}
