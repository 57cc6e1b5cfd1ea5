package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func storedTenant(t hookrun.Tenant) hookrun.Tenant {
	t.RetryPolicy = storedPolicy(t.RetryPolicy)
	t.CreatedAt, t.UpdatedAt, t.DeleteRequestedAt = stamp(t.CreatedAt), stamp(t.UpdatedAt), stamp(t.DeleteRequestedAt)
	return t
}

func storedKey(k hookrun.APIKey) hookrun.APIKey {
	k.CreatedAt, k.RevokedAt = stamp(k.CreatedAt), stamp(k.RevokedAt)
	return k
}

// CreateTenantWithKey stores t and its first API key atomically.
func (s *Store) CreateTenantWithKey(ctx context.Context, t hookrun.Tenant, k hookrun.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, tenantExists := s.tenants[t.ID]
	_, keyExists := s.keys[k.Hash]
	if tenantExists || keyExists {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "tenant %q already exists", t.ID)
	}
	s.tenants[t.ID] = storedTenant(t)
	s.keys[k.Hash] = storedKey(k)
	return nil
}

// CreateTenant is CreateTenantWithKey for a caller that holds only the
// key's hash.
func (s *Store) CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error {
	return s.CreateTenantWithKey(ctx, t, hookrun.APIKey{
		ID: hookrun.NewID(hookrun.APIKeyIDPrefix), TenantID: t.ID, CreatedAt: t.CreatedAt, Hash: keyHash,
	})
}

// GetTenant returns tenant id, whatever its status.
func (s *Store) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
	}
	return t, nil
}

// UpdateTenant replaces tenant id by what apply makes of it; apply's
// error is returned as it is.
func (s *Store) UpdateTenant(ctx context.Context, id string, apply func(hookrun.Tenant) (hookrun.Tenant, error)) (hookrun.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
	}
	out, err := apply(t)
	if err != nil {
		return hookrun.Tenant{}, err
	}
	out.ID = id
	s.tenants[id] = storedTenant(out)
	return out, nil
}

// CountEndpoints counts a tenant's endpoints.
func (s *Store) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.endpoints {
		if ofTenant(k, tenantID) {
			n++
		}
	}
	return n, nil
}

// ListTenants returns a page of tenants in ID order.
func (s *Store) ListTenants(ctx context.Context, pageSize int, token string) ([]hookrun.Tenant, string, error) {
	after := ""
	if token != "" {
		var err error
		if _, after, err = hookrun.ParsePageToken(token); err != nil {
			return nil, "", err
		}
	}
	s.mu.Lock()
	var out []hookrun.Tenant
	for _, id := range sortedKeys(s.tenants) {
		if id > after {
			out = append(out, s.tenants[id])
		}
	}
	s.mu.Unlock()
	return cut(out, pageSize, func(t hookrun.Tenant) (time.Time, string) { return time.Time{}, t.ID })
}

