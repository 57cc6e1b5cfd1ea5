package ingest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
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

func (benchStore) RecordEvents(context.Context, []hookrun.AcceptedEvent) []error { return nil }

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
	h, auth := benchHandler(b)
	body := []byte(benchEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	cpu := processCPU(b)
	for b.Loop() {
		benchPost(b, h, "/v1/events", auth, body, http.StatusAccepted)
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
}

// BenchmarkPublishBatch is BenchmarkPublishEvent for batches of 100 such
// events; their cpu-ns/event compare.
func BenchmarkPublishBatch(b *testing.B) {
	const n = 100
	h, auth := benchHandler(b)
	body := []byte(`{"events":[` + strings.Repeat(benchEvent+",", n-1) + benchEvent + `]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	cpu := processCPU(b)
	for b.Loop() {
		benchPost(b, h, "/v1/events:batch", auth, body, http.StatusOK)
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N*n), "cpu-ns/event")
}

// processCPU is the CPU time this process has used, user and system: on
// a shared machine, a steadier measure than the wall time of ns/op.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEvent is an event of 1 KiB of data.
var benchEvent = `{"type":"invoice.paid","data":{"blob":"` + strings.Repeat("x", 1024-len(`{"blob":""}`)) + `"}}`

// benchHandler is ingest on benchStore and benchPublisher, logging as in
// production to io.Discard, with a tenant; auth is its Authorization.
func benchHandler(b *testing.B) (h http.Handler, auth string) {
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
	return svc.Handler(), "Bearer " + key
}

func benchPost(b *testing.B, h http.Handler, path, auth string, body []byte, want int) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}
