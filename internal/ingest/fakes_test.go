package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

var (
	_ ingest.Store     = (*fakeStore)(nil)
	_ ingest.Publisher = (*fakePublisher)(nil)
	_ ingest.Secrets   = (*fakeSecrets)(nil)
)

// fakeStore keeps everything in maps and follows the ingest.Store contract
// the way the Firestore adapter does (claims with leases, coded errors).
type fakeStore struct {
	mu             sync.Mutex
	tenants        map[string]hookrun.Tenant
	keys           map[string]string // key hash → tenant ID
	endpoints      map[string][]hookrun.Endpoint
	events         map[string]*storedEvent // tenant/event → record
	rejected       []hookrun.RejectedMessage
	metrics        hookrun.Metrics
	metricsQueries []metricsQuery
	catalogues     map[string]hookrun.Catalogue
	// deliveries by tenant; what the dispatcher would have written.
	deliveries map[string][]hookrun.Delivery
	// apiKeys holds the records of keys made through the API, by hash
	// (fakes_tenants_test.go); keys holds the hashes that authenticate.
	apiKeys map[string]hookrun.APIKey
	// deleteTenantDataErr fails DeleteTenantData. beforeDeleteTenantData
	// runs as it starts, tenantDeleted when it has removed a tenant's
	// record; both outside the lock.
	deleteTenantDataErr    error
	beforeDeleteTenantData func(limit int)
	tenantDeleted          func(id string)

	// claimed are the claims ClaimEvent made, in order.
	claimed []claim

	// Injected failures.
	createEndpointErr error
	// createEndpointHook runs inside CreateEndpoint before createEndpointErr
	// is returned, to simulate what happens meanwhile (a client hanging up).
	createEndpointHook func()
}

type storedEvent struct {
	event      hookrun.Event
	accepted   bool
	messageID  string
	leaseUntil time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		tenants:    map[string]hookrun.Tenant{},
		keys:       map[string]string{},
		endpoints:  map[string][]hookrun.Endpoint{},
		events:     map[string]*storedEvent{},
		deliveries: map[string][]hookrun.Delivery{},
	}
}

func (s *fakeStore) GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.events[tenantID+"/"+eventID]
	if !ok {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeNotFound, "event %q not found", eventID)
	}
	return r.event, nil
}

func (s *fakeStore) ListEventDeliveries(ctx context.Context, tenantID, eventID string) ([]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.Delivery
	for _, d := range s.deliveries[tenantID] {
		if d.EventID == eventID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *fakeStore) GetDelivery(ctx context.Context, tenantID, eventID, endpointID string) (hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries[tenantID] {
		if d.EventID == eventID && d.EndpointID == endpointID {
			return d, nil
		}
	}
	return hookrun.Delivery{}, hookrun.Errorf(hookrun.CodeNotFound, "delivery not found")
}

func (s *fakeStore) deadLetters(tenantID string, f hookrun.DeadLetterFilter) []hookrun.Delivery {
	var out []hookrun.Delivery
	for _, d := range s.deliveries[tenantID] {
		if d.State == hookrun.DeliveryDead && (f.EndpointID == "" || f.EndpointID == d.EndpointID) &&
			(f.EventType == "" || f.EventType == d.EventType) &&
			(f.Since.IsZero() || !d.DeadAt.Before(f.Since)) && (f.Until.IsZero() || d.DeadAt.Before(f.Until)) {
			out = append(out, d)
		}
	}
	return out
}

// ListDeadLetters pages by offset, with the offset as the token.
func (s *fakeStore) ListDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, pageSize int, token string) ([]hookrun.Delivery, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.deadLetters(tenantID, f)
	off := 0
	if token != "" {
		var err error
		if off, err = strconv.Atoi(token); err != nil {
			return nil, "", hookrun.Errorf(hookrun.CodeInvalidArgument, "page_token: bad")
		}
	}
	end := min(off+pageSize, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[off:end], next, nil
}

func (s *fakeStore) ListRejected(ctx context.Context, tenantID string, pageSize int, token string) ([]hookrun.RejectedMessage, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.RejectedMessage
	for _, m := range s.rejected {
		if tenantID == "" || m.TenantID == tenantID {
			out = append(out, m)
		}
	}
	return out, "", nil
}

// ClaimDeadLetter and ClaimDeadLetters claim by the domain's rule
// (hookrun.Delivery.ClaimableAt) under the store's lock, as the Firestore
// adapter does with a compare-and-set per dead letter.
func (s *fakeStore) ClaimDeadLetter(ctx context.Context, tenantID, eventID, endpointID, chain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.deliveries[tenantID] {
		if d.EventID == eventID && d.EndpointID == endpointID {
			if err := d.ClaimableAt(time.Now()); err != nil {
				return err
			}
			s.deliveries[tenantID][i].ReplayChain, s.deliveries[tenantID][i].ReplayClaimedAt = chain, time.Now()
			return nil
		}
	}
	return hookrun.Errorf(hookrun.CodeNotFound, "delivery %q not found", hookrun.DeliveryID(eventID, endpointID))
}

func (s *fakeStore) ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out hookrun.ReplayClaims
	for _, d := range s.deadLetters(tenantID, f) {
		if d.ClaimableAt(time.Now()) != nil || !eligible(d) {
			out.Skipped++
			continue
		}
		if out.Claimed == int64(limit) {
			out.More = true
			break
		}
		for i, o := range s.deliveries[tenantID] {
			if o.EventID == d.EventID && o.EndpointID == d.EndpointID {
				s.deliveries[tenantID][i].ReplayChain, s.deliveries[tenantID][i].ReplayClaimedAt = chain, time.Now()
			}
		}
		out.Claimed++
	}
	return out, nil
}

