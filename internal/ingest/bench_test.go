package ingest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/logging"
)

// benchStore is testStore without the event bookkeeping, so a benchmark of
// millions of events measures the handler, not a growing map.
type benchStore struct{ *testStore }

func (benchStore) ClaimEvent(_ context.Context, e hookrun.Event, _ time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	return e, hookrun.ClaimedNew, nil
}

func (benchStore) AcceptEvent(context.Context, string, string, string) error { return nil }

type benchPublisher struct{}

func (benchPublisher) Publish(context.Context, []byte, map[string]string) (string, error) {
	return "1", nil
}

var (
	_ ingest.Store     = benchStore{}
	_ ingest.Publisher = benchPublisher{}
)

// BenchmarkPublishEvent is the ingest handler's CPU per event, publisher and
// store faked: authentication (cached key and tenant), decoding and
// validating 1 KiB of data, claim, publish, the request log line (to
// io.Discard, JSON-encoded as in production) and the 202.
func BenchmarkPublishEvent(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(logging.New(io.Discard, slog.LevelInfo))
	b.Cleanup(func() { slog.SetDefault(prev) })

	store := benchStore{newTestStore()}
	key, hash := hookrun.NewAPIKey()
	store.addTenant(hookrun.Tenant{ID: "acme", Name: "Acme", Status: hookrun.TenantActive}, hash)
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken}, store, benchPublisher{}, newFakeSecrets(), ingest.WithChallenger(&fakeChallenger{}))
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()

	data := `{"blob":"` + strings.Repeat("x", 1024-len(`{"blob":""}`)) + `"}`
	body := []byte(`{"type":"invoice.paid","data":` + data + `}`)
	auth := "Bearer " + key

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
