package memstore_test

import (
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/storetest"
)

// The memory store stands in for Firestore in both services' tests.
var (
	_ ingest.Store   = (*memstore.Store)(nil)
	_ dispatch.Store = (*memstore.Store)(nil)
)

// TestContract holds the memory store to the Firestore store's contract.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		return memstore.New(memstore.WithClock(now))
	})
}
