package ingest_test

import (
	"context"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func (s *fakeStore) GetCatalogue(ctx context.Context, tenantID string) (hookrun.Catalogue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.catalogues[tenantID], nil
}

func (s *fakeStore) SetCatalogue(ctx context.Context, tenantID string, c hookrun.Catalogue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catalogues == nil {
		s.catalogues = map[string]hookrun.Catalogue{}
	}
	s.catalogues[tenantID] = c
	return nil
}
