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

// RecordEvents counts one call per event: each is one write, however
// many a batch carries.
func (s *countingStore) RecordEvents(ctx context.Context, evs []hookrun.AcceptedEvent) []error {
	for range evs {
		s.count("RecordEvents")
	}
	return s.testStore.RecordEvents(ctx, evs)
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
	"RecordEvents": {0, 1},
	"ReleaseEvent": {0, 1},
}

// The README's "Cost and scale" table says what accepting an event costs,
// with an ID ingest makes and with the producer's: this counts it on
// ingest's code as it is, on a warm instance (key and tenant cached),
// records written after the answer included. A change that makes it
// cheaper or dearer fails here until the table (and its costs) says so.
func TestREADMECostTableAcceptedRow(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	cs := &countingStore{testStore: e.store}
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken}, cs, e.pub, e.secrets, ingest.WithChallenger(e.challenger), ingest.WithRetirer(e.retirer))
	if err != nil {
		t.Fatal(err)
	}
	e.h = svc.Handler()
	post := func(body string) {
		if w := e.do(t, http.MethodPost, "/v1/events", key, body); w.Code != http.StatusAccepted {
			t.Fatalf("POST /v1/events %s = %d %s, want 202", body, w.Code, w.Body)
		}
		if err := svc.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	post(`{"id":"warm","type":"invoice.paid","data":{}}`)
	cs.take()
	table := testenv.CostTable(t)
	for row, body := range map[string]string{
		"accepted (ingest), ID made by hookrun": `{"type":"invoice.paid","data":{}}`,
		"accepted (ingest), producer's ID":      `{"id":"evt_1","type":"invoice.paid","data":{}}`,
	} {
		published := len(e.pub.published())
		post(body)
		var got testenv.CostRow
		calls := cs.take()
		for method, n := range calls {
			ops := firestoreOps[method]
			got[0] += n * ops.reads
			got[1] += n * ops.writes
		}
		got[2] = len(e.pub.published()) - published
		want, ok := table[row]
		if !ok {
			t.Fatalf("README.md cost table has no row %q", row)
		}
		if got != want {
			t.Errorf("README.md cost row %q says %v (reads, writes, messages, task operations); the code makes %v (store calls %v): update the table and its costs", row, want, got, calls)
		}
	}
}
