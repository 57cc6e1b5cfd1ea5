package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
)

var (
	_ dispatch.Store        = (*fakeStore)(nil)
	_ dispatch.Secrets      = (*fakeSecrets)(nil)
	_ dispatch.PushVerifier = (*fakeVerifier)(nil)
	_ dispatch.Scheduler    = (*fakeScheduler)(nil)
	_ dispatch.Publisher    = (*fakePublisher)(nil)
)

// fakeStore keeps the dispatcher's records in maps, with the semantics of
// the Firestore adapter: RecordAttempt counts attempts and sets the state.
type fakeStore struct {
	mu         sync.Mutex
	tenants    map[string]hookrun.Tenant
	endpoints  map[string][]hookrun.Endpoint
	events     map[string]hookrun.Event // tenant/event
	deliveries map[string]hookrun.Delivery
	attempts   map[string][]hookrun.Attempt
	rejected   []hookrun.RejectedMessage

	// Injected failures.
	getTenantErr     error
	recordAttemptErr error
	recordRejectErr  error
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		tenants:    map[string]hookrun.Tenant{},
		endpoints:  map[string][]hookrun.Endpoint{},
		events:     map[string]hookrun.Event{},
		deliveries: map[string]hookrun.Delivery{},
		attempts:   map[string][]hookrun.Attempt{},
	}
}

func deliveryKey(tenantID, eventID, endpointID string) string {
	return tenantID + "/" + hookrun.DeliveryID(eventID, endpointID)
}

func (s *fakeStore) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getTenantErr != nil {
		return hookrun.Tenant{}, s.getTenantErr
	}
	t, ok := s.tenants[id]
	if !ok {
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
	}
	return t, nil
}

func (s *fakeStore) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.endpoints[tenantID]), nil
}

func (s *fakeStore) SaveEvent(ctx context.Context, e hookrun.Event, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := e.TenantID + "/" + e.ID
	if _, ok := s.events[k]; !ok {
		s.events[k] = e
	}
	return nil
}

func (s *fakeStore) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]hookrun.Delivery{}
	for _, id := range endpointIDs {
		if d, ok := s.deliveries[deliveryKey(tenantID, eventID, id)]; ok {
			out[id] = d
		}
	}
	return out, nil
}

func (s *fakeStore) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recordAttemptErr != nil {
		return s.recordAttemptErr
	}
	k := deliveryKey(d.TenantID, d.EventID, d.EndpointID)
	d.Attempts = s.deliveries[k].Attempts + 1
	d.ChainAttempts = a.Number
	s.deliveries[k] = d
	s.attempts[k] = append(s.attempts[k], a)
	return nil
}

func (s *fakeStore) GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ep := range s.endpoints[tenantID] {
		if ep.ID == endpointID {
			return ep, nil
		}
	}
	return hookrun.Endpoint{}, hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", endpointID)
}

func (s *fakeStore) GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[tenantID+"/"+eventID]
	if !ok {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeNotFound, "event %q not found", eventID)
	}
	return e, nil
}

func (s *fakeStore) SetDeliveryState(ctx context.Context, d hookrun.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKey(d.TenantID, d.EventID, d.EndpointID)
	old, ok := s.deliveries[k]
	if !ok {
		s.deliveries[k] = d
		return nil
	}
	old.State, old.DeadReason, old.DeadAt, old.UpdatedAt, old.NextAttemptAt = d.State, d.DeadReason, d.DeadAt, d.UpdatedAt, d.NextAttemptAt
	old.Chain, old.ChainAttempts = d.Chain, d.ChainAttempts
	s.deliveries[k] = old
	return nil
}

func (s *fakeStore) CountDeadInARow(ctx context.Context, tenantID, endpointID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ep := range s.endpoints[tenantID] {
		if ep.ID == endpointID {
			s.endpoints[tenantID][i].ConsecutiveDead++
			return s.endpoints[tenantID][i].ConsecutiveDead, nil
		}
	}
	return 0, hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", endpointID)
}

func (s *fakeStore) ResetDeadInARow(ctx context.Context, tenantID, endpointID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ep := range s.endpoints[tenantID] {
		if ep.ID == endpointID {
			s.endpoints[tenantID][i].ConsecutiveDead = 0
		}
	}
	return nil
}

func (s *fakeStore) MarkAnnounced(ctx context.Context, tenantID, eventID, endpointID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKey(tenantID, eventID, endpointID)
	d := s.deliveries[k]
	d.Announced = true
	s.deliveries[k] = d
	return nil
}

func (s *fakeStore) DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ep := range s.endpoints[tenantID] {
		if ep.ID == endpointID {
			s.endpoints[tenantID][i].SetStatus(hookrun.EndpointDisabled, time.Now())
			s.endpoints[tenantID][i].DisabledReason = reason
			return nil
		}
	}
	return hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", endpointID)
}

