package firestore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type endpointDoc struct {
	URL            string         `firestore:"url"`
	EventTypes     []string       `firestore:"event_types"`
	Description    string         `firestore:"description"`
	Status         string         `firestore:"status"`
	SecretVersion  string         `firestore:"secret_version"`
	TimeoutMS      int64          `firestore:"timeout_ms"`
	RetryPolicy    retryPolicyDoc `firestore:"retry_policy"`
	OnClientError  string         `firestore:"on_client_error"`
	DisabledReason string         `firestore:"disabled_reason"`
	CreateTime     time.Time      `firestore:"create_time"`
	ActiveSince    time.Time      `firestore:"active_since"`
	InactiveSince  time.Time      `firestore:"inactive_since"`

	VerificationError     string    `firestore:"verification_error"`
	PreviousSecretVersion string    `firestore:"previous_secret_version"`
	PreviousSecretUntil   time.Time `firestore:"previous_secret_until"`
	AuthKind              string    `firestore:"auth_kind"`
	HeaderNames           []string  `firestore:"header_names"`
	RateLimit             int       `firestore:"rate_limit"`
	PropagateTrace        bool      `firestore:"propagate_trace"`
	ConsecutiveDead       int       `firestore:"consecutive_dead"`
}

func toEndpointDoc(e hookrun.Endpoint) endpointDoc {
	return endpointDoc{
		URL:                   e.URL,
		EventTypes:            e.EventTypes,
		Description:           e.Description,
		Status:                string(e.Status),
		SecretVersion:         e.SecretVersion,
		TimeoutMS:             time.Duration(e.Timeout).Milliseconds(),
		RetryPolicy:           toPolicyDoc(e.RetryPolicy),
		OnClientError:         string(e.OnClientError),
		DisabledReason:        e.DisabledReason,
		CreateTime:            e.CreatedAt,
		ActiveSince:           e.ActiveSince,
		InactiveSince:         e.InactiveSince,
		VerificationError:     e.VerificationError,
		PreviousSecretVersion: e.PreviousSecretVersion,
		PreviousSecretUntil:   e.PreviousSecretUntil,
		AuthKind:              string(e.AuthKind),
		HeaderNames:           e.HeaderNames,
		RateLimit:             e.RateLimit,
		PropagateTrace:        e.PropagateTrace,
		ConsecutiveDead:       e.ConsecutiveDead,
	}
}

// CreateEndpoint stores a new endpoint.
func (s *Store) CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		if err := tx.Create(s.endpoints(e.TenantID).Doc(e.ID), toEndpointDoc(e)); err != nil {
			return err
		}
		return s.endpointsChanged(tx, e.TenantID)
	})
	return coded(err, fmt.Sprintf("endpoint %q", e.ID))
}

// GetEndpoint returns one endpoint of a tenant.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error) {
	snap, err := s.endpoints(tenantID).Doc(endpointID).Get(ctx)
	if err != nil {
		return hookrun.Endpoint{}, coded(err, fmt.Sprintf("endpoint %q", endpointID))
	}
	return decodeEndpoint(tenantID, snap)
}

// ListEndpoints returns every endpoint of a tenant, oldest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	it := s.endpoints(tenantID).OrderBy("create_time", fs.Asc).Documents(ctx)
	defer it.Stop()
	var out []hookrun.Endpoint
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return nil, coded(err, fmt.Sprintf("endpoints of tenant %q", tenantID))
		}
		e, err := decodeEndpoint(tenantID, snap)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

// DeleteEndpoint deletes an endpoint; a missing one is CodeNotFound.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error {
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		if err := tx.Delete(s.endpoints(tenantID).Doc(endpointID), fs.Exists); err != nil {
			return err
		}
		return s.endpointsChanged(tx, tenantID)
	})
	return coded(err, fmt.Sprintf("endpoint %q", endpointID))
}

