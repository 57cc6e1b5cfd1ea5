package firestore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// apiKeyDoc is api_keys/{sha256(key)}: the hash is the document ID, so
// authenticating is one read by ID and no key is compared as a string.
type apiKeyDoc struct {
	TenantID   string    `firestore:"tenant_id"`
	KeyID      string    `firestore:"key_id"`
	Name       string    `firestore:"name,omitempty"`
	Prefix     string    `firestore:"prefix"`
	Last4      string    `firestore:"last4"`
	CreateTime time.Time `firestore:"create_time"`
	Revoked    bool      `firestore:"revoked"`
	RevokeTime time.Time `firestore:"revoke_time,omitempty"`
}

func (s *Store) apiKeys() *fs.CollectionRef { return s.c.Collection("api_keys") }

func (s *Store) apiKeyRef(hash string) *fs.DocumentRef { return s.apiKeys().Doc(hash) }

func toAPIKeyDoc(k hookrun.APIKey) apiKeyDoc {
	return apiKeyDoc{
		TenantID: k.TenantID, KeyID: k.ID, Name: k.Name, Prefix: k.Prefix, Last4: k.Last4,
		CreateTime: k.CreatedAt, Revoked: k.Revoked, RevokeTime: k.RevokedAt,
	}
}

func decodeAPIKey(snap *fs.DocumentSnapshot) (hookrun.APIKey, error) {
	var d apiKeyDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.APIKey{}, fmt.Errorf("decode api key: %w", err)
	}
	return hookrun.APIKey{
		ID: d.KeyID, TenantID: d.TenantID, Name: d.Name, Prefix: d.Prefix, Last4: d.Last4,
		CreatedAt: d.CreateTime, Revoked: d.Revoked, RevokedAt: d.RevokeTime, Hash: snap.Ref.ID,
	}, nil
}

// TenantForKey returns the tenant whose API key hashes to keyHash. A
// revoked key is CodeNotFound, like an unknown one.
func (s *Store) TenantForKey(ctx context.Context, keyHash string) (string, error) {
	snap, err := s.apiKeyRef(keyHash).Get(ctx)
	if err != nil {
		return "", coded(err, "api key")
	}
	k, err := decodeAPIKey(snap)
	if err != nil {
		return "", err
	}
	if k.Revoked {
		return "", hookrun.Errorf(hookrun.CodeNotFound, "api key not found")
	}
	return k.TenantID, nil
}

// CreateAPIKey stores a new key of an existing tenant. It reads the tenant
// in the same transaction, so a key cannot be added to a tenant whose
// deletion has started (a deletion would miss it, and the key would
// outlive its tenant).
func (s *Store) CreateAPIKey(ctx context.Context, k hookrun.APIKey) error {
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(s.tenantRef(k.TenantID))
		if err != nil {
			return err
		}
		if st, _ := snap.DataAt("status"); st == string(hookrun.TenantDeleting) {
			return hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is being deleted", k.TenantID)
		}
		return tx.Create(s.apiKeyRef(k.Hash), toAPIKeyDoc(k))
	}, fs.MaxAttempts(1)) // Create is not idempotent, see CreateTenantWithKey.
	if hookrun.ErrorCode(err) == hookrun.CodeFailedPrecondition {
		return err
	}
	if err != nil {
		return coded(err, fmt.Sprintf("tenant %q", k.TenantID))
	}
	return nil
}

// ListAPIKeys returns a tenant's keys, revoked ones included, oldest
// first. A tenant has few (hookrun.MaxActiveAPIKeys unrevoked), so they are
// sorted here rather than by a composite index.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]hookrun.APIKey, error) {
	it := s.apiKeys().Where("tenant_id", "==", tenantID).Documents(ctx)
	defer it.Stop()
	var out []hookrun.APIKey
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, coded(err, fmt.Sprintf("api keys of tenant %q", tenantID))
		}
		k, err := decodeAPIKey(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b hookrun.APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokeAPIKey marks key keyID of a tenant revoked at at and returns it,
// with its hash. Revoking a revoked key changes nothing; a key of another
// tenant is CodeNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) (hookrun.APIKey, error) {
	var out hookrun.APIKey
	notFound := hookrun.Errorf(hookrun.CodeNotFound, "api key %q not found", keyID)
	q := s.apiKeys().Where("key_id", "==", keyID).Limit(1)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snaps, err := tx.Documents(q).GetAll()
		if err != nil {
			return err
		}
		if len(snaps) == 0 {
			return notFound
		}
		if out, err = decodeAPIKey(snaps[0]); err != nil {
			return err
		}
		if out.TenantID != tenantID {
			return notFound
		}
		if out.Revoked {
			return nil
		}
		out.Revoked, out.RevokedAt = true, at.UTC()
		return tx.Update(snaps[0].Ref, []fs.Update{{Path: "revoked", Value: true}, {Path: "revoke_time", Value: out.RevokedAt}})
	})
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return hookrun.APIKey{}, err
	}
	if err != nil {
		return hookrun.APIKey{}, coded(err, fmt.Sprintf("api key %q", keyID))
	}
	return out, nil
}
