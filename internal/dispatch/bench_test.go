package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging"
	"github.com/hookrun/hookrun/internal/wire"
)

// benchStore is testStore without delivery bookkeeping, so a long benchmark
// measures the push path, not a growing map.
type benchStore struct{ *testStore }

func (benchStore) GetDeliveries(context.Context, string, string, []string) (map[string]hookrun.Delivery, error) {
	return nil, nil
}

func (benchStore) RecordAttempt(context.Context, hookrun.Delivery, hookrun.Attempt) error {
	return nil
}

var _ dispatch.Store = benchStore{}

// BenchmarkPushOneEndpoint is one push request fanned out to one endpoint:
// envelope decoding, matching, signing, the HTTP POST to a loopback
// receiver (keep-alive) and the log lines (JSON-encoded as in production,
// to io.Discard), with the store faked.
func BenchmarkPushOneEndpoint(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(logging.New(io.Discard, slog.LevelInfo))
	b.Cleanup(func() { slog.SetDefault(prev) })

	store := benchStore{newTestStore()}
	e := &env{store: store.testStore, secrets: newFakeSecrets(), verifier: &fakeVerifier{}, scheduler: &fakeScheduler{}, deadLetters: &fakePublisher{}, events: &fakePublisher{}}
	svc, err := dispatch.New(localConfig, e.deps(store))
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

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		msg.id = strconv.Itoa(i)
		msg.attrs[wire.AttrEventID] = "evt_" + msg.id
		if w := e.push(b, msg); w.Code != http.StatusNoContent {
			b.Fatalf("push: %d %s", w.Code, w.Body)
		}
	}
}