func decodeEndpoint(tenantID string, snap *fs.DocumentSnapshot) (hookrun.Endpoint, error) {
	var d endpointDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.Endpoint{}, fmt.Errorf("decode endpoint %s: %w", snap.Ref.ID, err)
	}
	e := hookrun.Endpoint{
		ID:                    snap.Ref.ID,
		TenantID:              tenantID,
		URL:                   d.URL,
		EventTypes:            d.EventTypes,
		Description:           d.Description,
		Status:                hookrun.EndpointStatus(d.Status),
		SecretVersion:         d.SecretVersion,
		Timeout:               hookrun.Duration(time.Duration(d.TimeoutMS) * time.Millisecond),
		RetryPolicy:           d.RetryPolicy.policy(),
		OnClientError:         hookrun.ClientErrorAction(d.OnClientError),
		DisabledReason:        d.DisabledReason,
		CreatedAt:             d.CreateTime,
		ActiveSince:           d.ActiveSince,
		InactiveSince:         d.InactiveSince,
		VerificationError:     d.VerificationError,
		PreviousSecretVersion: d.PreviousSecretVersion,
		PreviousSecretUntil:   d.PreviousSecretUntil,
		AuthKind:              hookrun.AuthKind(d.AuthKind),
		HeaderNames:           d.HeaderNames,
		RateLimit:             d.RateLimit,
		PropagateTrace:        d.PropagateTrace,
		ConsecutiveDead:       d.ConsecutiveDead,
	}
	if err := e.Compile(); err != nil {
		return hookrun.Endpoint{}, fmt.Errorf("endpoint %s has invalid event types: %w", e.ID, err)
	}
	return e, nil
}

// A status change is stamped with Firestore's time, not the time the
// caller decided it: the stamps (hookrun.Endpoint.ActiveSince,
// InactiveSince) decide which events an endpoint that is no longer active
// still owes, and an event accepted while a slow transaction waited for its
// locks was accepted while the endpoint was still active. Firestore's
// server time stands in for the clock of ingest that stamps events.
//
// A transaction's server timestamp may precede the moment its writes
// become visible (the emulator stamps a commit before it waits for locks),
// so InactiveSince is stamped once more after the commit (restampInactive):
// an event accepted while the endpoint still looked active is then always
// owed. Until that second stamp, a reader (the dispatcher deciding what a
// disabled endpoint owes) must not see the first: an event accepted after
// it while the write was not yet visible would be owed nothing. So the
// transaction writes a provisional InactiveSince, inactiveProvisional
// ahead of this clock, which the second stamp replaces with the server's
// time. Events accepted in the moment between the change and the second
// stamp are owed too (they get a dead letter rather than nothing), and if
// the second stamp never comes (a crash), for at most inactiveProvisional.
const inactiveProvisional = 30 * time.Second

// provisionalInactive is the InactiveSince a status change writes before
// restampInactive stamps it with the server's time. Firestore keeps
// microseconds, so restampInactive finds it as written.
func provisionalInactive() time.Time {
	return time.Now().Add(inactiveProvisional).UTC().Truncate(time.Microsecond)
}

// DisableEndpoint disables an endpoint and records why and, if it was
// active, since when, in a transaction.
func (s *Store) DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error {
	ref := s.endpoints(tenantID).Doc(endpointID)
	stamped, provisional := false, provisionalInactive()
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		ep, err := decodeEndpoint(tenantID, snap)
		if err != nil {
			return err
		}
		updates := []fs.Update{
			{Path: "status", Value: string(hookrun.EndpointDisabled)},
			{Path: "disabled_reason", Value: reason},
		}
		stamped = ep.Status == hookrun.EndpointActive
		if stamped {
			updates = append(updates, fs.Update{Path: "inactive_since", Value: provisional})
		}
		if err := tx.Update(ref, updates); err != nil {
			return err
		}
		return s.endpointsChanged(tx, tenantID)
	})
	if err == nil && stamped {
		s.restampInactive(ctx, tenantID, ref, provisional)
	}
	return coded(err, fmt.Sprintf("endpoint %q", endpointID))
}

// restampInactive stamps an endpoint that is still inactive since the
// provisional time its status change wrote with the server's time, now
// that the change is visible. A failure leaves the provisional stamp,
// which is logged.
func (s *Store) restampInactive(ctx context.Context, tenantID string, ref *fs.DocumentRef, provisional time.Time) {
	if s.beforeRestamp != nil {
		s.beforeRestamp()
	}
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		var d endpointDoc
		if err := snap.DataTo(&d); err != nil {
			return err
		}
		if d.Status == string(hookrun.EndpointActive) || !d.InactiveSince.Equal(provisional) {
			return nil // enabled again, or changed since
		}
		if err := tx.Update(ref, []fs.Update{{Path: "inactive_since", Value: fs.ServerTimestamp}}); err != nil {
			return err
		}
		return s.endpointsChanged(tx, tenantID)
	})
	if err != nil {
		slog.ErrorContext(ctx, "stamp the time an endpoint became inactive with the server's time; events accepted in the next "+inactiveProvisional.String()+" get a dead letter",
			"endpoint_id", ref.ID, "error", err.Error())
	}
}