// DeleteTenantData deletes the records of a tenant whose deletion has
// started, at most limit of them (limit <= 0: no bound) besides the
// tenant's own, in the Firestore store's order: API keys, then the
// tenant's collections, then its source bindings and rejected messages; the tenant goes last,
// and done reports it gone. It returns how many records it deleted.
func (s *Store) DeleteTenantData(ctx context.Context, tenantID string, limit int) (deleted int, done bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		return 0, true, nil
	}
	if !t.Deleting() {
		return 0, false, hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is %s, not being deleted", tenantID, t.Status)
	}
	left := limit
	// drop deletes, with del, the records among keys that match, within
	// the budget, and reports whether it got to all of them.
	drop := func(del func(k string), keys []string, match func(k string) bool) bool {
		for _, k := range keys {
			if !match(k) {
				continue
			}
			if limit > 0 && left <= 0 {
				return false
			}
			del(k)
			left--
			deleted++
		}
		return true
	}
	own := func(k string) bool { return ofTenant(k, tenantID) }
	all := drop(func(k string) { delete(s.keys, k) }, sortedKeys(s.keys), func(k string) bool { return s.keys[k].TenantID == tenantID }) &&
		drop(func(k string) { delete(s.endpoints, k) }, sortedKeys(s.endpoints), own) &&
		drop(func(k string) { delete(s.epVersions, k) }, sortedKeys(s.epVersions), func(k string) bool { return k == tenantID }) &&
		drop(func(k string) { delete(s.events, k) }, sortedKeys(s.events), own) &&
		drop(func(k string) { delete(s.deliveries, k) }, sortedKeys(s.deliveries), own) &&
		drop(func(k string) { delete(s.replays, k) }, sortedKeys(s.replays), own) &&
		drop(func(k string) { delete(s.catalogues, k) }, sortedKeys(s.catalogues), func(k string) bool { return k == tenantID }) &&
		drop(func(k string) { delete(s.sources, k) }, sortedKeys(s.sources), func(k string) bool { return s.sources[k][0].TenantID == tenantID }) &&
		drop(func(k string) { delete(s.rejected, k) }, sortedKeys(s.rejected), func(k string) bool { return s.rejected[k].TenantID == tenantID })
	if !all {
		return deleted, false, nil
	}
	delete(s.tenants, tenantID)
	return deleted + 1, true, nil
}

// GetTenantDeletion returns the record of a tenant's deletion, which
// outlives the tenant; CodeNotFound when it was never deleted.
func (s *Store) GetTenantDeletion(ctx context.Context, tenantID string) (hookrun.TenantDeletion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deletions[tenantID]
	if !ok {
		return hookrun.TenantDeletion{}, hookrun.Errorf(hookrun.CodeNotFound, "no deletion of tenant %q", tenantID)
	}
	return d, nil
}

// UpdateTenantDeletion stores apply's change of the record of a tenant's
// deletion (apply gets the zero record when there is none) and returns it.
func (s *Store) UpdateTenantDeletion(ctx context.Context, tenantID string, apply func(hookrun.TenantDeletion) hookrun.TenantDeletion) (hookrun.TenantDeletion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := apply(s.deletions[tenantID])
	d.TenantID = tenantID
	d.StartedAt, d.EndedAt = stamp(d.StartedAt), stamp(d.EndedAt)
	s.deletions[tenantID] = d
	return d, nil
}

// TenantForKey returns the tenant whose API key hashes to keyHash. A
// revoked key is CodeNotFound, like an unknown one.
func (s *Store) TenantForKey(ctx context.Context, keyHash string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[keyHash]
	if !ok || k.Revoked {
		return "", hookrun.Errorf(hookrun.CodeNotFound, "api key not found")
	}
	return k.TenantID, nil
}

// CreateAPIKey stores a new key of an existing tenant that is not being
// deleted.
func (s *Store) CreateAPIKey(ctx context.Context, k hookrun.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[k.TenantID]
	switch {
	case !ok:
		return hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", k.TenantID)
	case t.Status == hookrun.TenantDeleting:
		return hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is being deleted", k.TenantID)
	}
	if _, ok := s.keys[k.Hash]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "tenant %q already exists", k.TenantID)
	}
	s.keys[k.Hash] = storedKey(k)
	return nil
}

// ListAPIKeys returns a tenant's keys, revoked ones included, oldest
// first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]hookrun.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.APIKey
	for _, k := range s.keys {
		if k.TenantID == tenantID {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b hookrun.APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokeAPIKey marks key keyID of a tenant revoked at at and returns it.
// Revoking a revoked key changes nothing; a key of another tenant is
// CodeNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) (hookrun.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range sortedKeys(s.keys) {
		k := s.keys[h]
		if k.ID != keyID {
			continue
		}
		if k.TenantID != tenantID {
			break
		}
		if !k.Revoked {
			k.Revoked, k.RevokedAt = true, stamp(at)
			s.keys[h] = k
		}
		return k, nil
	}
	return hookrun.APIKey{}, hookrun.Errorf(hookrun.CodeNotFound, "api key %q not found", keyID)
}
