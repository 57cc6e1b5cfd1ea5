package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type tenantDoc struct {
	Name        string         `firestore:"name"`
	Status      string         `firestore:"status"`
	RetryPolicy retryPolicyDoc `firestore:"retry_policy"`
	CreateTime  time.Time      `firestore:"create_time"`
}

type apiKeyDoc struct {
	TenantID   string    `firestore:"tenant_id"`
	CreateTime time.Time `firestore:"create_time"`
}

// CreateTenant stores t and the hash of its first API key atomically.
func (s *Store) CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error {
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		if err := tx.Create(s.tenantRef(t.ID), tenantDoc{Name: t.Name, Status: string(t.Status), RetryPolicy: toPolicyDoc(t.RetryPolicy), CreateTime: t.CreatedAt}); err != nil {
			return err
		}
		return tx.Create(s.c.Collection("api_keys").Doc(keyHash), apiKeyDoc{TenantID: t.ID, CreateTime: t.CreatedAt})
	}, fs.MaxAttempts(1)) // Create is not idempotent: a retried commit would report our own write as a conflict.
	return coded(err, fmt.Sprintf("tenant %q", t.ID))
}

// GetTenant returns tenant id.
func (s *Store) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	snap, err := s.tenantRef(id).Get(ctx)
	if err != nil {
		return hookrun.Tenant{}, coded(err, fmt.Sprintf("tenant %q", id))
	}
	var d tenantDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Tenant{}, fmt.Errorf("decode tenant %s: %w", id, err)
	}
	return hookrun.Tenant{ID: id, Name: d.Name, Status: hookrun.TenantStatus(d.Status), RetryPolicy: d.RetryPolicy.policy(), CreatedAt: d.CreateTime}, nil
}

// TenantForKey returns the tenant whose API key hashes to keyHash.
func (s *Store) TenantForKey(ctx context.Context, keyHash string) (string, error) {
	snap, err := s.c.Collection("api_keys").Doc(keyHash).Get(ctx)
	if err != nil {
		return "", coded(err, "api key")
	}
	var d apiKeyDoc
	if err := snap.DataTo(&d); err != nil {
		return "", fmt.Errorf("decode api key: %w", err)
	}
	return d.TenantID, nil
}
