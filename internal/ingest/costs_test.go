package ingest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/testenv"
)

// countingStore counts ingest's store calls on the path of an event, by
// method; the other methods pass through uncounted.
type countingStore struct {
	*testStore
	calls testenv.Calls
}

func (s *countingStore) count(method string) { s.calls.Add(method) }

// take returns the calls counted since the last take.
func (s *countingStore) take() map[string]int { return s.calls.Take() }

func (s *countingStore) TenantForKey(ctx context.Context, hash string) (string, error) {
	s.count("TenantForKey")
	return s.testStore.TenantForKey(ctx, hash)
}

func (s *countingStore) GetTenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	s.count("GetTenant")
	return s.testStore.GetTenant(ctx, id)
}

func (s *countingStore) ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	s.count("ClaimEvent")
	return s.testStore.ClaimEvent(ctx, e, lease)
}

func (s *countingStore) AcceptEvent(ctx context.Context, tenantID, eventID, messageID string) error {
	s.count("AcceptEvent")
	return s.testStore.AcceptEvent(ctx, tenantID, eventID, messageID)
}

func (s *countingStore) ReleaseEvent(ctx context.Context, tenantID, eventID string) error {
	s.count("ReleaseEvent")
	return s.testStore.ReleaseEvent(ctx, tenantID, eventID)
}

// firestoreOps is what one call of a store method costs in Firestore's
// billed document reads and writes (internal/firestore: a new event's
// claim creates its record without reading it).
var firestoreOps = map[string]struct{ reads, writes int }{
	"TenantForKey": {1, 0},
	"GetTenant":    {1, 0},
	"ClaimEvent":   {0, 1},
	"AcceptEvent":  {0, 1},
	"ReleaseEvent": {0, 1},
}

// The README's "Cost and scale" table says what accepting an event costs:
// this counts it on ingest's code as it is, on a warm instance (key and
// tenant cached). A change that makes it cheaper or dearer fails here
// until the table (and its costs) says so.
func TestREADMECostTableAcceptedRow(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	cs := &countingStore{testStore: e.store}
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken}, cs, e.pub, e.secrets, ingest.WithChallenger(e.challenger), ingest.WithRetirer(e.retirer))
	if err != nil {
		t.Fatal(err)
	}
	e.h = svc.Handler()
	post := func(id string) {
		if w := e.do(t, http.MethodPost, "/v1/events", key, `{"id":"`+id+`","type":"invoice.paid","data":{}}`); w.Code != http.StatusAccepted {
			t.Fatalf("POST /v1/events = %d %s, want 202", w.Code, w.Body)
		}
	}
	post("warm")
	cs.take()
	published := len(e.pub.published())
	post("evt_1")

	var got testenv.CostRow
	calls := cs.take()
	for method, n := range calls {
		ops := firestoreOps[method]
		got[0] += n * ops.reads
		got[1] += n * ops.writes
	}
	got[2] = len(e.pub.published()) - published
	const row = "accepted (ingest)"
	want, ok := testenv.CostTable(t)[row]
	if !ok {
		t.Fatalf("README.md cost table has no row %q", row)
	}
	if got != want {
		t.Errorf("README.md cost row %q says %v (reads, writes, messages, task operations); the code makes %v (store calls %v): update the table and its costs", row, want, got, calls)
	}
}
