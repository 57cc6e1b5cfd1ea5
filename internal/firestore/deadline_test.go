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
	for _, server := range []struct {
		name string
		addr func(testing.TB) string
	}{
		{"hung", testenv.SilentAddr},
		{"unreachable", testenv.RefusedAddr},
	} {
		t.Run(server.name, func(t *testing.T) {
			t.Setenv("FIRESTORE_EMULATOR_HOST", server.addr(t))
			s, err := New(context.Background(), Config{ProjectID: "hung-firestore", CallTimeout: callTimeout, BatchWindow: -1})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			for _, c := range []struct {
				name string
				call func(context.Context) error
			}{
				{"document read", func(ctx context.Context) error { _, err := s.GetTenant(ctx, "acme"); return err }},
				{"query", func(ctx context.Context) error { _, err := s.ListEndpoints(ctx, "acme"); return err }},
				{"write", func(ctx context.Context) error {
					return s.CreateTenant(ctx, hookrun.Tenant{ID: "acme", Status: hookrun.TenantActive}, "hash")
				}},
			} {
				t.Run(c.name, func(t *testing.T) {
					start := time.Now()
					done := make(chan error, 1)
					go func() { done <- c.call(context.Background()) }()
					select {
					case err := <-done:
						if got := hookrun.ErrorCode(err); got != hookrun.CodeUnavailable {
							t.Errorf("error = %v (code %s), want %s", err, got, hookrun.CodeUnavailable)
						}
						if d := time.Since(start); d > 3*callTimeout {
							t.Errorf("answered after %v, want within %v", d, 3*callTimeout)
						}
					case <-time.After(20 * callTimeout): // so that a failure cannot hang the test
						t.Fatalf("no answer after %v, want one within %v", 20*callTimeout, 3*callTimeout)
					}
				})
			}
		})
	}
}