func (s *fakeStore) ListEndpointDeliveries(ctx context.Context, tenantID, endpointID string, state hookrun.DeliveryState, limit int) ([]hookrun.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hookrun.Delivery
	for _, d := range s.deliveries {
		if d.TenantID == tenantID && d.EndpointID == endpointID && d.State == state && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

// ClaimDeadLetters claims like the Firestore adapter, by the domain's rule
// (hookrun.Delivery.ClaimableAt), under the store's lock.
func (s *fakeStore) ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out hookrun.ReplayClaims
	now := time.Now()
	for _, k := range slices.Sorted(maps.Keys(s.deliveries)) {
		d := s.deliveries[k]
		if d.TenantID != tenantID || d.State != hookrun.DeliveryDead || (f.EndpointID != "" && d.EndpointID != f.EndpointID) ||
			(f.EventType != "" && d.EventType != f.EventType) {
			continue
		}
		if d.ClaimableAt(now) != nil || (eligible != nil && !eligible(d)) {
			out.Skipped++
			continue
		}
		if out.Claimed == int64(limit) {
			out.More = true
			break
		}
		d.ReplayChain, d.ReplayClaimedAt = chain, now
		s.deliveries[k] = d
		out.Claimed++
	}
	return out, nil
}

func (s *fakeStore) EachReplayClaim(ctx context.Context, tenantID, chain string, fn func(hookrun.Delivery) error) error {
	s.mu.Lock()
	var claimed []hookrun.Delivery
	for _, d := range s.deliveries {
		if d.TenantID == tenantID && d.ReplayChain == chain {
			claimed = append(claimed, d)
		}
	}
	s.mu.Unlock()
	for _, d := range claimed {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeStore) StartReplay(ctx context.Context, tenantID, eventID, endpointID, chain string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKey(tenantID, eventID, endpointID)
	d, ok := s.deliveries[k]
	if !ok || d.State != hookrun.DeliveryDead || d.ReplayChain != chain || d.Chain == chain {
		return false, nil
	}
	d.State, d.Chain, d.ChainAttempts, d.DeadReason, d.DeadAt, d.Announced = hookrun.DeliveryPending, chain, 0, "", time.Time{}, false
	s.deliveries[k] = d
	return true, nil
}

// fakeScheduler records scheduled tasks by name, like Cloud Tasks: a name
// is used once.
type fakeScheduler struct {
	mu    sync.Mutex
	tasks map[string]scheduledTask
	order []string
	err   error
}

type scheduledTask struct {
	at   time.Time
	body []byte
}

func (f *fakeScheduler) Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.tasks == nil {
		f.tasks = map[string]scheduledTask{}
	}
	if _, dup := f.tasks[taskID]; dup {
		return nil
	}
	f.tasks[taskID] = scheduledTask{at: at, body: body}
	f.order = append(f.order, taskID)
	return nil
}

// scheduled returns the tasks in the order they were first scheduled.
func (f *fakeScheduler) scheduled() []scheduledTask {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]scheduledTask, len(f.order))
	for i, id := range f.order {
		out[i] = f.tasks[id]
	}
	return out
}

// fakePublisher records dead letters published on the dead-letters topic.
type fakePublisher struct {
	mu   sync.Mutex
	msgs []publishedMessage
	err  error
}

type publishedMessage struct {
	data  []byte
	attrs map[string]string
}

func (f *fakePublisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.msgs = append(f.msgs, publishedMessage{data: data, attrs: attrs})
	return "dl-1", nil
}

func (f *fakePublisher) published() []publishedMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

func (s *fakeStore) RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recordRejectErr != nil {
		return s.recordRejectErr
	}
	s.rejected = append(s.rejected, m)
	return nil
}

func (s *fakeStore) setRecordAttemptErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordAttemptErr = err
}

func (s *fakeStore) delivery(tenantID, eventID, endpointID string) (hookrun.Delivery, []hookrun.Attempt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKey(tenantID, eventID, endpointID)
	d, ok := s.deliveries[k]
	return d, slices.Clone(s.attempts[k]), ok
}

func (s *fakeStore) deliveryCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deliveries)
}

func (s *fakeStore) rejections() []hookrun.RejectedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

func (s *fakeStore) savedEvents() map[string]hookrun.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.events)
}

// fakeSecrets serves endpoint secret payloads by version name.
type fakeSecrets struct {
	mu       sync.Mutex
	versions map[string][]byte
	err      error
	// failed is closed once an Access has failed, if set.
	failed     chan struct{}
	failedOnce sync.Once
}

func newFakeSecrets() *fakeSecrets { return &fakeSecrets{versions: map[string][]byte{}} }

func (s *fakeSecrets) Access(ctx context.Context, version string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	p, ok := s.versions[version]
	if !ok {
		if s.failed != nil {
			s.failedOnce.Do(func() { close(s.failed) })
		}
		return nil, errors.New("secret version not found")
	}
	return p, nil
}

func (s *fakeSecrets) put(version, signingSecret string) {
	p, _ := json.Marshal(hookrun.EndpointSecret{SigningSecret: signingSecret})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[version] = p
}

// fakeVerifier stands in for the OIDC check of push requests.
type fakeVerifier struct {
	mu   sync.Mutex
	err  error
	seen []string
}

func (v *fakeVerifier) Verify(ctx context.Context, authorization string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen = append(v.seen, authorization)
	return v.err
}
