package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// CreateSourceBinding stores b unless hookrun.CheckNewSourceBinding
// refuses it beside the bindings that hold its claim.
func (s *Store) CreateSourceBinding(ctx context.Context, b hookrun.SourceBinding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	claim := b.Match.Claim()
	if err := hookrun.CheckNewSourceBinding(s.sources[claim], b); err != nil {
		return err
	}
	b.CreatedAt = stamp(b.CreatedAt)
	s.sources[claim] = append(slices.Clone(s.sources[claim]), b)
	return nil
}

// ListSourceBindings returns a tenant's source bindings, oldest first.
func (s *Store) ListSourceBindings(ctx context.Context, tenantID string) ([]hookrun.SourceBinding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.SourceBinding
	for _, bs := range s.sources {
		for _, b := range bs {
			if b.TenantID == tenantID {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, func(a, b hookrun.SourceBinding) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteSourceBinding deletes a tenant's source binding; a missing one
// is CodeNotFound.
func (s *Store) DeleteSourceBinding(ctx context.Context, tenantID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for claim, bs := range s.sources {
		i := slices.IndexFunc(bs, func(b hookrun.SourceBinding) bool { return b.ID == id && b.TenantID == tenantID })
		if i < 0 {
			continue
		}
		if len(bs) == 1 {
			delete(s.sources, claim)
		} else {
			s.sources[claim] = slices.Delete(slices.Clone(bs), i, i+1)
		}
		return nil
	}
	return hookrun.Errorf(hookrun.CodeNotFound, "source binding %q not found", id)
}

// SourceBindings returns the bindings that hold a claim
// (hookrun.SourceMatch.Claim), all of one tenant; none is empty.
func (s *Store) SourceBindings(ctx context.Context, claim string) ([]hookrun.SourceBinding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sources[claim]), nil
}
