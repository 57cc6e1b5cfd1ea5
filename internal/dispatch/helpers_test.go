package dispatch_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// TestMain keeps request and attempt log lines out of test output; tests
// that check logs capture them with captureLogs.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// localConfig is the local stack's configuration: no push auth, loopback
// receivers allowed.
var localConfig = dispatch.Config{InsecureSkipAuth: true, AllowPrivateNetworks: true}

// env is a dispatcher on fakes, delivering to real receivers on 127.0.0.1.
type env struct {
	svc         *dispatch.Service
	h           http.Handler
	store       *testStore
	secrets     *fakeSecrets
	verifier    *fakeVerifier
	scheduler   *fakeScheduler
	deadLetters *fakePublisher
	// events receives the operational events the dispatcher publishes.
	events *fakePublisher

	// pushes counts the pushes of each message ID, Pub/Sub's
	// deliveryAttempt.
	mu     sync.Mutex
	pushes map[string]int
}

// newEnv builds the dispatcher on fakes; edits change its Deps (metrics).
func newEnv(t testing.TB, cfg dispatch.Config, edits ...func(*dispatch.Deps)) *env {
	t.Helper()
	e := &env{store: newTestStore(), secrets: newFakeSecrets(), verifier: &fakeVerifier{},
		scheduler: &fakeScheduler{}, deadLetters: &fakePublisher{}, events: &fakePublisher{}}
	deps := e.deps(e.store)
	for _, edit := range edits {
		edit(&deps)
	}
	svc, err := dispatch.New(cfg, deps)
	if err != nil {
		t.Fatalf("dispatch.New: %v", err)
	}
	e.svc, e.h = svc, svc.Handler()
	return e
}

func (e *env) deps(store dispatch.Store) dispatch.Deps {
	return dispatch.Deps{Store: store, Secrets: e.secrets, Scheduler: e.scheduler, DeadLetters: e.deadLetters, Events: e.events,
		PushVerifier: e.verifier, TaskVerifier: e.verifier}
}

func (e *env) addTenant(id string, status hookrun.TenantStatus) {
	e.store.putTenant(hookrun.Tenant{ID: id, Name: id, Status: status})
}

// addEndpoint stores an endpoint of tenantID for url with its own signing
// secret in the fake Secret Manager, and returns it with the secret.
func (e *env) addEndpoint(t testing.TB, tenantID, url string, patterns []string, opts ...func(*hookrun.Endpoint)) (hookrun.Endpoint, string) {
	t.Helper()
	ep, err := hookrun.NewEndpoint(tenantID, hookrun.EndpointInput{URL: url, EventTypes: patterns}, hookrun.URLPolicy{AllowHTTP: true}, time.Now())
	if err != nil {
		t.Fatalf("NewEndpoint(%s, %v): %v", url, patterns, err)
	}
	secret := signature.NewSecret()
	ep.SecretVersion = "projects/test/secrets/hookrun-" + tenantID + "-" + ep.ID + "/versions/1"
	e.secrets.put(ep.SecretVersion, secret)
	for _, o := range opts {
		o(&ep)
	}
	if err := e.store.CreateEndpoint(t.Context(), ep); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	return ep, secret
}

// message is a Pub/Sub message as the push subscription sends it.
type message struct {
	id          string
	data        []byte // nil: no data field
	attrs       map[string]string
	publishTime time.Time
	// deliveryAttempt is Pub/Sub's count of the message's pushes; push
	// sets it as Pub/Sub does (1, then one more each time a message ID is
	// pushed again) unless the test sets it; -1 leaves it out.
	deliveryAttempt int
}

// apiMessage is the message ingest publishes for an event.
func apiMessage(msgID string, ev hookrun.Event) message {
	return message{id: msgID, data: ev.Data, attrs: wire.Event(ev).Attributes(), publishTime: ev.ReceivedAt.Add(5 * time.Millisecond)}
}

// pushBody builds the JSON envelope of a push request the way Pub/Sub does,
// including the snake_case duplicates it sends besides the documented
// fields.
func pushBody(m message) []byte {
	msg := map[string]any{
		"attributes":   m.attrs,
		"messageId":    m.id,
		"message_id":   m.id,
		"publishTime":  m.publishTime.UTC().Format(time.RFC3339Nano),
		"publish_time": m.publishTime.UTC().Format(time.RFC3339Nano),
	}
	if m.data != nil {
		msg["data"] = base64.StdEncoding.EncodeToString(m.data)
	}
	env := map[string]any{
		"message":      msg,
		"subscription": "projects/test/subscriptions/events-dispatcher",
	}
	switch {
	case m.deliveryAttempt == 0:
		env["deliveryAttempt"] = 1
	case m.deliveryAttempt > 0:
		env["deliveryAttempt"] = m.deliveryAttempt
	}
	b, _ := json.Marshal(env)
	return b
}

// push sends one push request to the dispatcher and waits for its answer,
// which Pub/Sub takes as ack (2xx) or nack.
func (e *env) push(t testing.TB, m message) *httptest.ResponseRecorder {
	t.Helper()
	e.mu.Lock()
	if e.pushes == nil {
		e.pushes = map[string]int{}
	}
	e.pushes[m.id]++
	if m.deliveryAttempt == 0 {
		m.deliveryAttempt = e.pushes[m.id]
	}
	e.mu.Unlock()
	return e.pushRaw(pushBody(m))
}

func (e *env) pushRaw(body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/pubsub/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer push-token")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// receiver is a tenant's endpoint: it records every request and answers
// with the status and body its respond function gives for the n-th
// request (1-based).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(n int) (int, string)
	// header is added to every answer; set it before the first request.
	header http.Header
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, respond func(n int) (int, string)) *receiver {
	t.Helper()
	if respond == nil {
		respond = func(int) (int, string) { return http.StatusOK, "" }
	}
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone(), body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		status, text := rc.respond(n)
		for k, v := range rc.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url() string { return rc.srv.URL + "/webhooks" }

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

// wantAck checks that the push was acknowledged.
func wantAck(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusNoContent {
		t.Fatalf("push answered %d %s, want 204 (ack)", w.Code, w.Body)
	}
}

// wantNack checks that the push was not acknowledged, so Pub/Sub
// redelivers it, and that the answer is in the API's error shape.
func wantNack(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 200 && w.Code < 300 {
		t.Fatalf("push answered %d, want non-2xx so Pub/Sub redelivers", w.Code)
	}
	if !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("nack body = %s, want a JSON error", w.Body)
	}
}

// runTask delivers a scheduled retry task to /tasks/deliver, as Cloud Tasks
// does at its schedule time.
func (e *env) runTask(t testing.TB, task scheduledTask) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/tasks/deliver", bytes.NewReader(task.body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func httptestRequest(path string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func serve(e *env, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}
