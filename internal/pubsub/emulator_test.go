package pubsub

import (
	"context"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
)

// newTestAdmin returns an Admin for a project no other test uses, on the
// emulator scripts/test started.
func newTestAdmin(t testing.TB) (context.Context, *Admin) {
	t.Helper()
	testenv.PubSubHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	a, err := NewAdmin(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return ctx, a
}

// newTestPublisher returns a Publisher for topic in a's project.
func newTestPublisher(t *testing.T, ctx context.Context, a *Admin, topic string) *Publisher {
	t.Helper()
	p, err := NewPublisher(ctx, Config{ProjectID: a.project, Topic: topic, PublishTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}
