package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/wire"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

var (
	_ ingest.Store     = (*testStore)(nil)
	_ ingest.Publisher = (*fakePublisher)(nil)
	_ ingest.Secrets   = (*fakeSecrets)(nil)
)

// The auth matrix (authmatrix_test.go) is an internal test, to read the
// router's routes; it runs on these.
func init() {
	ingest.NewMatrixService = func(cfg ingest.Config, opts ...ingest.Option) (*ingest.Service, error) {
		return ingest.New(cfg, newTestStore(), &fakePublisher{}, newFakeSecrets(), append(opts, ingest.WithChallenger(&fakeChallenger{}))...)
	}
}

// testStore is the memory store ingest's tests run on, with the failures
// a test injects into it and a record of the calls a test looks at.
type testStore struct {
	*memstore.Store

	mu sync.Mutex
	// createEndpointHook runs as CreateEndpoint starts, to simulate what
	// happens meanwhile (a client hanging up); createEndpointErr then
	// fails it.
	createEndpointErr  error
	createEndpointHook func()
	// deleteTenantDataErr fails DeleteTenantData. beforeDeleteTenantData
	// runs as it starts, tenantDeleted when it has removed a tenant's
	// record.
	deleteTenantDataErr    error
	beforeDeleteTenantData func(limit int)
	tenantDeleted          func(id string)
	// orphanKeys authenticate as tenants whose record is gone: hash →
	// tenant ID.
	orphanKeys map[string]string

	// claimed are the claims ClaimEvent made, in order; metricsQueries
	// the queries Metrics answered.
	claimed        []claim
	metricsQueries []metricsQuery
}

func newTestStore() *testStore { return &testStore{Store: memstore.New()} }

func (s *testStore) CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	s.mu.Lock()
	hook, err := s.createEndpointHook, s.createEndpointErr
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil {
		return err
	}
	return s.Store.CreateEndpoint(ctx, e)
}

func (s *testStore) DeleteTenantData(ctx context.Context, id string, limit int) (int, bool, error) {
	s.mu.Lock()
	before, deleted, err := s.beforeDeleteTenantData, s.tenantDeleted, s.deleteTenantDataErr
	s.mu.Unlock()
	if before != nil {
		before(limit)
	}
	if err != nil {
		return 0, false, err
	}
	n, done, err := s.Store.DeleteTenantData(ctx, id, limit)
	if done && err == nil && deleted != nil {
		deleted(id)
	}
	return n, done, err
}

func (s *testStore) TenantForKey(ctx context.Context, keyHash string) (string, error) {
	s.mu.Lock()
	id, ok := s.orphanKeys[keyHash]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	return s.Store.TenantForKey(ctx, keyHash)
}

// ClaimEvent records each claim it makes.
func (s *testStore) ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	stored, how, err := s.Store.ClaimEvent(ctx, e, lease)
	if err == nil && how != hookrun.ClaimedDuplicate {
		rec, _ := s.Event(e.TenantID, e.ID)
		s.mu.Lock()
		s.claimed = append(s.claimed, claim{lease: lease, until: rec.LeaseUntil})
		s.mu.Unlock()
	}
	return stored, how, err
}

// Metrics records each query it answers.
func (s *testStore) Metrics(ctx context.Context, tenantID, endpointID string, since, until time.Time) (hookrun.Metrics, error) {
	s.mu.Lock()
	s.metricsQueries = append(s.metricsQueries, metricsQuery{tenantID, endpointID, since, until})
	s.mu.Unlock()
	return s.Store.Metrics(ctx, tenantID, endpointID, since, until)
}

type metricsQuery struct {
	tenantID, endpointID string
	since, until         time.Time
}

// addTenant stores a tenant and one key directly, bypassing the API.
func (s *testStore) addTenant(t hookrun.Tenant, keyHash string) {
	if err := s.CreateTenant(context.Background(), t, keyHash); err != nil {
		panic(err) // a test's fixture is wrong
	}
}

// addOrphanKey makes keyHash authenticate as tenant id, which has no
// record: what a crash half way through a deletion could leave.
func (s *testStore) addOrphanKey(keyHash, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orphanKeys == nil {
		s.orphanKeys = map[string]string{}
	}
	s.orphanKeys[keyHash] = id
}

// holdClaim simulates another request that is publishing eventID right
// now, with a lease of d.
func (s *testStore) holdClaim(tenantID, eventID string, d time.Duration) {
	if _, _, err := s.Store.ClaimEvent(context.Background(), hookrun.Event{ID: eventID, TenantID: tenantID}, d); err != nil {
		panic(err)
	}
}

// claim is a lease ClaimEvent gave, and when it ends.
type claim struct {
	lease time.Duration
	until time.Time
}

// claims returns the claims ClaimEvent made, in order.
func (s *testStore) claims() []claim {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.claimed)
}

// storedEvent is an event's record.
type storedEvent struct {
	event     hookrun.Event
	accepted  bool
	messageID string
}

func (s *testStore) event(tenantID, eventID string) (storedEvent, bool) {
	rec, ok := s.Event(tenantID, eventID)
	return storedEvent{event: rec.Event, accepted: rec.Accepted, messageID: rec.MessageID}, ok
}

