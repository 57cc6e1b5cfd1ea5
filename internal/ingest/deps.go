package ingest

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Store keeps tenants, keys, endpoints and events (Firestore in
// production). Methods return *hookrun.Error with CodeNotFound or
// CodeAlreadyExists where the caller branches on it. It must be safe for
// concurrent use.
type Store interface {
	// CreateTenant stores t and its first API key hash together, or neither.
	CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error
	GetTenant(ctx context.Context, id string) (hookrun.Tenant, error)
	// TenantForKey returns the tenant an API key hash belongs to.
	TenantForKey(ctx context.Context, keyHash string) (string, error)

	CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error)
	DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error

	// ClaimEvent records e as being accepted, for lease, so that a duplicate
	// request cannot publish it a second time meanwhile. When an event with
	// the same ID was already accepted, it returns that event and
	// duplicate=true. While another request's lease runs it returns
	// CodeAborted; an expired lease is taken over.
	ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (stored hookrun.Event, duplicate bool, err error)
	// AcceptEvent marks a claimed event accepted: Pub/Sub has it.
	AcceptEvent(ctx context.Context, tenantID, eventID, messageID string) error
	// ReleaseEvent drops a claim whose publish failed, so the producer's
	// retry with the same ID starts afresh.
	ReleaseEvent(ctx context.Context, tenantID, eventID string) error

	GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error)
	// ListEventDeliveries returns an event's deliveries with attempts.
	ListEventDeliveries(ctx context.Context, tenantID, eventID string) ([]hookrun.Delivery, error)
	GetDelivery(ctx context.Context, tenantID, eventID, endpointID string) (hookrun.Delivery, error)
	// ListDeadLetters returns a page of dead deliveries, newest first, and
	// the next page's token ("" at the end).
	ListDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, pageSize int, token string) ([]hookrun.Delivery, string, error)
	CountDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter) (int64, error)
	// ListRejected returns a page of rejected messages of a tenant, or of
	// all tenants when tenantID is empty, newest first.
	ListRejected(ctx context.Context, tenantID string, pageSize int, token string) ([]hookrun.RejectedMessage, string, error)
}

// Publisher publishes to the events topic. Publish returns only once
// Pub/Sub has acknowledged the message. It must be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, data []byte, attrs map[string]string) (messageID string, err error)
}

// Secrets stores endpoint secrets (Secret Manager in production).
type Secrets interface {
	// Create stores payload as the first version of secret secretID and
	// returns the version's resource name.
	Create(ctx context.Context, secretID string, payload []byte) (version string, err error)
	// Delete deletes the secret with all its versions; a missing secret is
	// not an error.
	Delete(ctx context.Context, secretID string) error
}
