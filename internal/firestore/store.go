// Package firestore keeps hookrun's records in Cloud Firestore: tenants,
// hashed API keys, endpoints, events (idempotency and replay source),
// deliveries with their attempts, and rejected messages. It is the only
// package that imports the Firestore SDK; FIRESTORE_EMULATOR_HOST points it
// at the emulator. Every call has a deadline of its own (Config.CallTimeout),
// on the emulator too.
//
// Layout:
//
//	tenants/{tenant}
//	tenants/{tenant}/endpoints/{endpoint}
//	tenants/{tenant}/events/{event}                 expire_time is the TTL field
//	tenants/{tenant}/deliveries/{event}:{endpoint}  attempts kept in the document
//	tenants/{tenant}/markers/endpoints              the endpoint list's version
//	api_keys/{sha256(key)}
//	producer_keys/{sha256(key)}
//	rejected_messages/{message id}
//	portal_links/{sha256(token)}                    expire_time is the TTL field
//	source_claims/{sha256(claim)}                   a source's tenant and its bindings (sources.go)
package firestore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics"
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
	// CallTimeout bounds each call to Firestore, whatever the caller's
	// context (gcpcall); 0 means gcpcall.DefaultTimeout.
	CallTimeout time.Duration
	// Metrics counts the calls that fail (hookrun.dependency.errors); nil
	// counts none.
	Metrics *metrics.Recorder
}

// Store implements the storage interfaces of ingest and dispatch. It is
// safe for concurrent use.
type Store struct {
	c *fs.Client
	// tenants is the tenants collection, made once: every event's and
	// delivery's reference starts from it, and the client splits and
	// checks a collection's path anew each time it is asked for one.
	tenants   *fs.CollectionRef
	writes    *writeBatcher
	reads     *readBatcher
	retention time.Duration
	now       func() time.Time

	// beforeRestamp, when set by a test, runs between a status change's
	// commit and restampInactive.
	beforeRestamp func()
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
	bounds, err := callBounds(cfg.CallTimeout, cfg.Metrics)
	if err != nil {
		return nil, err
	}
	c, err := fs.NewClientWithDatabase(ctx, cfg.ProjectID, cfg.DatabaseID, append(bounds, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("firestore.NewClient: %w", err)
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = DefaultBatchWindow
	}
	return &Store{
		c:         c,
		tenants:   c.Collection("tenants"),
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

// callBounds are the client options that bound every call (gcpcall) and
// count those that fail (m, outside gcpcall's bounds). On
// the emulator the SDK dials a connection of its own that no dial option
// reaches, so this dials the emulator as the SDK would (plaintext, as its
// admin, messages unbounded in size) with the bounds, and hands the SDK
// that connection, which takes precedence: the SDK's own then stays idle,
// one per Store, on the emulator only.
func callBounds(timeout time.Duration, m *metrics.Recorder) ([]option.ClientOption, error) {
	host := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if host == "" {
		return append(m.ClientOptions(metrics.Firestore), gcpcall.ClientOptions(timeout)...), nil
	}
	if !strings.Contains(host, "://") {
		host = "passthrough:///" + host
	}
	conn, err := grpc.NewClient(host, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorAdmin{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}, append(m.DialOptions(metrics.Firestore), gcpcall.DialOptions(timeout)...)...)...)
	if err != nil {
		return nil, fmt.Errorf("firestore: dial emulator at %s: %w", host, err)
	}
	return []option.ClientOption{option.WithGRPCConn(conn)}, nil
}

// emulatorAdmin is the credential the Firestore emulator takes as its
// admin's, which lets tests and the local stack bypass security rules.
type emulatorAdmin struct{}

func (emulatorAdmin) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (emulatorAdmin) RequireTransportSecurity() bool { return false }

func (s *Store) tenantRef(id string) *fs.DocumentRef { return s.tenants.Doc(id) }

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
	if errors.Is(err, context.DeadlineExceeded) {
		// A call that gcpcall ended, or a wait of the SDK's own (a
		// batch's result, a transaction's retry), which ends with the
		// context's error rather than a status.
		return hookrun.WrapError(hookrun.CodeUnavailable, err, "storage is unavailable; retry")
	}
	// A service gcpcall found unreachable is CodeUnavailable already.
	return fmt.Errorf("firestore %s: %w", what, err)
}
