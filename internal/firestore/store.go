// Package firestore keeps hookrun's records in Cloud Firestore: tenants,
// hashed API keys, endpoints, events (idempotency and replay source),
// deliveries with their attempts, and rejected messages. It is the only
// package that imports the Firestore SDK; FIRESTORE_EMULATOR_HOST points it
// at the emulator.
//
// Layout:
//
//	tenants/{tenant}
//	tenants/{tenant}/endpoints/{endpoint}
//	tenants/{tenant}/events/{event}                 expire_time is the TTL field
//	tenants/{tenant}/deliveries/{event}:{endpoint}  attempts kept in the document
//	api_keys/{sha256(key)}
//	rejected_messages/{message id}
package firestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Config says which database to use and how long records live.
type Config struct {
	ProjectID string
	// DatabaseID defaults to "(default)".
	DatabaseID string
	// EventRetention sets expire_time on events, deliveries and rejected
	// messages, for a Firestore TTL policy to delete them. Default 30 days.
	EventRetention time.Duration
	// BatchWindow is how long a hot-path write or read waits to share an
	// RPC with those of concurrent requests (batch.go); 0 means
	// DefaultBatchWindow, negative sends every call alone.
	BatchWindow time.Duration
}

// Store implements the storage interfaces of ingest and dispatch. It is
// safe for concurrent use.
type Store struct {
	c         *fs.Client
	writes    *writeBatcher
	reads     *readBatcher
	retention time.Duration
	now       func() time.Time
}

// New connects to Firestore.
func New(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Store, error) {
	if cfg.ProjectID == "" {
		return nil, errors.New("firestore: project id is required")
	}
	if cfg.DatabaseID == "" {
		cfg.DatabaseID = fs.DefaultDatabaseID
	}
	if cfg.EventRetention == 0 {
		cfg.EventRetention = 30 * 24 * time.Hour
	}
	c, err := fs.NewClientWithDatabase(ctx, cfg.ProjectID, cfg.DatabaseID, opts...)
	if err != nil {
		return nil, fmt.Errorf("firestore.NewClient: %w", err)
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = DefaultBatchWindow
	}
	return &Store{
		c:         c,
		writes:    newWriteBatcher(c, cfg.BatchWindow),
		reads:     newReadBatcher(c, cfg.BatchWindow),
		retention: cfg.EventRetention,
		now:       time.Now,
	}, nil
}

// Close sends the writes and reads still waiting in a batch and closes the
// client.
func (s *Store) Close() error {
	s.writes.flush()
	s.reads.flush()
	return s.c.Close()
}

func (s *Store) tenantRef(id string) *fs.DocumentRef { return s.c.Collection("tenants").Doc(id) }

func (s *Store) endpoints(tenantID string) *fs.CollectionRef {
	return s.tenantRef(tenantID).Collection("endpoints")
}

func (s *Store) eventRef(tenantID, eventID string) *fs.DocumentRef {
	return s.tenantRef(tenantID).Collection("events").Doc(eventID)
}

func (s *Store) deliveryRef(tenantID, eventID, endpointID string) *fs.DocumentRef {
	return s.tenantRef(tenantID).Collection("deliveries").Doc(hookrun.DeliveryID(eventID, endpointID))
}

// coded turns the SDK's gRPC status into a hookrun code where callers
// branch on it; what names the failing call stays in the message.
func coded(err error, what string) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.NotFound:
		return hookrun.WrapError(hookrun.CodeNotFound, err, what+" not found")
	case codes.AlreadyExists:
		return hookrun.WrapError(hookrun.CodeAlreadyExists, err, what+" already exists")
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return hookrun.WrapError(hookrun.CodeUnavailable, err, "storage is unavailable; retry")
	}
	return fmt.Errorf("firestore %s: %w", what, err)
}
