package ingest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/logging"
)

// benchStore is testStore without the event bookkeeping, so a benchmark of
// millions of events measures the handler, not a growing map. It counts
// the claims and the records.
type benchStore struct {
	*testStore
	claims, records *atomic.Int64
}

func (s benchStore) ClaimEvent(_ context.Context, e hookrun.Event, _ time.Duration) (hookrun.Event, hookrun.EventClaim, error) {
	s.claims.Add(1)
	return e, hookrun.ClaimedNew, nil
}

func (s benchStore) RecordEvents(_ context.Context, evs []hookrun.AcceptedEvent) []error {
	s.records.Add(int64(len(evs)))
	return nil
}

type benchPublisher struct{}

func (benchPublisher) Start(context.Context, []byte, map[string]string) func() (string, error) {
	return func() (string, error) { return "1", nil }
}

var (
	_ ingest.Store     = benchStore{}
	_ ingest.Publisher = benchPublisher{}
)

// BenchmarkPublishEvent is the ingest handler's CPU per event, publisher and
// store faked: authentication (cached key and tenant), decoding and
// validating 1 KiB of data, publish, the request log line (to io.Discard,
// JSON-encoded as in production) and the 202, with the event's record
// queued for after the answer (HOOKRUN_EVENT_FLUSH_INTERVAL's default).
// Sent without an id, an event costs no store call before its 202
// (claims/op 0, records written behind); with the producer's id, one
// claim.
func BenchmarkPublishEvent(b *testing.B) {
	for _, bc := range []struct {
		name string
		body func(i int) []byte
	}{
		{"id made by ingest", func(int) []byte { return []byte(benchEvent) }},
		{"producer's id", func(i int) []byte { return []byte(`{"id":"order-` + strconv.Itoa(i) + `",` + benchEvent[1:]) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, auth, st, svc := benchHandler(b)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body(0))))
			cpu := processCPU(b)
			i := 0
			for b.Loop() {
				i++
				benchPost(b, h, "/v1/events", auth, bc.body(i), http.StatusAccepted)
			}
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
			b.ReportMetric(float64(st.claims.Load())/float64(b.N), "claims/op")
			if err := svc.Flush(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(st.records.Load())/float64(b.N), "records/op")
		})
	}
}

// BenchmarkPublishBatch is BenchmarkPublishEvent for batches of 100 such
// events; their cpu-ns/event compare.
func BenchmarkPublishBatch(b *testing.B) {
	const n = 100
	h, auth, _, _ := benchHandler(b)
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
func benchHandler(b *testing.B) (h http.Handler, auth string, store benchStore, svc *ingest.Service) {
	prev := slog.Default()
	slog.SetDefault(logging.New(io.Discard, slog.LevelInfo))
	b.Cleanup(func() { slog.SetDefault(prev) })

	store = benchStore{testStore: newTestStore(), claims: new(atomic.Int64), records: new(atomic.Int64)}
	key, hash := hookrun.NewAPIKey()
	store.addTenant(hookrun.Tenant{ID: "acme", Name: "Acme", Status: hookrun.TenantActive}, hash)
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken, EventFlushInterval: 100 * time.Millisecond}, store, benchPublisher{}, newFakeSecrets(), ingest.WithChallenger(&fakeChallenger{}))
	if err != nil {
		b.Fatal(err)
	}
	return svc.Handler(), "Bearer " + key, store, svc
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