// UpdateEndpoint replaces a stored endpoint with e; a missing one is
// CodeNotFound. A status change e records (SetStatus) is stamped with the
// commit time.
func (s *Store) UpdateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	ref := s.endpoints(e.TenantID).Doc(e.ID)
	inactive, provisional := false, provisionalInactive()
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		stored, err := decodeEndpoint(e.TenantID, snap)
		if err != nil {
			return err
		}
		if err := tx.Set(ref, toEndpointDoc(e)); err != nil {
			return err
		}
		if err := s.endpointsChanged(tx, e.TenantID); err != nil {
			return err
		}
		var stamps []fs.Update
		if !e.ActiveSince.IsZero() && !e.ActiveSince.Equal(stored.ActiveSince) {
			stamps = append(stamps, fs.Update{Path: "active_since", Value: fs.ServerTimestamp})
		}
		inactive = !e.InactiveSince.IsZero() && !e.InactiveSince.Equal(stored.InactiveSince)
		if inactive {
			stamps = append(stamps, fs.Update{Path: "inactive_since", Value: provisional})
		}
		if len(stamps) == 0 {
			return nil
		}
		return tx.Update(ref, stamps)
	})
	if err == nil && inactive {
		s.restampInactive(ctx, e.TenantID, ref, provisional)
	}
	return coded(err, fmt.Sprintf("endpoint %q", e.ID))
}

// ClearPreviousSecret forgets an endpoint's previous secret version if it
// is still version (a later rotation may have replaced it), and reports
// whether it did.
func (s *Store) ClearPreviousSecret(ctx context.Context, tenantID, endpointID, version string) (bool, error) {
	ref := s.endpoints(tenantID).Doc(endpointID)
	cleared := false
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		cleared = false
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		if v, _ := snap.DataAt("previous_secret_version"); v != version {
			return nil
		}
		cleared = true
		if err := tx.Update(ref, []fs.Update{
			{Path: "previous_secret_version", Value: ""},
			{Path: "previous_secret_until", Value: time.Time{}},
		}); err != nil {
			return err
		}
		return s.endpointsChanged(tx, tenantID)
	})
	return cleared, coded(err, fmt.Sprintf("endpoint %q", endpointID))
}

// CountDeadInARow adds dead letter d to its endpoint's dead letters since
// its last success, once per chain of its delivery, and returns the count
// after it. One transaction that only writes creates the chain's marker
// (deadCountedMark), marks the delivery, and increments the endpoint's
// count: when the marker exists already the commit fails as a whole, so
// counting again the dead letter of a chain (the dispatcher's follow-up
// retried) adds nothing, and a replayed chain that dies again counts anew.
//
// Nothing is read in the transaction. A transaction's reads lock their
// documents until it ends, and one whose dispatcher was killed mid-way
// ends only when Firestore gives up on it: meanwhile, every write to the
// delivery (a bulk replay's claim) waited. And an endpoint that fails for
// good makes many of its deliveries dead at about the same time:
// transactions that each read and then wrote its one document queued
// behind each other's locks until the emulator, or Firestore, gave up on
// them ("Transaction lock timeout": the fault test lost counts, and an
// auto-disable, that way). The count read back after the commit is at
// least this call's own, so of concurrent callers the one whose increment
// reaches the threshold sees it reached (others may see it too; disabling
// twice is harmless).
func (s *Store) CountDeadInARow(ctx context.Context, d hookrun.Delivery) (int, error) {
	ref := s.endpoints(d.TenantID).Doc(d.EndpointID)
	dref := s.deliveryRef(d.TenantID, d.EventID, d.EndpointID)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		mark := map[string]any{"expire_time": s.now().Add(s.retention)}
		if err := tx.Create(s.deadCountedMark(d), mark); err != nil {
			return err
		}
		// Update, not Set: a delivery that does not exist fails the
		// commit (NotFound), as does an endpoint that does not.
		if err := tx.Update(dref, []fs.Update{{Path: deadCountedChain, Value: d.Chain}}); err != nil {
			return err
		}
		if err := tx.Update(ref, []fs.Update{{Path: "consecutive_dead", Value: fs.Increment(1)}}); err != nil {
			return err
		}
		return s.endpointsChanged(tx, d.TenantID)
	})
	if err != nil && status.Code(err) != codes.AlreadyExists { // AlreadyExists: counted before
		return 0, coded(err, fmt.Sprintf("delivery %q or its endpoint", hookrun.DeliveryID(d.EventID, d.EndpointID)))
	}
	snap, err := ref.Get(ctx)
	if err != nil {
		return 0, coded(err, fmt.Sprintf("endpoint %q", d.EndpointID))
	}
	v, _ := snap.DataAt("consecutive_dead")
	n, _ := v.(int64)
	return int(n), nil
}

