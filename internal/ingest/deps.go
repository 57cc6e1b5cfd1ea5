package ingest

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Store keeps tenants, keys, endpoints and events (Firestore in
// production); each area's file declares its part. Methods return
// *hookrun.Error with CodeNotFound or CodeAlreadyExists where the caller
// branches on it. It must be safe for concurrent use.
type Store interface {
	TenantStore
	EndpointStore
	EventStore
	DeliveryStore
	MetricsStore
	CatalogueStore
	SourceBindingStore
	PortalStore
	ProducerKeyStore
}

// PortalStore keeps the links into tenants' portals, by their token's
// hash.
type PortalStore interface {
	// CreatePortalLink stores a new link; an existing hash is
	// CodeAlreadyExists.
	CreatePortalLink(ctx context.Context, l hookrun.PortalLink) error
	// ClaimPortalLink marks a link used and returns it as it was before,
	// atomically: of concurrent claims, exactly one sees it unused. A
	// missing link is CodeNotFound.
	ClaimPortalLink(ctx context.Context, tokenHash string) (hookrun.PortalLink, error)
}

// Publisher publishes to the events topic. Start hands a message over and
// returns at once; its wait returns only once Pub/Sub has acknowledged the
// message, and must be called. Messages started together may share a
// batch. It must be safe for concurrent use.
type Publisher interface {
	Start(ctx context.Context, data []byte, attrs map[string]string) (wait func() (messageID string, err error))
}

// PublishFunc is a Publisher that publishes at Start, by calling itself,
// and whose wait returns the outcome: a fake's synchronous publish as a
// Publisher, as http.HandlerFunc makes a function a Handler.
type PublishFunc func(ctx context.Context, data []byte, attrs map[string]string) (messageID string, err error)

// Start calls f.
func (f PublishFunc) Start(ctx context.Context, data []byte, attrs map[string]string) func() (string, error) {
	id, err := f(ctx, data, attrs)
	return func() (string, error) { return id, err }
}

// Secrets stores endpoint secrets (Secret Manager in production).
type Secrets interface {
	// Create stores payload as the first version of secret secretID and
	// returns the version's resource name.
	Create(ctx context.Context, secretID string, payload []byte) (version string, err error)
	// Delete deletes the secret with all its versions; a missing secret is
	// not an error.
	Delete(ctx context.Context, secretID string) error
	// Access returns a version's payload.
	Access(ctx context.Context, version string) ([]byte, error)
	// AddVersion adds a version to an existing secret and returns its name.
	AddVersion(ctx context.Context, secretID string, payload []byte) (string, error)
	// DisableVersion disables a version: it can no longer be read.
	DisableVersion(ctx context.Context, version string) error
}

// Scheduler schedules a Cloud Task (the dispatcher's, in production): at
// time at, body is POSTed to the target the Scheduler was built for. A
// taskID that exists, or existed, is not an error.
type Scheduler interface {
	Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error
}

// IDTokenVerifier checks a Google-signed ID token (signature, expiry,
// issuer, audience, and the verified email of one of the service accounts
// it was built for) and returns the service account's email. A failure to
// fetch Google's keys is CodeUnavailable; any other error refuses the
// token, and describes why without repeating it. It must be safe for
// concurrent use.
type IDTokenVerifier interface {
	ServiceAccount(ctx context.Context, token string) (email string, err error)
}
