package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/firestore"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/storetest"
	"github.com/hookrun/hookrun/internal/testenv"
)

// verifyingReceiver counts deliveries by event ID, accepting only those that
// the public Standard Webhooks library verifies.
type verifyingReceiver struct {
	wh *standardwebhooks.Webhook

	mu         sync.Mutex
	byEvent    map[string]int
	webhookIDs map[string]string
	types      map[string]string // event ID → type
	bad        []string
	changed    chan struct{}
}

func (v *verifyingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if AnswerChallenge(w, body) {
		return
	}
	v.mu.Lock()
	defer func() { close(v.changed); v.changed = make(chan struct{}); v.mu.Unlock() }()
	if err := v.wh.Verify(body, r.Header); err != nil {
		v.bad = append(v.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &p)
	v.byEvent[p.ID]++
	v.webhookIDs[p.ID] = r.Header.Get("webhook-id")
	if v.types != nil {
		v.types[p.ID] = p.Type
	}
	w.WriteHeader(http.StatusNoContent)
}

func (v *verifyingReceiver) waitFor(ctx context.Context, ids ...string) error {
	for {
		v.mu.Lock()
		missing := ""
		for _, id := range ids {
			if v.byEvent[id] == 0 {
				missing = id
				break
			}
		}
		changed := v.changed
		v.mu.Unlock()
		if missing == "" {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errors.New("event " + missing + " never arrived")
		}
	}
}

func TestPipelineEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	// Its own project and services on the shared emulators; waits on
	// deliveries, which overlap well with the other end-to-end tests.
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, project := startTestStack(t)

	// The demo: tenant, endpoint at the sample receiver (user.*), one event.
	demo, err := stack.RunDemo(ctx, 0)
	if err != nil {
		t.Fatalf("RunDemo: %v", err)
	}
	if !strings.HasPrefix(demo.PortalURL, stack.IngestURL+"/portal/open?token=hkp_") || time.Until(demo.PortalExpire) < 23*time.Hour {
		t.Errorf("demo portal link %q until %v; want a link into the local stack's portal for 24 h", demo.PortalURL, demo.PortalExpire)
	}

	// A second endpoint, verified with the public library.
	c := &Client{BaseURL: stack.IngestURL}
	rcv := &verifyingReceiver{byEvent: map[string]int{}, webhookIDs: map[string]string{}, changed: make(chan struct{})}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	_, secret, err := c.CreateEndpoint(ctx, demo.APIKey, demo.TenantID, srv.URL+"/hooks", []string{"user.*", "invoice.paid", "storage.object.finalize"})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if rcv.wh, err = standardwebhooks.NewWebhook(secret); err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}

	send := func(id, typ string) string {
		t.Helper()
		got, err := c.SendEvent(ctx, demo.APIKey, id, typ, map[string]any{"n": 1})
		if err != nil {
			t.Fatalf("SendEvent(%s, %s): %v", id, typ, err)
		}
		return got
	}
	send("e2e-user-1", "user.created")
	send("e2e-order-1", "order.shipped") // matches no endpoint
	send("e2e-invoice-1", "invoice.paid")
	if got := send("e2e-user-1", "user.created"); got != "e2e-user-1" { // duplicate
		t.Errorf("duplicate answered id %q, want e2e-user-1", got)
	}

	// Straight to the topic, as a GCP service would: CloudEvents attributes,
	// tenant from the bucket's source binding.
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+demo.TenantID+"/source-bindings", demo.APIKey,
		map[string]any{"match": map[string]any{"storage": map[string]string{"bucket": "uploads"}}}, nil); err != nil {
		t.Fatalf("create source binding: %v", err)
	}
	pub, err := pubsub.NewPublisher(ctx, pubsub.Config{ProjectID: project, Topic: EventsTopic})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	defer pub.Close()
	if _, err := pub.Publish(ctx, []byte(`{"name":"a.png"}`), map[string]string{
		"ce-type": "google.cloud.storage.object.v1.finalized", "ce-source": "//storage.googleapis.com/projects/_/buckets/uploads", "ce-id": "gcs-1",
	}); err != nil {
		t.Fatalf("Publish CloudEvent: %v", err)
	}
	rejectedID, err := pub.Publish(ctx, []byte(`{"x":1}`), map[string]string{"origin": "somewhere"})
	if err != nil {
		t.Fatalf("Publish unattributed: %v", err)
	}

	send("e2e-user-2", "user.deleted") // last: once it is in, the rest had time
	if err := rcv.waitFor(ctx, "e2e-user-1", "e2e-invoice-1", "gcs-1", "e2e-user-2"); err != nil {
		t.Fatalf("verifying receiver: %v", err)
	}
	if _, err := demo.Watcher.WaitFor(ctx, `"event_id":"e2e-user-2"`); err != nil {
		t.Fatalf("sample receiver: %v", err)
	}

	rcv.mu.Lock()
	for _, id := range []string{"e2e-user-1", "e2e-invoice-1", "gcs-1", "e2e-user-2"} {
		if n := rcv.byEvent[id]; n != 1 {
			t.Errorf("event %s delivered %d times, want exactly once", id, n)
		}
	}
	if n := rcv.byEvent["e2e-order-1"]; n != 0 {
		t.Errorf("non-matching event delivered %d times", n)
	}
	if len(rcv.bad) > 0 {
		t.Errorf("deliveries that failed verification: %v", rcv.bad)
	}
	// Stable per event and endpoint, so not the one the sample receiver got.
	if got, other := rcv.webhookIDs["e2e-user-1"], hookrun.WebhookID(demo.TenantID, "e2e-user-1", demo.EndpointID); got == "" || got == other {
		t.Errorf("webhook-id %q should be set and endpoint-specific", got)
	}
	rcv.mu.Unlock()
	for _, id := range []string{"e2e-user-1", "e2e-user-2"} {
		if n := demo.Watcher.Count(`"event_id":"` + id + `"`); n != 1 {
			t.Errorf("sample receiver logged %s %d times, want 1", id, n)
		}
	}
	if n := demo.Watcher.Count(`"event_id":"e2e-invoice-1"`); n != 0 {
		t.Errorf("sample receiver (user.*) got invoice.paid")
	}

	// The message without tenant or type is recorded as rejected.
	if rej := waitRejected(ctx, t, project, rejectedID); rej.Reason == "" || rej.Attributes["origin"] != "somewhere" {
		t.Errorf("rejected record = %+v, want a reason and the attributes", rej)
	}

	// The services' Prometheus endpoints count the run: five events
	// through the API (the duplicate is not one), one from the topic, the
	// rejected message, and seven deliveries that succeeded at their
	// first attempt.
	wantMetrics(ctx, t, stack.IngestMetricsURL, metricstest.Samples{
		`hookrun_events_accepted_total{source="api"}`: 5,
	})
	wantMetrics(ctx, t, stack.DispatcherMetricsURL, metricstest.Samples{
		`hookrun_events_accepted_total{source="topic"}`: 1,
		`hookrun_messages_rejected_total`:               1,
		`hookrun_deliveries_total{outcome="succeeded"}`: 7,
		`hookrun_attempts_total{status_class="2xx"}`:    7,
		`hookrun_delivery_latency_seconds_count`:        7,
	})
}

