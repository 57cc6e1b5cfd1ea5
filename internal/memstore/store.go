// Package memstore keeps hookrun's records in memory: the test double of
// internal/firestore for the ingest and dispatch tests. It is held to the
// same contract tests as the Firestore store (internal/storetest), so it
// answers as Firestore does: the same error codes, the same order and
// pages, the same claims and leases, times kept to the microsecond in UTC.
// Where Firestore stamps a time of its own (a status change, a claim), the
// store's clock does (WithClock).
//
// A test that needs a store to fail, hang or count its calls wraps this
// one (embedding *Store) and overrides the methods it breaks; fixtures.go
// has what a test needs to set up and inspect that the services' API does
// not offer.
package memstore

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Store implements the storage interfaces of ingest and dispatch. It is
// safe for concurrent use; every method holds one lock, so each is atomic
// as Firestore's transactions are.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	tenants map[string]hookrun.Tenant
	keys    map[string]hookrun.APIKey // by hash
	// producerKeys: key hash → producer key
	producerKeys map[string]hookrun.ProducerKey
	endpoints    map[string]hookrun.Endpoint
	events       map[string]eventRecord
	deliveries   map[string]*deliveryRecord
	rejected     map[string]hookrun.RejectedMessage
	catalogues   map[string]hookrun.Catalogue
	replays      map[string]hookrun.Replay // by key(tenant, replay ID)
	deletions    map[string]hookrun.TenantDeletion
	// portalLinks: token hash → link
	portalLinks map[string]hookrun.PortalLink
	// sources: claim (hookrun.SourceMatch.Claim) → the bindings holding it
	sources map[string][]hookrun.SourceBinding
	// epVersions: tenant → the version of its endpoint list
	epVersions map[string]hookrun.EndpointsVersion
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now: the stamps Firestore
// takes from its own clock, and the ends of leases and claims.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:          time.Now,
		tenants:      map[string]hookrun.Tenant{},
		keys:         map[string]hookrun.APIKey{},
		producerKeys: map[string]hookrun.ProducerKey{},
		endpoints:    map[string]hookrun.Endpoint{},
		epVersions:   map[string]hookrun.EndpointsVersion{},
		events:       map[string]eventRecord{},
		deliveries:   map[string]*deliveryRecord{},
		rejected:     map[string]hookrun.RejectedMessage{},
		catalogues:   map[string]hookrun.Catalogue{},
		replays:      map[string]hookrun.Replay{},
		deletions:    map[string]hookrun.TenantDeletion{},
		portalLinks:  map[string]hookrun.PortalLink{},
		sources:      map[string][]hookrun.SourceBinding{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// key joins a tenant and a document ID, as a document's path does.
func key(tenantID, id string) string { return tenantID + "/" + id }

// ofTenant reports whether k (made by key) belongs to tenantID.
func ofTenant(k, tenantID string) bool {
	return len(k) > len(tenantID) && k[len(tenantID)] == '/' && k[:len(tenantID)] == tenantID
}

// stamp is t as Firestore keeps it: UTC, to the microsecond.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// toMillis is d as Firestore keeps durations: whole milliseconds.
func toMillis(d hookrun.Duration) hookrun.Duration {
	return hookrun.Duration(time.Duration(d).Truncate(time.Millisecond))
}

func storedPolicy(p hookrun.RetryPolicy) hookrun.RetryPolicy {
	p.InitialDelay, p.MaxDelay = toMillis(p.InitialDelay), toMillis(p.MaxDelay)
	return p
}

// newestFirst sorts items by time descending, then ID descending, and
// returns the page after token, as the Firestore store's lists do.
func newestFirst[T any](items []T, pageSize int, token string, keyOf func(T) (time.Time, string)) ([]T, string, error) {
	order := func(a, b T) int {
		at, aid := keyOf(a)
		bt, bid := keyOf(b)
		return cmp.Or(bt.Compare(at), cmp.Compare(bid, aid))
	}
	slices.SortFunc(items, order)
	if token != "" {
		t, id, err := hookrun.ParsePageToken(token)
		if err != nil {
			return nil, "", err
		}
		items = slices.DeleteFunc(items, func(x T) bool {
			xt, xid := keyOf(x)
			return cmp.Or(t.Compare(xt), cmp.Compare(id, xid)) <= 0 // at or before the token
		})
	}
	return cut(items, pageSize, keyOf)
}

// cut cuts items to pageSize and returns the next page's token.
func cut[T any](items []T, pageSize int, keyOf func(T) (time.Time, string)) ([]T, string, error) {
	if len(items) <= pageSize {
		return items, "", nil
	}
	items = items[:pageSize]
	return items, hookrun.PageToken(keyOf(items[len(items)-1])), nil
}

// sortedKeys returns m's keys in order, as Firestore returns documents by
// name.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
