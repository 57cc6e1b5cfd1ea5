package firestore

// Integration tests against the Firestore emulator (FIRESTORE_EMULATOR_HOST;
// scripts/test starts it). Each test uses a project of its own. They are in
// the package so the contract can move the store's clock.

import (
	"context"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/storetest"
	"github.com/hookrun/hookrun/internal/testenv"
)

// The Store is what both services run on in production.
var (
	_ ingest.Store   = (*Store)(nil)
	_ dispatch.Store = (*Store)(nil)
)

func newTestStore(t testing.TB) *Store {
	t.Helper()
	testenv.FirestoreHost(t)
	s, err := New(context.Background(), Config{ProjectID: testenv.ProjectID(t)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestContract holds the Firestore store to the contract the memory store
// the services' tests run on is held to.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		s := newTestStore(t)
		s.now = now
		return s
	})
}

// now is a time Firestore stores exactly.
var now = storetest.Now

var wantCode = storetest.WantCode

// A tenant stored before limits existed has none.
func TestTenantStoredBeforeLimits(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.tenantRef("older").Set(ctx, map[string]any{"name": "Older", "status": "active", "create_time": now()}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetTenant(ctx, "older"); err != nil || got.Limits != (hookrun.TenantLimits{}) || got.Name != "Older" {
		t.Errorf("GetTenant(document without limits) = %+v, %v; want no limits", got, err)
	}
}
