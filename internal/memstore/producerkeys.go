package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func storedProducerKey(k hookrun.ProducerKey) hookrun.ProducerKey {
	k.CreatedAt, k.RevokedAt = stamp(k.CreatedAt), stamp(k.RevokedAt)
	k.Tenants = slices.Clone(k.Tenants)
	return k
}

// CreateProducerKey stores a new producer key; an existing hash is
// CodeAlreadyExists.
func (s *Store) CreateProducerKey(ctx context.Context, k hookrun.ProducerKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.producerKeys[k.Hash]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "producer key already exists")
	}
	s.producerKeys[k.Hash] = storedProducerKey(k)
	return nil
}

// ProducerKeyForHash returns the producer key hashing to keyHash. A
// revoked key is CodeNotFound, like an unknown one.
func (s *Store) ProducerKeyForHash(ctx context.Context, keyHash string) (hookrun.ProducerKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.producerKeys[keyHash]
	if !ok || k.Revoked {
		return hookrun.ProducerKey{}, hookrun.Errorf(hookrun.CodeNotFound, "producer key not found")
	}
	return storedProducerKey(k), nil
}

// GetProducerKey returns the producer key id, revoked or not.
func (s *Store) GetProducerKey(ctx context.Context, id string) (hookrun.ProducerKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.producerKeys {
		if k.ID == id {
			return storedProducerKey(k), nil
		}
	}
	return hookrun.ProducerKey{}, hookrun.Errorf(hookrun.CodeNotFound, "producer key %q not found", id)
}

// ListProducerKeys returns a page of producer keys, revoked ones
// included, newest first, and the next page's token. Keys created at the
// same time are in descending hash order, as Firestore orders them by
// document ID; the token names the last key by its ID.
func (s *Store) ListProducerKeys(ctx context.Context, pageSize int, token string) ([]hookrun.ProducerKey, string, error) {
	afterID := ""
	if token != "" {
		var err error
		if _, afterID, err = hookrun.ParsePageToken(token); err != nil {
			return nil, "", err
		}
	}
	s.mu.Lock()
	var out []hookrun.ProducerKey
	for _, k := range s.producerKeys {
		out = append(out, storedProducerKey(k))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b hookrun.ProducerKey) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Hash, a.Hash))
	})
	if afterID != "" {
		i := slices.IndexFunc(out, func(k hookrun.ProducerKey) bool { return k.ID == afterID })
		if i < 0 {
			return nil, "", hookrun.Errorf(hookrun.CodeInvalidArgument, "page_token: not a token this API returned")
		}
		out = out[i+1:]
	}
	return cut(out, pageSize, func(k hookrun.ProducerKey) (time.Time, string) { return k.CreatedAt, k.ID })
}

// RevokeProducerKey marks producer key id revoked at at and returns it
// with its hash. Revoking a revoked key changes nothing.
func (s *Store) RevokeProducerKey(ctx context.Context, id string, at time.Time) (hookrun.ProducerKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, k := range s.producerKeys {
		if k.ID != id {
			continue
		}
		if !k.Revoked {
			k.Revoked, k.RevokedAt = true, stamp(at)
			s.producerKeys[h] = k
		}
		return storedProducerKey(k), nil
	}
	return hookrun.ProducerKey{}, hookrun.Errorf(hookrun.CodeNotFound, "producer key %q not found", id)
}
