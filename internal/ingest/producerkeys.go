package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// Producer keys are the operator's: one credential that sends events of
// many tenants (POST /v1/tenants/{tenant}/events), for a SaaS backend that
// should not hold one key per customer. Only the admin token manages them.
// Like a tenant API key, a producer key is shown once, stored hashed, and
// stops working on revocation at once on this instance and within
// KeyCacheTTL on the others. It may only send events: every other route
// refuses it (auth.go).

func (s *Service) producerKeyRoutes() []route {
	return []route{
		{"POST /v1/producer-keys", s.createProducerKey},
		{"GET /v1/producer-keys", s.listProducerKeys},
		{"GET /v1/producer-keys/{key}", s.getProducerKey},
		{"DELETE /v1/producer-keys/{key}", s.revokeProducerKey},
	}
}

// ProducerKeyStore keeps the operator's producer keys, which belong to no
// tenant.
type ProducerKeyStore interface {
	// CreateProducerKey stores a new key; an existing hash is
	// CodeAlreadyExists.
	CreateProducerKey(ctx context.Context, k hookrun.ProducerKey) error
	// ProducerKeyForHash returns the key a hash belongs to; an unknown or
	// revoked key is CodeNotFound.
	ProducerKeyForHash(ctx context.Context, keyHash string) (hookrun.ProducerKey, error)
	// GetProducerKey returns a key by its ID, revoked or not.
	GetProducerKey(ctx context.Context, id string) (hookrun.ProducerKey, error)
	// ListProducerKeys returns a page of keys, revoked ones included,
	// newest first, and the next page's token ("" at the end).
	ListProducerKeys(ctx context.Context, pageSize int, token string) ([]hookrun.ProducerKey, string, error)
	// RevokeProducerKey marks a key revoked (once; a revoked key keeps its
	// revoke time) and returns it with its hash.
	RevokeProducerKey(ctx context.Context, id string, at time.Time) (hookrun.ProducerKey, error)
}

type createProducerKeyRequest struct {
	Name string `json:"name"`
	// Tenants limits the key to these tenants; absent, every tenant.
	Tenants []string `json:"tenants"`
}

type createProducerKeyResponse struct {
	hookrun.ProducerKey
	// Key is shown once: only its hash is stored.
	Key string `json:"producer_key"`
}

// createProducerKey handles POST /v1/producer-keys with an optional body
// {"name","tenants"}. The tenants need not exist yet: a key may be made
// for a customer about to be added.
func (s *Service) createProducerKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "manage producer keys"); err != nil {
		return err
	}
	var req createProducerKeyRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	created, err := s.newProducerKey(r.Context(), req)
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("producer_key_id", created.ID))
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

// newProducerKey validates req and stores a new producer key, for the API
// and the console alike, and returns it with the key, shown this once.
func (s *Service) newProducerKey(ctx context.Context, req createProducerKeyRequest) (createProducerKeyResponse, error) {
	key, k, err := hookrun.NewProducerKey(req.Name, req.Tenants, s.now())
	if err != nil {
		return createProducerKeyResponse{}, err
	}
	if err := s.store.CreateProducerKey(ctx, k); err != nil {
		return createProducerKeyResponse{}, err
	}
	return createProducerKeyResponse{ProducerKey: k, Key: key}, nil
}

type listProducerKeysResponse struct {
	ProducerKeys  []hookrun.ProducerKey `json:"producer_keys"`
	NextPageToken string                `json:"next_page_token,omitempty"`
}

// listProducerKeys handles GET /v1/producer-keys: a page of keys, revoked
// ones included, newest first, without the key or its hash.
func (s *Service) listProducerKeys(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "manage producer keys"); err != nil {
		return err
	}
	q := r.URL.Query()
	size, err := pageSize(q.Get("page_size"))
	if err != nil {
		return err
	}
	ks, next, err := s.store.ListProducerKeys(r.Context(), size, q.Get("page_token"))
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []hookrun.ProducerKey{}
	}
	httpapi.WriteJSON(w, http.StatusOK, listProducerKeysResponse{ProducerKeys: ks, NextPageToken: next})
	return nil
}

// getProducerKey handles GET /v1/producer-keys/{key}, {key} being the
// key's ID.
func (s *Service) getProducerKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "manage producer keys"); err != nil {
		return err
	}
	k, err := s.producerKey(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, k)
	return nil
}

// producerKey reads producer key id, for the API and the console alike.
func (s *Service) producerKey(ctx context.Context, id string) (hookrun.ProducerKey, error) {
	if !hookrun.ValidProducerKeyID(id) {
		return hookrun.ProducerKey{}, errProducerKeyNotFound(id)
	}
	return s.store.GetProducerKey(ctx, id)
}

// revokeProducerKey handles DELETE /v1/producer-keys/{key}. A revoked key
// authenticates nothing (401, as an unknown key). This instance forgets
// it at once; other instances may still accept it for up to KeyCacheTTL.
// Revoking a revoked key succeeds again.
func (s *Service) revokeProducerKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "manage producer keys"); err != nil {
		return err
	}
	k, err := s.revokeProducer(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("producer_key_id", k.ID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeProducer revokes producer key id and forgets it in this
// instance's cache at once.
func (s *Service) revokeProducer(ctx context.Context, id string) (hookrun.ProducerKey, error) {
	if !hookrun.ValidProducerKeyID(id) {
		return hookrun.ProducerKey{}, errProducerKeyNotFound(id)
	}
	k, err := s.store.RevokeProducerKey(ctx, id, s.now())
	if err != nil {
		return hookrun.ProducerKey{}, err
	}
	s.producerKeys.Delete(k.Hash)
	return k, nil
}

func errProducerKeyNotFound(id string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "producer key %q not found: producer key ids look like pkey_…", id)
}