func (s *testStore) eventCount() int { return len(s.Events()) }

func (s *testStore) endpointsOf(tenantID string) []hookrun.Endpoint {
	eps, err := s.ListEndpoints(context.Background(), tenantID)
	if err != nil {
		panic(err)
	}
	return eps
}

// claimedBy lists the deliveries of a tenant that the replay chain holds.
func (s *testStore) claimedBy(tenantID, chain string) []string {
	var out []string
	_ = s.EachReplayClaim(context.Background(), tenantID, chain, func(d hookrun.Delivery) error {
		out = append(out, hookrun.DeliveryID(d.EventID, d.EndpointID))
		return nil
	})
	slices.Sort(out)
	return out
}

// addTenantData gives tenant id n endpoints, events, deliveries and
// rejected messages, bypassing the API.
func (s *testStore) addTenantData(id string, n int) {
	ctx := context.Background()
	for range n {
		ep := hookrun.Endpoint{ID: hookrun.NewID("ep_"), TenantID: id, URL: "https://example.com/", EventTypes: []string{"*"}, Status: hookrun.EndpointActive}
		e := hookrun.Event{ID: hookrun.NewID("evt_"), TenantID: id, Type: "user.created", Data: []byte(`{}`)}
		err := errors.Join(s.Store.CreateEndpoint(ctx, ep), s.SaveEvent(ctx, e, "m"),
			s.SetDeliveryState(ctx, hookrun.Delivery{TenantID: id, EventID: e.ID, EndpointID: ep.ID}),
			s.RecordRejected(ctx, hookrun.RejectedMessage{MessageID: hookrun.NewID("m"), TenantID: id, Reason: "test"}))
		if err != nil {
			panic(err)
		}
	}
}

// tenantDocs counts what the store holds of tenant id, its record
// included.
func (s *testStore) tenantDocs(id string) int { return s.TenantRecords(id) }

func (s *testStore) tenantCount() int {
	ts, _, err := s.ListTenants(context.Background(), 1000, "")
	if err != nil {
		panic(err)
	}
	return len(ts)
}

// fakePublisher records what it publishes; err makes Publish fail, and
// so does an event ID in failing.
type fakePublisher struct {
	mu      sync.Mutex
	msgs    []published
	err     error
	failing map[string]bool // event ID → its publish fails
}

type published struct {
	data  []byte
	attrs map[string]string
	// deadline of the publish's context; zero without one.
	deadline time.Time
}

func (p *fakePublisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", p.err
	}
	if id := attrs[wire.AttrEventID]; p.failing[id] {
		return "", fmt.Errorf("publish %s: rpc error: code = Unavailable", id)
	}
	deadline, _ := ctx.Deadline()
	p.msgs = append(p.msgs, published{data: slices.Clone(data), attrs: attrs, deadline: deadline})
	return fmt.Sprintf("msg-%d", len(p.msgs)), nil
}

// Start publishes at once; its wait returns the outcome.
func (p *fakePublisher) Start(ctx context.Context, data []byte, attrs map[string]string) func() (string, error) {
	return ingest.PublishFunc(p.Publish).Start(ctx, data, attrs)
}

func (p *fakePublisher) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// failEvents makes the publishes of these event IDs fail, and only
// those; none lets every publish through again.
func (p *fakePublisher) failEvents(ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = map[string]bool{}
	for _, id := range ids {
		p.failing[id] = true
	}
}

func (p *fakePublisher) published() []published {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// fakeSecrets behaves like a gRPC client: a cancelled context fails a call.
type fakeSecrets struct {
	mu        sync.Mutex
	secrets   map[string][]byte // secret ID → latest payload
	versions  map[string][]byte // version name → payload
	disabled  map[string]bool
	createErr error
	deleted   []string
}

func newFakeSecrets() *fakeSecrets {
	return &fakeSecrets{secrets: map[string][]byte{}, versions: map[string][]byte{}, disabled: map[string]bool{}}
}

// errSecretTooLarge is what Secret Manager answers a payload over its
// limit, as the adapter reports it: a refusal, not an outage.
var errSecretTooLarge = hookrun.WrapError(hookrun.CodeInternal, errors.New("rpc error: code = InvalidArgument desc = payload too large"), "Secret Manager refused the request")

func (s *fakeSecrets) Create(ctx context.Context, secretID string, payload []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(payload) > 64<<10 {
		return "", errSecretTooLarge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.createErr != nil {
		return "", s.createErr
	}
	if _, ok := s.secrets[secretID]; ok {
		return "", errors.New("secret already exists")
	}
	s.secrets[secretID] = slices.Clone(payload)
	v := "projects/test/secrets/" + secretID + "/versions/1"
	s.versions[v] = slices.Clone(payload)
	return v, nil
}

func (s *fakeSecrets) Delete(ctx context.Context, secretID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, secretID)
	s.deleted = append(s.deleted, secretID)
	return nil
}

func (s *fakeSecrets) get(secretID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.secrets[secretID]
	return p, ok
}

func (s *fakeSecrets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secrets)
}
