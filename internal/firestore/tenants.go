package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/iterator"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type tenantDoc struct {
	Name           string         `firestore:"name"`
	Status         string         `firestore:"status"`
	DisabledReason string         `firestore:"disabled_reason,omitempty"`
	RetryPolicy    retryPolicyDoc `firestore:"retry_policy"`
	Limits         limitsDoc      `firestore:"limits"`
	CreateTime     time.Time      `firestore:"create_time"`
	UpdateTime     time.Time      `firestore:"update_time,omitempty"`
	DeleteTime     time.Time      `firestore:"delete_time,omitempty"`
}

// limitsDoc stores a hookrun.TenantLimits, field for field (the types
// convert); a field that is absent, as in the documents of tenants stored
// before limits existed, is no limit.
type limitsDoc struct {
	MaxEndpoints       int `firestore:"max_endpoints,omitempty"`
	MaxEventsPerSecond int `firestore:"max_events_per_second,omitempty"`
}

func toTenantDoc(t hookrun.Tenant) tenantDoc {
	return tenantDoc{
		Name: t.Name, Status: string(t.Status), DisabledReason: t.DisabledReason, RetryPolicy: toPolicyDoc(t.RetryPolicy),
		Limits: limitsDoc(t.Limits), CreateTime: t.CreatedAt, UpdateTime: t.UpdatedAt, DeleteTime: t.DeleteRequestedAt,
	}
}

func decodeTenant(snap *fs.DocumentSnapshot) (hookrun.Tenant, error) {
	var d tenantDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Tenant{}, fmt.Errorf("decode tenant %s: %w", snap.Ref.ID, err)
	}
	return hookrun.Tenant{
		ID: snap.Ref.ID, Name: d.Name, Status: hookrun.TenantStatus(d.Status), DisabledReason: d.DisabledReason,
		RetryPolicy: d.RetryPolicy.policy(), Limits: hookrun.TenantLimits(d.Limits),
		CreatedAt: d.CreateTime, UpdatedAt: d.UpdateTime, DeleteRequestedAt: d.DeleteTime,
	}, nil
}

// CreateTenantWithKey stores t and its first API key atomically.
func (s *Store) CreateTenantWithKey(ctx context.Context, t hookrun.Tenant, k hookrun.APIKey) error {
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		if err := tx.Create(s.tenantRef(t.ID), toTenantDoc(t)); err != nil {
			return err
		}
		return tx.Create(s.apiKeyRef(k.Hash), toAPIKeyDoc(k))
	}, fs.MaxAttempts(1)) // Create is not idempotent: a retried commit would report our own write as a conflict.
	return coded(err, fmt.Sprintf("tenant %q", t.ID))
}

// CreateTenant is CreateTenantWithKey for a caller that holds only the
// key's hash (seeding, older tests): the key gets an ID but lists without
// prefix and last 4.
func (s *Store) CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error {
	return s.CreateTenantWithKey(ctx, t, hookrun.APIKey{
		ID: hookrun.NewID(hookrun.APIKeyIDPrefix), TenantID: t.ID, CreatedAt: t.CreatedAt, Hash: keyHash,
	})
}

// GetTenant returns tenant id, whatever its status.
func (s *Store) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	snap, err := s.tenantRef(id).Get(ctx)
	if err != nil {
		return hookrun.Tenant{}, coded(err, fmt.Sprintf("tenant %q", id))
	}
	return decodeTenant(snap)
}

// UpdateTenant replaces tenant id by what apply makes of it, in a
// transaction, and returns the result. apply may run more than once (a
// transaction retries on contention) and must not have side effects; its
// error is returned as it is.
func (s *Store) UpdateTenant(ctx context.Context, id string, apply func(hookrun.Tenant) (hookrun.Tenant, error)) (hookrun.Tenant, error) {
	var out hookrun.Tenant
	var applyErr error
	ref := s.tenantRef(id)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		t, err := decodeTenant(snap)
		if err != nil {
			return err
		}
		if out, applyErr = apply(t); applyErr != nil {
			return applyErr
		}
		// Set, not merge: every field of the document is a field of
		// hookrun.Tenant, so the new value is the whole document.
		return tx.Set(ref, toTenantDoc(out))
	})
	if applyErr != nil {
		return hookrun.Tenant{}, applyErr
	}
	if err != nil {
		return hookrun.Tenant{}, coded(err, fmt.Sprintf("tenant %q", id))
	}
	out.ID = id
	return out, nil
}

// CountEndpoints counts a tenant's endpoints with an aggregation query, for
// its max_endpoints limit: it reads no documents, and costs one read per
// 1,000 endpoints counted.
func (s *Store) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	res, err := s.endpoints(tenantID).NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, coded(err, fmt.Sprintf("endpoints of tenant %q", tenantID))
	}
	v, ok := res["n"].(*firestorepb.Value)
	if !ok {
		return 0, fmt.Errorf("count endpoints of tenant %s: unexpected result %T", tenantID, res["n"])
	}
	return int(v.GetIntegerValue()), nil
}

