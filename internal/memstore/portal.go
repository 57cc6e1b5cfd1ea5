package memstore

import (
	"context"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// CreatePortalLink stores a new portal link; a hash that exists is
// CodeAlreadyExists.
func (s *Store) CreatePortalLink(ctx context.Context, l hookrun.PortalLink) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.portalLinks[l.TokenHash]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "portal link exists")
	}
	l.ExpireTime = stamp(l.ExpireTime)
	s.portalLinks[l.TokenHash] = l
	return nil
}

// ClaimPortalLink marks the link used and returns it as it was before:
// of concurrent claims, one sees Used false. A missing link is
// CodeNotFound.
func (s *Store) ClaimPortalLink(ctx context.Context, tokenHash string) (hookrun.PortalLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.portalLinks[tokenHash]
	if !ok {
		return hookrun.PortalLink{}, hookrun.Errorf(hookrun.CodeNotFound, "portal link not found")
	}
	claimed := l
	claimed.Used = true
	s.portalLinks[tokenHash] = claimed
	return l, nil
}
