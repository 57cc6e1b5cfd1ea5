package dispatch_test

import (
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

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging"
	"github.com/hookrun/hookrun/internal/wire"
)

// benchStore is testStore without delivery bookkeeping, so a long benchmark
// measures the push path, not a growing map. It counts the calls that
// would be Firestore round trips: reads of earlier deliveries, reads of
// the endpoint list's version and of the list, single attempt records,
// and batches of records.
type benchStore struct {
	*testStore
	reads, versions, lists, records, batches *atomic.Int64
}

func newBenchStore() benchStore {
	return benchStore{testStore: newTestStore(), reads: new(atomic.Int64), versions: new(atomic.Int64), lists: new(atomic.Int64),
		records: new(atomic.Int64), batches: new(atomic.Int64)}
}

func (s benchStore) EndpointsChanged(ctx context.Context, tenantID string) (hookrun.EndpointsVersion, error) {
	s.versions.Add(1)
	return s.testStore.EndpointsChanged(ctx, tenantID)
}

func (s benchStore) ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error) {
	s.lists.Add(1)
	return s.testStore.ListEndpoints(ctx, tenantID)
}

func (s benchStore) GetDeliveries(context.Context, string, string, []string) (map[string]hookrun.Delivery, error) {
	s.reads.Add(1)
	return nil, nil
}

func (s benchStore) RecordAttempt(context.Context, hookrun.Delivery, hookrun.Attempt) error {
	s.records.Add(1)
	return nil
}

func (s benchStore) RecordAttempts(context.Context, []hookrun.AttemptRecord) []error {
	s.batches.Add(1)
	return nil
}

var _ dispatch.Store = benchStore{}

// BenchmarkPushOneEndpoint is one push request fanned out to one endpoint:
// envelope decoding, matching, signing, the HTTP POST to a loopback
// receiver (keep-alive) and the log lines (JSON-encoded as in production,
// to io.Discard), with the store faked.
func BenchmarkPushOneEndpoint(b *testing.B) {
	benchmarkPush(b, localConfig, -1)
}

// BenchmarkPushFirstMessage is the happy path of issue 17 under steady
// traffic: an event's first message (deliveryAttempt 1), accepted just
// before it is pushed (so newer than any endpoint list cached), delivered
// to one endpoint that answers 2xx. Besides CPU and allocations it
// reports the store calls per push: reads/op (earlier deliveries),
// versions/op and lists/op (the endpoint list's version and the list) and
// records/op would be Firestore round trips before the acknowledgement;
// batches/op are the attempt log's writes after it. The "before" case is
// the same push as every push was handled before: no deliveryAttempt,
// the attempt log off and the endpoint list checked for every event
// (HOOKRUN_ENDPOINT_CHANGE_DELAY=0). The "after" case runs the defaults,
// where the list's version is read in the background, every half change
// delay, not before an acknowledgement.
func BenchmarkPushFirstMessage(b *testing.B) {
	after := batchedConfig(100 * time.Millisecond)
	after.EndpointChangeDelay = time.Second
	b.Run("before", func(b *testing.B) { benchmarkPush(b, localConfig, -1) })
	b.Run("after", func(b *testing.B) { benchmarkPush(b, after, 1) })
}

// benchmarkPush pushes one event per iteration with deliveryAttempt (-1:
// none) to a dispatcher configured by cfg.
func benchmarkPush(b *testing.B, cfg dispatch.Config, deliveryAttempt int) {
	prev := slog.Default()
	slog.SetDefault(logging.New(io.Discard, slog.LevelInfo))
	b.Cleanup(func() { slog.SetDefault(prev) })

	store := newBenchStore()
	e := &env{store: store.testStore, secrets: newFakeSecrets(), verifier: &fakeVerifier{}, scheduler: &fakeScheduler{}, deadLetters: &fakePublisher{}, events: &fakePublisher{}}
	svc, err := dispatch.New(cfg, e.deps(store))
	if err != nil {
		b.Fatal(err)
	}
	e.h = svc.Handler()
	e.addTenant("acme", hookrun.TenantActive)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.Close)
	e.addEndpoint(b, "acme", rc.URL, []string{"user.*"})

	ev := userCreated("evt_bench")
	ev.Data = []byte(`{"blob":"` + strings.Repeat("x", 1024-len(`{"blob":""}`)) + `"}`)
	msg := apiMessage("1", ev)
	msg.publishTime = time.Now()
	msg.deliveryAttempt = deliveryAttempt

	b.ReportAllocs()
	cpu := processCPU(b)
	i := 0
	for b.Loop() {
		i++
		msg.id = strconv.Itoa(i)
		msg.attrs[wire.AttrEventID] = "evt_" + msg.id
		msg.attrs[wire.AttrReceivedAt] = time.Now().UTC().Format(time.RFC3339Nano)
		if w := e.pushRaw(pushBody(msg)); w.Code != http.StatusNoContent {
			b.Fatalf("push: %d %s", w.Code, w.Body)
		}
	}
	b.StopTimer()
	if err := svc.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(time.Microsecond)/n, "cpu-µs/op")
	b.ReportMetric(float64(store.reads.Load())/n, "reads/op")
	b.ReportMetric(float64(store.versions.Load())/n, "versions/op")
	b.ReportMetric(float64(store.lists.Load())/n, "lists/op")
	b.ReportMetric(float64(store.records.Load())/n, "records/op")
	b.ReportMetric(float64(store.batches.Load())/n, "batches/op")
}

// processCPU is the CPU time (user and system) this process has used,
// receiver included: what a push costs besides the wall time it waits.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
