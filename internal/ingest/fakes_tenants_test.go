package ingest_test

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// The auth matrix (authmatrix_test.go) is an internal test, to read the
// router's routes; it runs on these fakes.
func init() {
	ingest.NewMatrixService = func(cfg ingest.Config) (*ingest.Service, error) {
		return ingest.New(cfg, newFakeStore(), &fakePublisher{}, newFakeSecrets(), ingest.WithChallenger(&fakeChallenger{}))
	}
}

// The fakeStore's tenant and API key methods beyond those of fakes_test.go,
// following the contract of ingest.TenantStore the way the Firestore
// adapter does.

func (s *fakeStore) CreateTenantWithKey(ctx context.Context, t hookrun.Tenant, k hookrun.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[t.ID]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "tenant %q already exists", t.ID)
	}
	if _, ok := s.keys[k.Hash]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "api key already exists")
	}
	s.tenants[t.ID] = t
	s.putKey(k)
	return nil
}

// putKey stores k; s.mu is held.
func (s *fakeStore) putKey(k hookrun.APIKey) {
	if s.apiKeys == nil {
		s.apiKeys = map[string]hookrun.APIKey{}
	}
	s.apiKeys[k.Hash] = k
	if !k.Revoked {
		s.keys[k.Hash] = k.TenantID
	}
}

// ListTenants pages by ID, with the last ID as the token.
func (s *fakeStore) ListTenants(ctx context.Context, pageSize int, token string) ([]hookrun.Tenant, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(token, "bad") {
		return nil, "", hookrun.Errorf(hookrun.CodeInvalidArgument, "page_token: not a token this API returned")
	}
	var out []hookrun.Tenant
	for _, id := range slices.Sorted(maps.Keys(s.tenants)) {
		if id > token {
			out = append(out, s.tenants[id])
		}
	}
	if len(out) <= pageSize {
		return out, "", nil
	}
	return out[:pageSize], out[pageSize-1].ID, nil
}

func (s *fakeStore) UpdateTenant(ctx context.Context, id string, apply func(hookrun.Tenant) (hookrun.Tenant, error)) (hookrun.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
	}
	t, err := apply(t)
	if err != nil {
		return hookrun.Tenant{}, err
	}
	t.ID = id
	s.tenants[id] = t
	return t, nil
}

// DeleteTenantData deletes what the fake holds of a tenant, keys first,
// counting each key, endpoint, event, delivery and rejected message as one
// document.
func (s *fakeStore) DeleteTenantData(ctx context.Context, id string, limit int) (bool, error) {
	if s.beforeDeleteTenantData != nil {
		s.beforeDeleteTenantData(limit)
	}
	done, err := s.deleteTenantData(id, limit)
	if done && err == nil && s.tenantDeleted != nil {
		s.tenantDeleted(id)
	}
	return done, err
}

func (s *fakeStore) deleteTenantData(id string, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleteTenantDataErr != nil {
		return false, s.deleteTenantDataErr
	}
	t, ok := s.tenants[id]
	if !ok {
		return true, nil
	}
	if !t.Deleting() {
		return false, hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is %s, not being deleted", id, t.Status)
	}
	left := limit
	take := func() bool {
		if limit <= 0 {
			return true
		}
		left--
		return left >= 0
	}
	for _, h := range slices.Sorted(maps.Keys(s.keys)) {
		if s.keys[h] == id && s.apiKeys[h].TenantID == "" {
			if !take() {
				return false, nil
			}
			delete(s.keys, h)
		}
	}
	for _, h := range slices.Sorted(maps.Keys(s.apiKeys)) {
		if s.apiKeys[h].TenantID == id {
			if !take() {
				return false, nil
			}
			delete(s.keys, h)
			delete(s.apiKeys, h)
		}
	}
	for len(s.endpoints[id]) > 0 {
		if !take() {
			return false, nil
		}
		s.endpoints[id] = s.endpoints[id][1:]
	}
	for _, k := range slices.Sorted(maps.Keys(s.events)) {
		if strings.HasPrefix(k, id+"/") {
			if !take() {
				return false, nil
			}
			delete(s.events, k)
		}
	}
	for len(s.deliveries[id]) > 0 {
		if !take() {
			return false, nil
		}
		s.deliveries[id] = s.deliveries[id][1:]
	}
	for i := 0; i < len(s.rejected); {
		if s.rejected[i].TenantID != id {
			i++
			continue
		}
		if !take() {
			return false, nil
		}
		s.rejected = slices.Delete(s.rejected, i, i+1)
	}
	delete(s.tenants, id)
	return true, nil
}

func (s *fakeStore) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.endpoints[tenantID]), nil
}

func (s *fakeStore) CreateAPIKey(ctx context.Context, k hookrun.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[k.TenantID]
	switch {
	case !ok:
		return hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", k.TenantID)
	case t.Deleting():
		return hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is being deleted", k.TenantID)
	}
	s.putKey(k)
	return nil
}

func (s *fakeStore) ListAPIKeys(ctx context.Context, tenantID string) ([]hookrun.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.APIKey
	for _, k := range s.apiKeys {
		if k.TenantID == tenantID {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b hookrun.APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (s *fakeStore) RevokeAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) (hookrun.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, k := range s.apiKeys {
		if k.ID != keyID || k.TenantID != tenantID {
			continue
		}
		if !k.Revoked {
			k.Revoked, k.RevokedAt = true, at.UTC()
			s.apiKeys[h] = k
			delete(s.keys, h)
		}
		return k, nil
	}
	return hookrun.APIKey{}, hookrun.Errorf(hookrun.CodeNotFound, "api key %q not found", keyID)
}

// addTenantData gives tenant id n endpoints, events, deliveries and
// rejected messages, bypassing the API.
func (s *fakeStore) addTenantData(id string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		ep := hookrun.Endpoint{ID: hookrun.NewID("ep_"), TenantID: id, URL: "https://example.com/", Status: hookrun.EndpointActive}
		s.endpoints[id] = append(s.endpoints[id], ep)
		e := hookrun.Event{ID: hookrun.NewID("evt_"), TenantID: id, Type: "user.created", Data: []byte(`{}`)}
		s.events[eventKey(id, e.ID)] = &storedEvent{event: e, accepted: true}
		s.deliveries[id] = append(s.deliveries[id], hookrun.Delivery{TenantID: id, EventID: e.ID, EndpointID: ep.ID})
		s.rejected = append(s.rejected, hookrun.RejectedMessage{MessageID: hookrun.NewID("m"), TenantID: id, Reason: "test"})
	}
}

// tenantDocs counts what the fake holds of tenant id, its record included.
func (s *fakeStore) tenantDocs(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.endpoints[id]) + len(s.deliveries[id])
	if _, ok := s.tenants[id]; ok {
		n++
	}
	for h, tid := range s.keys {
		if tid == id && s.apiKeys[h].TenantID == "" {
			n++
		}
	}
	for _, k := range s.apiKeys {
		if k.TenantID == id {
			n++
		}
	}
	for k := range s.events {
		if strings.HasPrefix(k, id+"/") {
			n++
		}
	}
	for _, m := range s.rejected {
		if m.TenantID == id {
			n++
		}
	}
	return n
}
