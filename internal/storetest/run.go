// Package storetest is the contract every hookrun store is held to: the
// Firestore store (internal/firestore, on the emulator) and the memory
// store the services' tests run on (internal/memstore). Run holds a store
// to it; a behaviour ingest or dispatch rely on belongs here, so that the
// double cannot get it wrong unseen.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

// Store is what the contract holds a store to: what ingest and dispatch
// use, and CreateTenant, which seeds a tenant from a key's hash.
type Store interface {
	ingest.Store
	dispatch.Store
	CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error
}

// Opener returns a new, empty store for one test that reads the time from
// now wherever it takes a time of its own (leases, claims; the Firestore
// store stamps status changes with the server's clock instead).
type Opener func(t *testing.T, now func() time.Time) Store

// Run runs the contract's tests, each on a store of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"Tenants", testTenants},
		{"MissingRecords", testMissingRecords},
		{"Endpoints", testEndpoints},
		{"ClaimEvent", testClaimEvent},
		{"ClaimEventConcurrent", testClaimEventConcurrent},
		{"SaveEvent", testSaveEvent},
		{"RecordEvents", testRecordEvents},
		{"Deliveries", testDeliveries},
		{"Rejected", testRejected},
		{"APIKeys", testAPIKeys},
		{"ProducerKeys", testProducerKeys},
		{"ListProducerKeysPages", testListProducerKeysPages},
		{"CreateTenantFromHash", testCreateTenantFromHash},
		{"UpdateTenant", testUpdateTenant},
		{"ListTenantsPages", testListTenantsPages},
		{"DeleteTenantData", testDeleteTenantData},
		{"DeleteTenantDataInOneCall", testDeleteTenantDataInOneCall},
		{"TenantDeletionRecord", testTenantDeletionRecord},
		{"TenantLimits", testTenantLimits},
		{"CountEndpoints", testCountEndpoints},
		{"RecordAttemptChains", testRecordAttemptChains},
		{"RecordAttempts", testRecordAttempts},
		{"SetDeliveryStateAndAnnounced", testSetDeliveryStateAndAnnounced},
		{"DisableEndpoint", testDisableEndpoint},
		{"ListDeliveries", testListDeliveries},
		{"ListDeadLetters", testListDeadLetters},
		{"ListDeadLettersPages", testListDeadLettersPages},
		{"ListDeadLettersPagesSameDeadTime", testListDeadLettersPagesSameDeadTime},
		{"ListDeadLettersBadToken", testListDeadLettersBadToken},
		{"ListRejectedPagesNewestFirst", testListRejectedPagesNewestFirst},
		{"ListEvents", testListEvents},
		{"ListEventsSummaries", testListEventsSummaries},
		{"ListEventsManyOnAPage", testListEventsManyOnAPage},
		{"ListEventsBadToken", testListEventsBadToken},
		{"ClaimDeadLettersByFilter", testClaimDeadLettersByFilter},
		{"ClaimDeadLettersLimitAndEligible", testClaimDeadLettersLimitAndEligible},
		{"ClaimDeadLettersConcurrent", testClaimDeadLettersConcurrent},
		{"ClaimDeadLetter", testClaimDeadLetter},
		{"StartReplay", testStartReplay},
		{"ReplayClaimLapses", testReplayClaimLapses},
		{"ReplayRecords", testReplayRecords},
		{"ReplayCountsOutcomes", testReplayCountsOutcomes},
		{"ReplaysDeletedWithTenant", testReplaysDeletedWithTenant},
		{"UpdateEndpointRoundTripsEveryField", testUpdateEndpointRoundTripsEveryField},
		{"DeadInARowCounter", testDeadInARowCounter},
		{"DeadInARowBurst", testDeadInARowBurst},
		{"EveryEndpointChangeMovesTheVersion", testEveryEndpointChangeMovesTheVersion},
		{"StatusChangesAreStampedWhenTheyCommit", testStatusChangesAreStampedWhenTheyCommit},
		{"Catalogue", testCatalogue},
		{"SourceBindings", testSourceBindings},
		{"SourceBindingsConcurrent", testSourceBindingsConcurrent},
		{"MetricsWithConcurrentWriters", testMetricsWithConcurrentWriters},
		{"PortalLinks", testPortalLinks},
		{"PortalLinkClaimConcurrent", testPortalLinkClaimConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// clock is a store's time, which a test may move.
type clock struct {
	mu  sync.Mutex
	now func() time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

func (c *clock) set(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func (o Opener) store(t *testing.T) Store {
	s, _ := o.storeWithClock(t)
	return s
}

func (o Opener) storeWithClock(t *testing.T) (Store, *clock) {
	t.Helper()
	c := &clock{now: time.Now}
	return o(t, c.Now), c
}

// Rejected returns a rejected message by its Pub/Sub message ID; one that
// is not there is CodeNotFound. It pages through every rejected message,
// so it is for tests.
func Rejected(ctx context.Context, s ingest.DeliveryStore, messageID string) (hookrun.RejectedMessage, error) {
	token := ""
	for {
		page, next, err := s.ListRejected(ctx, "", 100, token)
		if err != nil {
			return hookrun.RejectedMessage{}, err
		}
		for _, m := range page {
			if m.MessageID == messageID {
				return m, nil
			}
		}
		if next == "" {
			return hookrun.RejectedMessage{}, hookrun.Errorf(hookrun.CodeNotFound, "rejected message %q not found", messageID)
		}
		token = next
	}
}