// ListTenants returns a page of tenants in ID order and the next page's
// token ("" at the end). Ordering by document ID needs no index.
func (s *Store) ListTenants(ctx context.Context, pageSize int, token string) ([]hookrun.Tenant, string, error) {
	q := s.tenants.OrderBy(fs.DocumentID, fs.Asc).Limit(pageSize + 1)
	if token != "" {
		_, id, err := hookrun.ParsePageToken(token)
		if err != nil {
			return nil, "", err
		}
		q = q.StartAfter(s.tenants.Doc(id))
	}
	it := q.Documents(ctx)
	defer it.Stop()
	var out []hookrun.Tenant
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, "", coded(err, "tenants")
		}
		t, err := decodeTenant(snap)
		if err != nil {
			return nil, "", err
		}
		out = append(out, t)
	}
	out, next := page(out, pageSize, func(t hookrun.Tenant) (time.Time, string) { return time.Time{}, t.ID })
	return out, next, nil
}

// deleteBatchSize is how many documents one round of a deletion reads and
// deletes: one query, then BulkWriter sends the deletes 20 per request.
const deleteBatchSize = 500

// DeleteTenantData deletes the records of a tenant whose deletion has
// started (status deleting): its API keys, every subcollection of its
// document (endpoints, events, deliveries, and whatever is added later),
// its source bindings and rejected messages, and then the tenant
// document. It deletes at most limit documents (limit <= 0: no bound) and
// reports whether it got to the end, and how many documents it deleted;
// calling it again continues, so an interrupted deletion is finished by
// running it again. A tenant that is gone is done.
//
// Endpoint secrets live in Secret Manager: the caller deletes them before,
// while the endpoints can still be listed. A delivery the dispatcher
// writes while this runs (an attempt in flight) may outlive the tenant
// document; it carries expire_time, so the TTL policy removes it.
func (s *Store) DeleteTenantData(ctx context.Context, tenantID string, limit int) (deleted int, done bool, err error) {
	t, err := s.GetTenant(ctx, tenantID)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !t.Deleting() {
		return 0, false, hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is %s, not being deleted", tenantID, t.Status)
	}
	// API keys first: the tenant's callers are shut out before anything
	// else goes.
	queries := []fs.Query{s.apiKeys().Where("tenant_id", "==", tenantID)}
	colls := s.tenantRef(tenantID).Collections(ctx)
	for {
		c, err := colls.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return 0, false, coded(err, fmt.Sprintf("collections of tenant %q", tenantID))
		}
		queries = append(queries, c.Query)
	}
	queries = append(queries, s.sourceClaims().Where("tenant_id", "==", tenantID),
		s.c.Collection("rejected_messages").Where("tenant_id", "==", tenantID))

	left := limit
	for _, q := range queries {
		for {
			size := deleteBatchSize
			if limit > 0 {
				if left <= 0 {
					// Out of budget: done only if nothing is left anywhere.
					done, err := s.tenantDataGone(ctx, tenantID, queries)
					return deleted + b2i(done), done, err
				}
				size = min(size, left)
			}
			n, err := s.deleteBatch(ctx, q, size)
			deleted += n
			if err != nil {
				return deleted, false, fmt.Errorf("delete records of tenant %s: %w", tenantID, err)
			}
			left -= n
			if n < size {
				break // this query has nothing left
			}
		}
	}
	done, err = s.deleteTenantDoc(ctx, tenantID)
	return deleted + b2i(done), done, err
}

// b2i counts the tenant's own document once it is deleted.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tenantDataGone deletes the tenant document if none of queries matches
// anything any more.
func (s *Store) tenantDataGone(ctx context.Context, tenantID string, queries []fs.Query) (bool, error) {
	for _, q := range queries {
		snaps, err := q.Select().Limit(1).Documents(ctx).GetAll()
		if err != nil {
			return false, coded(err, fmt.Sprintf("records of tenant %q", tenantID))
		}
		if len(snaps) > 0 {
			return false, nil
		}
	}
	return s.deleteTenantDoc(ctx, tenantID)
}

func (s *Store) deleteTenantDoc(ctx context.Context, tenantID string) (bool, error) {
	if _, err := s.tenantRef(tenantID).Delete(ctx); err != nil {
		return false, coded(err, fmt.Sprintf("tenant %q", tenantID))
	}
	return true, nil
}

// deleteBatch deletes up to n documents that q matches and returns how
// many it deleted. Only document names are read.
func (s *Store) deleteBatch(ctx context.Context, q fs.Query, n int) (int, error) {
	snaps, err := q.Select().Limit(n).Documents(ctx).GetAll()
	if err != nil {
		return 0, coded(err, "records to delete")
	}
	if len(snaps) == 0 {
		return 0, nil
	}
	bw := s.c.BulkWriter(ctx)
	jobs := make([]*fs.BulkWriterJob, 0, len(snaps))
	for _, snap := range snaps {
		j, err := bw.Delete(snap.Ref)
		if err != nil {
			bw.End()
			return 0, fmt.Errorf("queue delete of %s: %w", snap.Ref.Path, err)
		}
		jobs = append(jobs, j)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return 0, coded(err, "records to delete")
		}
	}
	return len(snaps), nil
}
