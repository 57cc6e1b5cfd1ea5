// Package secretmanager keeps hookrun's endpoint secrets in Google Cloud
// Secret Manager. It is the only hookrun package, besides the local emulator,
// that imports the Secret Manager SDK: the rest of hookrun sees an opaque
// payload per endpoint and the version resource name that Firestore stores.
//
// One secret per webhook endpoint holds everything sensitive about it (the
// signing secret now, auth credentials later); each rotation adds a version.
// Payloads travel only between Secret Manager and memory: no error, log line
// or SDK debug log made here contains one.
package secretmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sm "cloud.google.com/go/secretmanager/apiv1"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/metrics"
)

// ErrNotFound is wrapped into the errors of calls that name a secret or
// version that does not exist, so callers can tell "gone" from "failed" with
// errors.Is.
var ErrNotFound = errors.New("secret not found")

// Config says where Secret Manager is.
type Config struct {
	// ProjectID is the Google Cloud project that owns the secrets. Required.
	ProjectID string
	// Endpoint is the "host:port" of a local emulator, reached over
	// plaintext gRPC without credentials. Empty means the real service with
	// Application Default Credentials.
	Endpoint string
	// CallTimeout bounds each call to Secret Manager, whatever the
	// caller's context (gcpcall); 0 means gcpcall.DefaultTimeout.
	CallTimeout time.Duration
	// Metrics counts the calls that fail (hookrun.dependency.errors); nil
	// counts none.
	Metrics *metrics.Recorder
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.ProjectID == "":
		return errors.New("secretmanager config: ProjectID is required")
	case strings.Contains(c.ProjectID, "/"):
		return fmt.Errorf("secretmanager config: ProjectID %q must be a bare project ID, not a resource name", c.ProjectID)
	}
	return nil
}

// Store reads and writes endpoint secrets. It is safe for concurrent use;
// build one per process and Close it on shutdown.
type Store struct {
	client  *sm.Client
	project string // "projects/{id}"
}

// New connects to Secret Manager as cfg says. The client keeps its own retry
// defaults: AccessSecretVersion retries UNAVAILABLE and RESOURCE_EXHAUSTED,
// and calls that are not idempotent, such as adding a version, are never
// retried behind the caller's back. Each call ends after cfg.CallTimeout;
// a hung or unreachable service is hookrun.CodeUnavailable.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The SDK logs whole requests and responses, payloads included, when
	// GOOGLE_SDK_GO_LOGGING_LEVEL=debug is set; a discarding logger takes
	// precedence over that variable, so secrets never reach the logs.
	opts := []option.ClientOption{option.WithLogger(slog.New(slog.DiscardHandler))}
	opts = append(opts, cfg.Metrics.ClientOptions(metrics.SecretManager)...)
	opts = append(opts, gcpcall.ClientOptions(cfg.CallTimeout)...)
	opts = append(opts, gcpcall.LocalEndpoint(cfg.Endpoint)...)
	client, err := sm.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("secretmanager.NewClient: %w", err)
	}
	return &Store{client: client, project: "projects/" + cfg.ProjectID}, nil
}

// Close releases the connection to Secret Manager.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close secret manager client: %w", err)
	}
	return nil
}
