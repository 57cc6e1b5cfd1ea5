package memstore_test

import (
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
)

// The memory store stands in for Firestore in both services' tests.
var (
	_ ingest.Store   = (*memstore.Store)(nil)
	_ dispatch.Store = (*memstore.Store)(nil)
)
