package dispatch

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics"
)

// Store is the dispatcher's view of Firestore. Methods return
// *hookrun.Error with CodeNotFound where the caller branches on it. It must
// be safe for concurrent use.
type Store interface {
	GetTenant(ctx context.Context, id string) (hookrun.Tenant, error)
	ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error)
	// EndpointsChanged returns the version of a tenant's endpoint list
	// (hookrun.EndpointsVersion), reading one document: every change to
	// an endpoint gives the list a new one, in the same transaction.
	EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error)
	// SaveEvent records an event that did not come through ingest; an
	// existing record is kept.
	SaveEvent(ctx context.Context, e hookrun.Event, messageID string) error
	// GetDeliveries returns the existing deliveries of one event to the
	// given endpoints, keyed by endpoint ID.
	GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error)
	// RecordAttempt stores an attempt and the delivery's resulting state
	// atomically.
	RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error
	// RecordAttempts stores several attempts, each as RecordAttempt
	// does, in as few round trips as the store can; each is stored or
	// fails on its own, and records of one delivery are stored in their
	// order. It returns nil when all were stored, else one error per
	// record, nil for those stored.
	RecordAttempts(ctx context.Context, recs []hookrun.AttemptRecord) []error
	RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error
	// SourceBindings returns the source bindings that hold a claim
	// (hookrun.SourceMatch.Claim), all of one tenant; none is empty.
	SourceBindings(ctx context.Context, claim string) ([]hookrun.SourceBinding, error)

	GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error)
	GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error)
	// SetDeliveryState stores a delivery's state without an attempt.
	SetDeliveryState(ctx context.Context, d hookrun.Delivery) error
	// CountDeadInARow adds dead letter d, the death of its delivery's
	// chain d.Chain, to its endpoint's dead letters since its last success
	// and returns the count after. It counts each chain's dead letter of a
	// delivery once, so that a follow-up retried after an error or a
	// crash can count again: the same chain adds nothing the second time,
	// a later chain (a replay that died again) adds one. A missing
	// endpoint or delivery is CodeNotFound. ResetDeadInARow zeroes the
	// count.
	CountDeadInARow(ctx context.Context, d hookrun.Delivery) (int, error)
	ResetDeadInARow(ctx context.Context, tenantID, endpointID string) error
	// MarkAnnounced records that a dead letter was published.
	MarkAnnounced(ctx context.Context, tenantID, eventID, endpointID string) error
	DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error
	// ListEndpointDeliveries returns up to limit deliveries of an endpoint
	// in a state.
	ListEndpointDeliveries(ctx context.Context, tenantID, endpointID string, state hookrun.DeliveryState, limit int) ([]hookrun.Delivery, error)
	// ClaimDeadLetters claims for the replay chain up to limit dead letters
	// of a tenant that match f and that eligible (nil: all) accepts,
	// skipping those another replay holds (hookrun.Delivery.ClaimableAt).
	ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error)
	// EachReplayClaim calls fn for every delivery the replay chain claimed,
	// started or not, until fn returns an error.
	EachReplayClaim(ctx context.Context, tenantID, chain string, fn func(hookrun.Delivery) error) error
	// StartReplay atomically makes a dead letter that chain claimed
	// pending in chain, and reports false, changing nothing, when chain no
	// longer holds it or already started.
	StartReplay(ctx context.Context, tenantID, eventID, endpointID, chain string) (bool, error)
	// UpdateReplay stores what apply makes of a tenant's replay record,
	// atomically, and returns it; a replay without a record (a job
	// published before records existed) is CodeNotFound.
	UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error)
	// ClearPreviousSecret forgets an endpoint's previous secret version if
	// it is still version.
	ClearPreviousSecret(ctx context.Context, tenantID, endpointID, version string) (bool, error)
}

// Scheduler schedules the next attempt of a delivery (Cloud Tasks in
// production): at time at, body is POSTed to the dispatcher's
// /tasks/deliver. Scheduling a taskID that already exists, or existed, is
// not an error, so scheduling can be retried safely.
type Scheduler interface {
	Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error
}

// Publisher publishes a message and returns once Pub/Sub has it; the
// dispatcher announces dead letters on the dead-letters topic with it, and
// publishes operational events on the events topic.
type Publisher interface {
	Publish(ctx context.Context, data []byte, attrs map[string]string) (messageID string, err error)
}

// Deps are the dispatcher's adapters.
type Deps struct {
	Store   Store
	Secrets Secrets
	// Scheduler schedules retries.
	Scheduler Scheduler
	// DeadLetters publishes to the dead-letters topic.
	DeadLetters Publisher
	// Events publishes to the events topic: the tenants' operational
	// events (hookrun.OperationalTypes), which come back to the
	// dispatcher and are delivered like any other event.
	Events Publisher
	// PushVerifier checks Pub/Sub's push requests, TaskVerifier Cloud
	// Tasks' requests; both may be nil only with Config.InsecureSkipAuth.
	PushVerifier PushVerifier
	TaskVerifier PushVerifier
	// Metrics records the delivery metrics; nil records none.
	Metrics *metrics.Recorder
}

// Secrets reads endpoint secrets (Secret Manager in production). Versions
// are immutable, so callers may cache what Access returns.
type Secrets interface {
	Access(ctx context.Context, version string) ([]byte, error)
	// DisableVersion disables a version; disabling a disabled one is not
	// an error.
	DisableVersion(ctx context.Context, version string) error
}

// PushVerifier checks the OIDC token Pub/Sub or Cloud Tasks put on their
// requests (internal/oidc in production).
type PushVerifier interface {
	// Verify returns an error unless authorization is "Bearer <token>" for
	// a token signed by Google for the configured audience and identity.
	Verify(ctx context.Context, authorization string) error
}
