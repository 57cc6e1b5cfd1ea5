package dispatch_test

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func (s *fakeStore) ClearPreviousSecret(ctx context.Context, tenantID, endpointID, version string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ep := range s.endpoints[tenantID] {
		if ep.ID == endpointID && ep.PreviousSecretVersion == version {
			s.endpoints[tenantID][i].PreviousSecretVersion, s.endpoints[tenantID][i].PreviousSecretUntil = "", time.Time{}
			return true, nil
		}
	}
	return false, nil
}

func (s *fakeSecrets) DisableVersion(ctx context.Context, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.versions, version) // a disabled version cannot be read
	return nil
}

func (s *fakeStore) endpoint(tenantID, id string) hookrun.Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ep := range s.endpoints[tenantID] {
		if ep.ID == id {
			return ep
		}
	}
	return hookrun.Endpoint{}
}
