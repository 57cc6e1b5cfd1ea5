package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/memstore"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
)

var (
	_ dispatch.Store        = (*testStore)(nil)
	_ dispatch.Secrets      = (*fakeSecrets)(nil)
	_ dispatch.PushVerifier = (*fakeVerifier)(nil)
	_ dispatch.Scheduler    = (*fakeScheduler)(nil)
	_ dispatch.Publisher    = (*fakePublisher)(nil)
)

// testStore is the memory store the dispatcher's tests run on, with the
// failures a test injects into it.
type testStore struct {
	*memstore.Store

	mu               sync.Mutex
	getTenantErr     error
	recordAttemptErr error
	recordRejectErr  error
	countDeadErr     error
	disableErr       error
	// replays is every replay record UpdateReplay stored, in order.
	replays []hookrun.Replay
	// deliveryReads counts GetDeliveries calls.
	deliveryReads int
	// batches receives the records of each RecordAttempts call, when set.
	batches chan []hookrun.AttemptRecord
}

func newTestStore() *testStore { return &testStore{Store: memstore.New()} }

// fault returns the injected error *err.
func (s *testStore) fault(err *error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *err
}

func (s *testStore) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	if err := s.fault(&s.getTenantErr); err != nil {
		return hookrun.Tenant{}, err
	}
	return s.Store.GetTenant(ctx, id)
}

// GetDeliveries counts the reads of earlier deliveries.
func (s *testStore) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	s.mu.Lock()
	s.deliveryReads++
	s.mu.Unlock()
	return s.Store.GetDeliveries(ctx, tenantID, eventID, endpointIDs)
}

// reads returns how many times GetDeliveries was called.
func (s *testStore) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveryReads
}

func (s *testStore) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	if err := s.fault(&s.recordAttemptErr); err != nil {
		return err
	}
	return s.Store.RecordAttempt(ctx, d, a)
}

// RecordAttempts stores the records and hands them to batches, when set.
func (s *testStore) RecordAttempts(ctx context.Context, recs []hookrun.AttemptRecord) []error {
	errs := s.Store.RecordAttempts(ctx, recs)
	s.mu.Lock()
	batches := s.batches
	s.mu.Unlock()
	if batches != nil {
		batches <- slices.Clone(recs)
	}
	return errs
}

func (s *testStore) CountDeadInARow(ctx context.Context, d hookrun.Delivery) (int, error) {
	if err := s.fault(&s.countDeadErr); err != nil {
		return 0, err
	}
	return s.Store.CountDeadInARow(ctx, d)
}

func (s *testStore) DisableEndpoint(ctx context.Context, tenantID, endpointID, reason string) error {
	if err := s.fault(&s.disableErr); err != nil {
		return err
	}
	return s.Store.DisableEndpoint(ctx, tenantID, endpointID, reason)
}

func (s *testStore) RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error {
	if err := s.fault(&s.recordRejectErr); err != nil {
		return err
	}
	return s.Store.RecordRejected(ctx, m)
}

// UpdateReplay keeps what it stores, so a test sees the progress of a
// replay as it went.
func (s *testStore) UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error) {
	r, err := s.Store.UpdateReplay(ctx, tenantID, id, apply)
	if err == nil {
		s.mu.Lock()
		s.replays = append(s.replays, r)
		s.mu.Unlock()
	}
	return r, err
}

// replayUpdates returns what UpdateReplay stored so far and forgets it.
func (s *testStore) replayUpdates() []hookrun.Replay {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.replays
	s.replays = nil
	return out
}

func (s *testStore) setRecordAttemptErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordAttemptErr = err
}

// setFault makes the store's method that reads *fault fail with err (nil:
// work again).
func (s *testStore) setFault(fault *error, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*fault = err
}

// putTenant stores t, replacing the tenant with its ID.
func (s *testStore) putTenant(t hookrun.Tenant) {
	ctx := context.Background()
	err := s.CreateTenant(ctx, t, "hash-"+t.ID)
	if hookrun.ErrorCode(err) == hookrun.CodeAlreadyExists {
		_, err = s.UpdateTenant(ctx, t.ID, func(hookrun.Tenant) (hookrun.Tenant, error) { return t, nil })
	}
	if err != nil {
		panic(err) // the memory store fails neither
	}
}

// removeTenant deletes a tenant and all it has.
func (s *testStore) removeTenant(tb testing.TB, id string) {
	tb.Helper()
	ctx := context.Background()
	_, err := s.UpdateTenant(ctx, id, func(t hookrun.Tenant) (hookrun.Tenant, error) { return t.MarkDeleting(time.Now()), nil })
	if err == nil {
		_, _, err = s.DeleteTenantData(ctx, id, 0)
	}
	if err != nil {
		tb.Fatalf("remove tenant %s: %v", id, err)
	}
}

// putEvent stores an event as ingest does once it is accepted.
func (s *testStore) putEvent(tb testing.TB, ev hookrun.Event) {
	tb.Helper()
	if err := s.SaveEvent(context.Background(), ev, "m-"+ev.ID); err != nil {
		tb.Fatalf("SaveEvent: %v", err)
	}
}

// delivery returns a delivery and its attempts, and whether there is one.
func (s *testStore) delivery(tenantID, eventID, endpointID string) (hookrun.Delivery, []hookrun.Attempt, bool) {
	d, err := s.GetDelivery(context.Background(), tenantID, eventID, endpointID)
	if err != nil {
		return hookrun.Delivery{}, nil, false
	}
	log := d.AttemptLog
	d.AttemptLog = nil
	return d, log, true
}

func (s *testStore) deliveryCount() int { return s.DeliveryCount() }

// rejections returns every rejected message, oldest first.
func (s *testStore) rejections() []hookrun.RejectedMessage {
	ms, _, err := s.ListRejected(context.Background(), "", 1000, "")
	if err != nil {
		panic(err) // the memory store fails no list
	}
	slices.Reverse(ms)
	return ms
}

// savedEvents returns the stored events by tenant/event ID.
func (s *testStore) savedEvents() map[string]hookrun.Event {
	out := map[string]hookrun.Event{}
	for _, r := range s.Events() {
		out[r.Event.TenantID+"/"+r.Event.ID] = r.Event
	}
	return out
}

// endpoint returns a stored endpoint, or none.
func (s *testStore) endpoint(tenantID, id string) hookrun.Endpoint {
	ep, _ := s.GetEndpoint(context.Background(), tenantID, id)
	return ep
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

// setErr makes Publish fail with err (nil: work again).
func (f *fakePublisher) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakePublisher) published() []publishedMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
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

// DisableVersion makes a version unreadable, as a disabled one is.
func (s *fakeSecrets) DisableVersion(ctx context.Context, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.versions, version)
	return nil
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
