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
	for _, server := range testenv.Unresponsive {
		t.Run(server.Name, func(t *testing.T) {
			st, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: "hung-secrets", Endpoint: server.Addr(t), CallTimeout: callTimeout})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			ctx := context.Background()
			for _, c := range []struct {
				name string
				call func() error
			}{
				{"create", func() error { _, err := st.Create(ctx, "ep_1", []byte("whsec_x")); return err }},
				{"access", func() error { _, err := st.Access(ctx, "projects/hung-secrets/secrets/ep_1/versions/1"); return err }},
				{"delete", func() error { return st.Delete(ctx, "ep_1") }},
			} {
				t.Run(c.name, func(t *testing.T) {
					err := testenv.AnswerWithin(t, 3*callTimeout, c.call)
					if got := hookrun.ErrorCode(err); got != hookrun.CodeUnavailable {
						t.Errorf("%s: error %v has code %s, want %s", c.name, err, got, hookrun.CodeUnavailable)
					}
				})
			}
		})
	}
}
