package secretmanager_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Every call has a deadline of its own: on a context without one (a
// cleanup that outlives its request) a hung or unreachable Secret Manager
// is CodeUnavailable after the call timeout, not a wait without end.
func TestCallsEndWhenSecretManagerDoesNotAnswer(t *testing.T) {
	const callTimeout = 500 * time.Millisecond
	for _, server := range []struct {
		name string
		addr func(testing.TB) string
	}{
		{"hung", testenv.SilentAddr},
		{"unreachable", testenv.RefusedAddr},
	} {
		t.Run(server.name, func(t *testing.T) {
			st, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: "hung-secrets", Endpoint: server.addr(t), CallTimeout: callTimeout})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			for _, c := range []struct {
				name string
				call func(context.Context) error
			}{
				{"create", func(ctx context.Context) error { _, err := st.Create(ctx, "ep_1", []byte("whsec_x")); return err }},
				{"access", func(ctx context.Context) error {
					_, err := st.Access(ctx, "projects/hung-secrets/secrets/ep_1/versions/1")
					return err
				}},
				{"delete", func(ctx context.Context) error { return st.Delete(ctx, "ep_1") }},
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
