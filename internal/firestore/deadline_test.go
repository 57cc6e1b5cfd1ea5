package firestore

import (
	"context"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Every call has a deadline of its own: on a context without one, such as
// the work that outlives a request, a hung or unreachable Firestore is
// CodeUnavailable after the call timeout, not a wait without end.
func TestCallsEndWhenFirestoreDoesNotAnswer(t *testing.T) {
	const callTimeout = 500 * time.Millisecond
	for _, server := range testenv.Unresponsive {
		t.Run(server.Name, func(t *testing.T) {
			t.Setenv("FIRESTORE_EMULATOR_HOST", server.Addr(t))
			s, err := New(context.Background(), Config{ProjectID: "hung-firestore", CallTimeout: callTimeout, BatchWindow: -1})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			ctx := context.Background()
			for _, c := range []struct {
				name string
				call func() error
			}{
				{"document read", func() error { _, err := s.GetTenant(ctx, "acme"); return err }},
				{"query", func() error { _, err := s.ListEndpoints(ctx, "acme"); return err }},
				{"write", func() error {
					return s.CreateTenant(ctx, hookrun.Tenant{ID: "acme", Status: hookrun.TenantActive}, "hash")
				}},
			} {
				t.Run(c.name, func(t *testing.T) {
					err := testenv.AnswerWithin(t, 3*callTimeout, c.call)
					wantCode(t, c.name, err, hookrun.CodeUnavailable)
				})
			}
		})
	}
}
