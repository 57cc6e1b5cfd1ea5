package firestore

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The catalogue lives in its own document, so the tenant document stays
// small and reading it on every event costs nothing when there is none.
type catalogueDoc struct {
	EventTypes []string  `firestore:"event_types"`
	UpdateTime time.Time `firestore:"update_time"`
}

func (s *Store) catalogueRef(tenantID string) string {
	return "tenants/" + tenantID + "/settings/event_catalogue"
}

// GetCatalogue returns a tenant's event-type catalogue; none is empty.
func (s *Store) GetCatalogue(ctx context.Context, tenantID string) (hookrun.Catalogue, error) {
	snap, err := s.c.Doc(s.catalogueRef(tenantID)).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, coded(err, fmt.Sprintf("event catalogue of tenant %q", tenantID))
	}
	var d catalogueDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("decode event catalogue of %s: %w", tenantID, err)
	}
	return hookrun.Catalogue(d.EventTypes), nil
}

// SetCatalogue replaces a tenant's catalogue; an empty one removes it.
func (s *Store) SetCatalogue(ctx context.Context, tenantID string, c hookrun.Catalogue) error {
	ref := s.c.Doc(s.catalogueRef(tenantID))
	var err error
	if len(c) == 0 {
		_, err = ref.Delete(ctx)
	} else {
		_, err = ref.Set(ctx, catalogueDoc{EventTypes: c, UpdateTime: s.now().UTC()})
	}
	return coded(err, fmt.Sprintf("event catalogue of tenant %q", tenantID))
}