// With the dispatcher pulling the events subscription instead of Pub/Sub
// pushing it, events sent through ingest reach the endpoint each once; so
// they do again once the stack is switched back to push, and after it has
// held its pushes (for a load on ingest alone) and released them.
func TestPullEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack, _ := startTestStackWith(t, func(cfg *StackConfig) { cfg.PullEvents = true })
	c, key, rcv := verifiedTenant(ctx, t, stack, "pulled")

	send := func(prefix string, n int) []string {
		t.Helper()
		ids := make([]string, n)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s-%d", prefix, i)
			g.Go(func() error {
				_, err := c.SendEvent(gctx, key, ids[i], "user.created", map[string]any{"i": i})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("SendEvent: %v", err)
		}
		if err := rcv.waitFor(ctx, ids...); err != nil {
			t.Fatalf("receiver: %v", err)
		}
		return ids
	}
	ids := send("pulled", 60)
	if err := stack.SetPull(ctx, false); err != nil {
		t.Fatalf("SetPull(false): %v", err)
	}
	ids = append(ids, send("pushed", 20)...)

	// Events sent while the stack holds its pushes are accepted and
	// discarded on release; those sent after are delivered (and arrive
	// after the discarded ones would have, which were published first).
	release, err := stack.HoldEvents(ctx)
	if err != nil {
		t.Fatalf("HoldEvents: %v", err)
	}
	held := make([]string, 10)
	for i := range held {
		held[i] = fmt.Sprintf("held-%d", i)
		if _, err := c.SendEvent(ctx, key, held[i], "user.created", map[string]any{"i": i}); err != nil {
			t.Fatalf("SendEvent while held: %v", err)
		}
	}
	if err := release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	ids = append(ids, send("released", 10)...)

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, id := range ids {
		if n := rcv.byEvent[id]; n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	for _, id := range held {
		if n := rcv.byEvent[id]; n != 0 {
			t.Errorf("event %s, sent while held, delivered %d times, want never", id, n)
		}
	}
	if len(rcv.bad) > 0 {
		t.Errorf("deliveries that failed verification: %v", rcv.bad[:min(len(rcv.bad), 3)])
	}
}

// waitRejected waits for the dispatcher to record message messageID of
// project as rejected, and returns the record.
func waitRejected(ctx context.Context, t *testing.T, project, messageID string) hookrun.RejectedMessage {
	t.Helper()
	store, err := firestore.New(ctx, firestore.Config{ProjectID: project})
	if err != nil {
		t.Fatalf("firestore.New: %v", err)
	}
	defer store.Close()
	for {
		rej, err := storetest.Rejected(ctx, store, messageID)
		if err == nil {
			return rej
		}
		if hookrun.ErrorCode(err) != hookrun.CodeNotFound || ctx.Err() != nil {
			t.Fatalf("rejected message %s: %v", messageID, err)
		}
		time.Sleep(50 * time.Millisecond) // polling Firestore: no change feed to wait on
	}
}

// wantMetrics scrapes url until it shows want's series with their values.
// A service counts right after it records what the test waited for, so
// the first scrape may be a moment early; scrapes are how metrics are
// read, so polling them is as an operator's Prometheus would.
func wantMetrics(ctx context.Context, t *testing.T, url string, want metricstest.Samples) {
	t.Helper()
	for {
		got := metricstest.Scrape(t, url)
		missing := ""
		for k, v := range want {
			if got[k] != v {
				missing = fmt.Sprintf("%s = %v, want %v", k, got[k], v)
				break
			}
		}
		if missing == "" {
			return
		}
		if ctx.Err() != nil {
			t.Errorf("%s: %s (scraped %v)", url, missing, got.Hookrun())
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startTestStack starts the services against the tests' emulators, in a
// project of their own, and stops them when the test ends.
func startTestStack(t *testing.T, env ...string) (*Stack, string) {
	t.Helper()
	return startTestStackWith(t, func(cfg *StackConfig) { cfg.Env = env })
}

// startTestStackWith is startTestStack with the configuration changed by
// edit first, e.g. to give the stack an emulator of its own.
func startTestStackWith(t *testing.T, edit func(*StackConfig)) (*Stack, string) {
	t.Helper()
	pubsubHost, firestoreHost := testenv.PubSubHost(t), testenv.FirestoreHost(t)
	project := testenv.ProjectID(t)
	binDir, err := buildServices()
	if err != nil {
		t.Fatalf("build the services: %v", err)
	}
	out := &testWriter{t: t}
	cfg := StackConfig{
		ProjectID:     project,
		PubSubHost:    pubsubHost,
		FirestoreHost: firestoreHost,
		BinDir:        binDir,
		Prebuilt:      true,
		Output:        out,
	}
	edit(&cfg)
	stack, err := StartStack(t.Context(), cfg)
	if err != nil {
		t.Fatalf("StartStack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		out.done.Store(true)
	})
	return stack, project
}

// buildServices builds the services once for all of the package's stacks:
// linking them took each end-to-end test 15 to 40 s of a loaded machine.
// The build gets its own deadline, not the first caller's test context,
// since every later test uses its result.
var buildServices = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookrun-devstack-test-bin-")
	if err != nil {
		return "", err
	}
	testBinDir.Store(&dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return dir, (&Stack{cfg: StackConfig{BinDir: dir}}).build(ctx)
})

// testBinDir is buildServices' directory, for TestMain to remove.
var testBinDir atomic.Pointer[string]

func TestMain(m *testing.M) {
	code := m.Run()
	if dir := testBinDir.Load(); dir != nil {
		os.RemoveAll(*dir)
	}
	os.Exit(code)
}

// testWriter sends the stack's output to the test log, shown on failure.
// Output written after the stack stopped is dropped: t.Log panics once the
// test has ended.
type testWriter struct {
	t    *testing.T
	done atomic.Bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(b))
	}
	return len(b), nil
}