func (s *fakeStore) ReleaseReplay(ctx context.Context, tenantID, chain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.deliveries[tenantID] {
		if d.ReplayChain == chain && d.State == hookrun.DeliveryDead && d.Chain != chain {
			s.deliveries[tenantID][i].ReplayChain = ""
		}
	}
	return nil
}

// claimedBy lists the deliveries of a tenant that the replay chain holds.
func (s *fakeStore) claimedBy(tenantID, chain string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.deliveries[tenantID] {
		if d.ReplayChain == chain {
			out = append(out, hookrun.DeliveryID(d.EventID, d.EndpointID))
		}
	}
	slices.Sort(out)
	return out
}

func (s *fakeStore) CreateTenant(ctx context.Context, t hookrun.Tenant, keyHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[t.ID]; ok {
		return hookrun.Errorf(hookrun.CodeAlreadyExists, "tenant %q already exists", t.ID)
	}
	s.tenants[t.ID] = t
	s.keys[keyHash] = t.ID
	return nil
}

func (s *fakeStore) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
	}
	return t, nil
}

func (s *fakeStore) TenantForKey(ctx context.Context, keyHash string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.keys[keyHash]
	if !ok {
		return "", hookrun.Errorf(hookrun.CodeNotFound, "api key not found")
	}
	return id, nil
}

func (s *fakeStore) CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	if s.createEndpointHook != nil {
		s.createEndpointHook()
	}
	if s.createEndpointErr != nil {
		return s.createEndpointErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints[e.TenantID] = append(s.endpoints[e.TenantID], e)
	return nil
}

func (s *fakeStore) GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.endpoints[tenantID] {
		if e.ID == endpointID {
			return e, nil
		}
	}
	return hookrun.Endpoint{}, hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", endpointID)
}

func (s *fakeStore) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.endpoints[tenantID]), nil
}

func (s *fakeStore) DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	eps := s.endpoints[tenantID]
	i := slices.IndexFunc(eps, func(e hookrun.Endpoint) bool { return e.ID == endpointID })
	if i < 0 {
		return hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", endpointID)
	}
	s.endpoints[tenantID] = slices.Delete(eps, i, i+1)
	return nil
}

func eventKey(tenantID, eventID string) string { return tenantID + "/" + eventID }

func (s *fakeStore) ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (hookrun.Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := eventKey(e.TenantID, e.ID)
	if rec, ok := s.events[k]; ok {
		if rec.accepted {
			return rec.event, true, nil
		}
		if left := time.Until(rec.leaseUntil); left > 0 {
			return hookrun.Event{}, false, &hookrun.Error{Code: hookrun.CodeAborted,
				Message: fmt.Sprintf("an earlier request with event id %q is still being accepted", e.ID), RetryAfter: left}
		}
	}
	s.events[k] = &storedEvent{event: e, leaseUntil: time.Now().Add(lease)}
	s.claimed = append(s.claimed, claim{lease: lease, until: s.events[k].leaseUntil})
	return e, false, nil
}

func (s *fakeStore) AcceptEvent(ctx context.Context, tenantID, eventID, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.events[eventKey(tenantID, eventID)]
	if !ok {
		return hookrun.Errorf(hookrun.CodeNotFound, "event %q not found", eventID)
	}
	rec.accepted, rec.messageID, rec.leaseUntil = true, messageID, time.Time{}
	return nil
}

func (s *fakeStore) ReleaseEvent(ctx context.Context, tenantID, eventID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := eventKey(tenantID, eventID)
	if rec, ok := s.events[k]; ok && !rec.accepted {
		delete(s.events, k)
	}
	return nil
}

// addTenant stores a tenant and one key directly, bypassing the API.
func (s *fakeStore) addTenant(t hookrun.Tenant, keyHash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants[t.ID] = t
	s.keys[keyHash] = t.ID
}

// holdClaim simulates another request that is publishing eventID right
// now, with a lease of d.
func (s *fakeStore) holdClaim(tenantID, eventID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[eventKey(tenantID, eventID)] = &storedEvent{
		event:      hookrun.Event{ID: eventID, TenantID: tenantID},
		leaseUntil: time.Now().Add(d),
	}
}

// claim is a lease ClaimEvent gave, and when it ends.
type claim struct {
	lease time.Duration
	until time.Time
}

// claims returns the claims ClaimEvent made, in order.
func (s *fakeStore) claims() []claim {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.claimed)
}

func (s *fakeStore) event(tenantID, eventID string) (storedEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.events[eventKey(tenantID, eventID)]
	if !ok {
		return storedEvent{}, false
	}
	return *rec, true
}

func (s *fakeStore) eventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *fakeStore) endpointsOf(tenantID string) []hookrun.Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.endpoints[tenantID])
}

// fakePublisher records what it publishes; err makes Publish fail.
type fakePublisher struct {
	mu   sync.Mutex
	msgs []published
	err  error
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
	deadline, _ := ctx.Deadline()
	p.msgs = append(p.msgs, published{data: slices.Clone(data), attrs: attrs, deadline: deadline})
	return fmt.Sprintf("msg-%d", len(p.msgs)), nil
}

func (p *fakePublisher) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
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