// deadCountedChain is the field of a delivery that names the chain whose
// dead letter CountDeadInARow counted last, for whoever reads the
// document; deadCountedMark is what makes the count once per chain.
const deadCountedChain = "dead_counted_chain"

// deadCountedMark is the document whose existence says that the dead
// letter of d's chain was counted: one per delivery and chain, under the
// tenant, so that deleting the tenant's data deletes it, and with
// expire_time, as the delivery has, for the TTL policy (infra).
func (s *Store) deadCountedMark(d hookrun.Delivery) *fs.DocumentRef {
	return s.tenantRef(d.TenantID).Collection("dead_counted").Doc(hookrun.DeliveryID(d.EventID, d.EndpointID) + ":" + d.Chain)
}

// ResetDeadInARow sets an endpoint's dead letters since its last success
// back to zero after a success. One that is zero already is left alone:
// the dispatcher's cached endpoint may say otherwise for a while, and its
// resets must not each write the endpoint and the list's version.
func (s *Store) ResetDeadInARow(ctx context.Context, tenantID, endpointID string) error {
	ref := s.endpoints(tenantID).Doc(endpointID)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		if n, _ := snap.DataAt("consecutive_dead"); n == int64(0) {
			return nil
		}
		if err := tx.Update(ref, []fs.Update{{Path: "consecutive_dead", Value: 0}}); err != nil {
			return err
		}
		return s.endpointsChanged(tx, tenantID)
	})
	return coded(err, fmt.Sprintf("endpoint %q", endpointID))
}

// endpointsMarker is the document that holds the version of a tenant's
// endpoint list (hookrun.EndpointsVersion). It lives under the tenant, so
// that deleting the tenant's data deletes it, and apart from the tenant's
// document, so that a change racing a deletion cannot bring that back.
func (s *Store) endpointsMarker(tenantID string) *fs.DocumentRef {
	return s.tenantRef(tenantID).Collection("markers").Doc("endpoints")
}

// endpointsChanged gives a tenant's endpoint list a new version in tx,
// which changes one of its endpoints: every write to an endpoint must call
// it in the same transaction, or the dispatcher keeps a stale list.
func (s *Store) endpointsChanged(tx *fs.Transaction, tenantID string) error {
	return tx.Set(s.endpointsMarker(tenantID), map[string]any{
		"changed_at": fs.ServerTimestamp,
		"seq":        fs.Increment(1),
	}, fs.MergeAll)
}

// EndpointsChanged returns the version of a tenant's endpoint list, reading
// one document; a tenant whose endpoints never changed has the zero one.
func (s *Store) EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error) {
	snap, err := s.endpointsMarker(tenantID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return hookrun.EndpointsVersion{}, nil
	}
	if err != nil {
		return hookrun.EndpointsVersion{}, coded(err, fmt.Sprintf("endpoint list version of tenant %q", tenantID))
	}
	var d struct {
		ChangedAt time.Time `firestore:"changed_at"`
		Seq       int64     `firestore:"seq"`
	}
	if err := snap.DataTo(&d); err != nil {
		return hookrun.EndpointsVersion{}, fmt.Errorf("decode endpoint list version of tenant %s: %w", tenantID, err)
	}
	return hookrun.EndpointsVersion{ChangedAt: d.ChangedAt, Seq: d.Seq}, nil
}
