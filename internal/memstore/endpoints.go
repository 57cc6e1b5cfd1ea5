package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// storedEndpoint is e as Firestore keeps it: no compiled patterns (read
// compiles them), times to the microsecond, durations to the millisecond,
// slices of its own.
func storedEndpoint(e hookrun.Endpoint) hookrun.Endpoint {
	out := hookrun.Endpoint{
		ID: e.ID, TenantID: e.TenantID, URL: e.URL, EventTypes: slices.Clone(e.EventTypes), Description: e.Description,
		Status: e.Status, DisabledReason: e.DisabledReason, ActiveSince: stamp(e.ActiveSince), InactiveSince: stamp(e.InactiveSince),
		VerificationError: e.VerificationError, Timeout: toMillis(e.Timeout), RetryPolicy: storedPolicy(e.RetryPolicy),
		OnClientError: e.OnClientError, RateLimit: e.RateLimit, PropagateTrace: e.PropagateTrace, ConsecutiveDead: e.ConsecutiveDead,
		SecretVersion: e.SecretVersion, PreviousSecretVersion: e.PreviousSecretVersion, PreviousSecretUntil: stamp(e.PreviousSecretUntil),
		AuthKind: e.AuthKind, HeaderNames: slices.Clone(e.HeaderNames), CreatedAt: stamp(e.CreatedAt),
	}
	return out
}

// loadEndpoint is a stored endpoint as a read returns it.
func loadEndpoint(e hookrun.Endpoint) (hookrun.Endpoint, error) {
	e.EventTypes, e.HeaderNames = slices.Clone(e.EventTypes), slices.Clone(e.HeaderNames)
	if err := e.Compile(); err != nil {
		return hookrun.Endpoint{}, fmt.Errorf("endpoint %s has invalid event types: %w", e.ID, err)
	}
	return e, nil
}

func endpointNotFound(id string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", id)
}

// CreateEndpoint stores a new endpoint.
func (s *Store) CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(e.TenantID, e.ID)
	if _, ok := s.endpoints[k]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "endpoint %q already exists", e.ID)
	}
	s.endpoints[k] = storedEndpoint(e)
	s.endpointsChanged(e.TenantID)
	return nil
}

// GetEndpoint returns one endpoint of a tenant.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[key(tenantID, endpointID)]
	if !ok {
		return hookrun.Endpoint{}, endpointNotFound(endpointID)
	}
	return loadEndpoint(e)
}

// ListEndpoints returns every endpoint of a tenant, oldest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.Endpoint
	for k, e := range s.endpoints {
		if !ofTenant(k, tenantID) {
			continue
		}
		e, err := loadEndpoint(e)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b hookrun.Endpoint) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteEndpoint deletes an endpoint; a missing one is CodeNotFound.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tenantID, endpointID)
	if _, ok := s.endpoints[k]; !ok {
		return endpointNotFound(endpointID)
	}
	delete(s.endpoints, k)
	s.endpointsChanged(tenantID)
	return nil
}

// update applies fn to a stored endpoint, which reports whether it changed
// it; a missing one is CodeNotFound.
func (s *Store) update(tenantID, endpointID string, fn func(*hookrun.Endpoint) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tenantID, endpointID)
	e, ok := s.endpoints[k]
	if !ok {
		return endpointNotFound(endpointID)
	}
	if fn(&e) {
		s.endpoints[k] = e
		s.endpointsChanged(tenantID)
	}
	return nil
}

// endpointsChanged gives a tenant's endpoint list a new version, with the
// change that calls it (holding s.mu).
func (s *Store) endpointsChanged(tenantID string) {
	v := s.epVersions[tenantID]
	v.Seq++
	v.ChangedAt = stamp(s.now())
	s.epVersions[tenantID] = v
}

// EndpointsChanged returns the version of a tenant's endpoint list; a
// tenant whose endpoints never changed has the zero one.
func (s *Store) EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epVersions[tenantID], nil
}

// DisableEndpoint disables an endpoint and records why and, if it was
// active, since when: the store's time, as Firestore stamps its own.
func (s *Store) DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error {
	return s.update(tenantID, endpointID, func(e *hookrun.Endpoint) bool {
		if e.Status == hookrun.EndpointActive {
			e.InactiveSince = stamp(s.now())
		}
		e.Status, e.DisabledReason = hookrun.EndpointDisabled, reason
		return true
	})
}

// UpdateEndpoint replaces a stored endpoint with e; a missing one is
// CodeNotFound. A status change e records (SetStatus) is stamped with the
// store's time.
func (s *Store) UpdateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	return s.update(e.TenantID, e.ID, func(stored *hookrun.Endpoint) bool {
		now := stamp(s.now())
		next := storedEndpoint(e)
		if !e.ActiveSince.IsZero() && !next.ActiveSince.Equal(stored.ActiveSince) {
			next.ActiveSince = now
		}
		if !e.InactiveSince.IsZero() && !next.InactiveSince.Equal(stored.InactiveSince) {
			next.InactiveSince = now
		}
		*stored = next
		return true
	})
}

// ClearPreviousSecret forgets an endpoint's previous secret version if it
// is still version, and reports whether it did.
func (s *Store) ClearPreviousSecret(ctx context.Context, tenantID, endpointID, version string) (bool, error) {
	cleared := false
	err := s.update(tenantID, endpointID, func(e *hookrun.Endpoint) bool {
		if e.PreviousSecretVersion == version {
			e.PreviousSecretVersion, e.PreviousSecretUntil, cleared = "", time.Time{}, true
		}
		return cleared
	})
	return cleared, err
}

// CountDeadInARow adds dead letter d to its endpoint's dead letters since
// its last success, once per chain of its delivery, and returns the count
// after it.
func (s *Store) CountDeadInARow(ctx context.Context, d hookrun.Delivery) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deliveries[key(d.TenantID, hookrun.DeliveryID(d.EventID, d.EndpointID))]
	if !ok {
		return 0, deliveryNotFound(d.EventID, d.EndpointID)
	}
	k := key(d.TenantID, d.EndpointID)
	e, ok := s.endpoints[k]
	if !ok {
		return 0, endpointNotFound(d.EndpointID)
	}
	if r.deadCounted[d.Chain] {
		return e.ConsecutiveDead, nil
	}
	e.ConsecutiveDead++
	s.endpoints[k] = e
	s.endpointsChanged(d.TenantID)
	if r.deadCounted == nil {
		r.deadCounted = map[string]bool{}
	}
	r.deadCounted[d.Chain] = true
	return e.ConsecutiveDead, nil
}

// ResetDeadInARow sets an endpoint's dead letters since its last success
// back to zero; one that is zero already is left alone.
func (s *Store) ResetDeadInARow(ctx context.Context, tenantID, endpointID string) error {
	return s.update(tenantID, endpointID, func(e *hookrun.Endpoint) bool {
		changed := e.ConsecutiveDead != 0
		e.ConsecutiveDead = 0
		return changed
	})
}
