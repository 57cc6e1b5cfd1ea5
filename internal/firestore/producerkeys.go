package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// producerKeyDoc is producer_keys/{sha256(key)}: as for api_keys, the hash
// is the document ID, so authenticating is one read by ID. Producer keys
// belong to the operator, not to a tenant: deleting a tenant leaves them.
type producerKeyDoc struct {
	KeyID      string    `firestore:"key_id"`
	Name       string    `firestore:"name,omitempty"`
	Tenants    []string  `firestore:"tenants,omitempty"`
	Prefix     string    `firestore:"prefix"`
	Last4      string    `firestore:"last4"`
	CreateTime time.Time `firestore:"create_time"`
	Revoked    bool      `firestore:"revoked"`
	RevokeTime time.Time `firestore:"revoke_time,omitempty"`
}

func (s *Store) producerKeys() *fs.CollectionRef { return s.c.Collection("producer_keys") }

func decodeProducerKey(snap *fs.DocumentSnapshot) (hookrun.ProducerKey, error) {
	var d producerKeyDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.ProducerKey{}, fmt.Errorf("decode producer key: %w", err)
	}
	return hookrun.ProducerKey{
		ID: d.KeyID, Name: d.Name, Tenants: d.Tenants, Prefix: d.Prefix, Last4: d.Last4,
		CreatedAt: d.CreateTime, Revoked: d.Revoked, RevokedAt: d.RevokeTime, Hash: snap.Ref.ID,
	}, nil
}

// CreateProducerKey stores a new producer key; an existing hash is
// CodeAlreadyExists.
func (s *Store) CreateProducerKey(ctx context.Context, k hookrun.ProducerKey) error {
	_, err := s.producerKeys().Doc(k.Hash).Create(ctx, producerKeyDoc{
		KeyID: k.ID, Name: k.Name, Tenants: k.Tenants, Prefix: k.Prefix, Last4: k.Last4,
		CreateTime: k.CreatedAt, Revoked: k.Revoked, RevokeTime: k.RevokedAt,
	})
	return coded(err, "producer key")
}

// ProducerKeyForHash returns the producer key hashing to keyHash. A
// revoked key is CodeNotFound, like an unknown one.
func (s *Store) ProducerKeyForHash(ctx context.Context, keyHash string) (hookrun.ProducerKey, error) {
	snap, err := s.producerKeys().Doc(keyHash).Get(ctx)
	if err != nil {
		return hookrun.ProducerKey{}, coded(err, "producer key")
	}
	k, err := decodeProducerKey(snap)
	if err != nil {
		return hookrun.ProducerKey{}, err
	}
	if k.Revoked {
		return hookrun.ProducerKey{}, hookrun.Errorf(hookrun.CodeNotFound, "producer key not found")
	}
	return k, nil
}

// producerKeyByID finds the document of producer key id; a missing one is
// CodeNotFound.
func (s *Store) producerKeyByID(ctx context.Context, id string) (*fs.DocumentSnapshot, error) {
	snaps, err := s.producerKeys().Where("key_id", "==", id).Limit(1).Documents(ctx).GetAll()
	if err != nil {
		return nil, coded(err, fmt.Sprintf("producer key %q", id))
	}
	if len(snaps) == 0 {
		return nil, hookrun.Errorf(hookrun.CodeNotFound, "producer key %q not found", id)
	}
	return snaps[0], nil
}

// GetProducerKey returns the producer key id, revoked or not.
func (s *Store) GetProducerKey(ctx context.Context, id string) (hookrun.ProducerKey, error) {
	snap, err := s.producerKeyByID(ctx, id)
	if err != nil {
		return hookrun.ProducerKey{}, err
	}
	return decodeProducerKey(snap)
}

// ListProducerKeys returns a page of producer keys, revoked ones
// included, newest first, and the next page's token. The token names the
// last key by its ID, not by its document's (the hash, which is never
// shown), so a next page first finds that key's document to start after.
func (s *Store) ListProducerKeys(ctx context.Context, pageSize int, token string) ([]hookrun.ProducerKey, string, error) {
	q := s.producerKeys().OrderBy("create_time", fs.Desc).OrderBy(fs.DocumentID, fs.Desc).Limit(pageSize + 1)
	if token != "" {
		_, id, err := hookrun.ParsePageToken(token)
		if err != nil {
			return nil, "", err
		}
		last, err := s.producerKeyByID(ctx, id)
		if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
			return nil, "", hookrun.Errorf(hookrun.CodeInvalidArgument, "page_token: not a token this API returned")
		}
		if err != nil {
			return nil, "", err
		}
		q = q.StartAfter(last)
	}
	out, err := decodeAll(q.Documents(ctx), "producer keys", decodeProducerKey)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, pageSize, func(k hookrun.ProducerKey) (time.Time, string) { return k.CreatedAt, k.ID })
	return out, next, nil
}

// RevokeProducerKey marks producer key id revoked at at and returns it
// with its hash. Revoking a revoked key changes nothing.
func (s *Store) RevokeProducerKey(ctx context.Context, id string, at time.Time) (hookrun.ProducerKey, error) {
	var out hookrun.ProducerKey
	q := s.producerKeys().Where("key_id", "==", id).Limit(1)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snaps, err := tx.Documents(q).GetAll()
		if err != nil {
			return err
		}
		if len(snaps) == 0 {
			return hookrun.Errorf(hookrun.CodeNotFound, "producer key %q not found", id)
		}
		if out, err = decodeProducerKey(snaps[0]); err != nil {
			return err
		}
		if out.Revoked {
			return nil
		}
		out.Revoked, out.RevokedAt = true, at.UTC()
		return tx.Update(snaps[0].Ref, []fs.Update{{Path: "revoked", Value: true}, {Path: "revoke_time", Value: out.RevokedAt}})
	})
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return hookrun.ProducerKey{}, err
	}
	if err != nil {
		return hookrun.ProducerKey{}, coded(err, fmt.Sprintf("producer key %q", id))
	}
	return out, nil
}
