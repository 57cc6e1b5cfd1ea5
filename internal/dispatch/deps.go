package dispatch

import (
	"context"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Store is the dispatcher's view of Firestore. Methods return
// *hookrun.Error with CodeNotFound where the caller branches on it. It must
// be safe for concurrent use.
type Store interface {
	GetTenant(ctx context.Context, id string) (hookrun.Tenant, error)
	ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error)
	// SaveEvent records an event that did not come through ingest; an
	// existing record is kept.
	SaveEvent(ctx context.Context, e hookrun.Event, messageID string) error
	// GetDeliveries returns the existing deliveries of one event to the
	// given endpoints, keyed by endpoint ID.
	GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error)
	// RecordAttempt stores an attempt and the delivery's resulting state
	// atomically.
	RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error
	RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error
}

// Secrets reads endpoint secrets (Secret Manager in production). Versions
// are immutable, so callers may cache what Access returns.
type Secrets interface {
	Access(ctx context.Context, version string) ([]byte, error)
}

// PushVerifier checks the OIDC token Pub/Sub puts on push requests
// (internal/oidc in production).
type PushVerifier interface {
	// Verify returns an error unless authorization is "Bearer <token>" for
	// a token signed by Google for the configured audience and identity.
	Verify(ctx context.Context, authorization string) error
}
