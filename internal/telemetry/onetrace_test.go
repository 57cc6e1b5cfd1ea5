package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/telemetry"
	"github.com/hookrun/hookrun/internal/telemetry/telemetrytest"
	"github.com/hookrun/hookrun/internal/wire"
)

const (
	adminToken = "admin-token-0123456789abcdef"
	// producerTrace is the producer's traceparent: the trace every hop
	// must continue.
	producerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	producerSpanID  = "00f067aa0ba902b7"
)

// TestOneTraceFollowsAnEvent sends an event with a traceparent through
// ingest and the dispatcher (their real handlers behind the servers'
// instrumentation, over the memory store), the publish turned into a push
// and the retry task run as Pub/Sub and Cloud Tasks would, to an endpoint
// that fails once; every span on the way is in the producer's trace.
func TestOneTraceFollowsAnEvent(t *testing.T) {
	spans, _ := telemetrytest.Record(t)

	var (
		mu         sync.Mutex
		calls      int
		receivedTP []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		receivedTP = append(receivedTP, r.Header.Get("traceparent"))
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer receiver.Close()

	store := memstore.New()
	secrets := &memSecrets{versions: map[string][]byte{}}
	events := &queue{}
	tasks := &queue{}
	timeouts := httpapi.Timeouts{Request: time.Minute}

	isvc, err := ingest.New(ingest.Config{AdminToken: adminToken}, store, telemetry.TracedPublisher(events, "events"), secrets)
	if err != nil {
		t.Fatal(err)
	}
	ingestH := httpapi.NewServer(isvc.Handler(), timeouts).Handler
	dsvc, err := dispatch.New(dispatch.Config{InsecureSkipAuth: true, AllowPrivateNetworks: true}, dispatch.Deps{
		Store: store, Secrets: secrets, Scheduler: tasks, DeadLetters: telemetry.TracedPublisher(&queue{}, "dead-letters"),
		Events: telemetry.TracedPublisher(&queue{}, "events"),
	})
	if err != nil {
		t.Fatal(err)
	}
	dispatchH := httpapi.NewServer(dsvc.Handler(), timeouts).Handler

	// A tenant through the API, its endpoint (which asks for trace
	// context) straight into the store: its ownership challenge is not
	// what this test is about.
	w := serve(ingestH, "/v1/tenants", adminToken, `{"id":"acme","name":"Acme"}`, nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", w.Code, w.Body)
	}
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tenant); err != nil {
		t.Fatal(err)
	}
	ep, err := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: receiver.URL, EventTypes: []string{"*"}, PropagateTrace: true}, hookrun.URLPolicy{AllowHTTP: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ep.SecretVersion = "projects/test/secrets/ep/versions/1"
	secrets.versions[ep.SecretVersion], _ = json.Marshal(hookrun.EndpointSecret{SigningSecret: signature.NewSecret()})
	if err := store.CreateEndpoint(t.Context(), ep); err != nil {
		t.Fatal(err)
	}

	spans.Reset()
	w = serve(ingestH, "/v1/events", tenant.APIKey, `{"type":"user.created","data":{"n":1}}`,
		http.Header{"Traceparent": {"00-" + producerTraceID + "-" + producerSpanID + "-01"}})
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d %s", w.Code, w.Body)
	}
	// Pub/Sub pushes the message, with no trace header of its own on the
	// request: the context travels in the attributes.
	msg := events.take(t)
	env, _ := json.Marshal(wire.PushEnvelope{Subscription: "projects/test/subscriptions/events-dispatcher",
		Message: wire.Message{Data: msg.body, Attributes: msg.attrs, MessageID: "m-1", PublishTime: time.Now()}})
	if w := serve(dispatchH, "/pubsub/push", "", string(env), nil); w.Code != http.StatusNoContent {
		t.Fatalf("push: %d %s", w.Code, w.Body)
	}
	// Cloud Tasks runs the retry with the task's headers.
	task := tasks.take(t)
	if w := serve(dispatchH, "/tasks/deliver", "", string(task.body), task.header); w.Code != http.StatusNoContent {
		t.Fatalf("task: %d %s", w.Code, w.Body)
	}

	got := spans.GetSpans()
	for _, want := range []struct {
		what string
		name string
		kind trace.SpanKind
		n    int
	}{
		{"the ingest request", "POST /v1/events", trace.SpanKindServer, 1},
		{"the publish", "events publish", trace.SpanKindProducer, 1},
		{"the push", "events-dispatcher process", trace.SpanKindConsumer, 1},
		{"the attempts", "delivery attempt", trace.SpanKindInternal, 2},
		{"the retry task's request", "POST /tasks/deliver", trace.SpanKindServer, 1},
		{"the requests to the endpoint", "POST " + strings.TrimPrefix(receiver.URL, "http://"), trace.SpanKindClient, 2},
	} {
		var n int
		for _, s := range got {
			if s.Name != want.name || s.SpanKind != want.kind {
				continue
			}
			n++
			if id := s.SpanContext.TraceID().String(); id != producerTraceID {
				t.Errorf("%s: span %q is in trace %s, want %s", want.what, s.Name, id, producerTraceID)
			}
		}
		if n != want.n {
			t.Errorf("%s: %d spans named %q of kind %v, want %d", want.what, n, want.name, want.kind, want.n)
		}
	}
	// The attempts say what became of them.
	var outcomes []string
	for _, s := range got {
		if s.Name == "delivery attempt" {
			outcomes = append(outcomes, attr(s, "hookrun.endpoint_id")+" "+attr(s, "http.response.status_code")+" "+attr(s, "hookrun.outcome"))
		}
	}
	if want := []string{ep.ID + " 503 retrying", ep.ID + " 200 succeeded"}; strings.Join(outcomes, ",") != strings.Join(want, ",") {
		t.Errorf("attempts = %q, want %q", outcomes, want)
	}
	// The endpoint asked for the trace context, so both requests carry it.
	mu.Lock()
	defer mu.Unlock()
	for i, h := range receivedTP {
		if !strings.Contains(h, producerTraceID) {
			t.Errorf("request %d to the endpoint: traceparent %q, want trace %s", i+1, h, producerTraceID)
		}
	}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// serve sends one request through h and returns its answer once h
// returned, so its spans have ended.
func serve(h http.Handler, path, token, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// queue stands in for Pub/Sub (a publish is a message to push) and for
// Cloud Tasks (a task is a request to make, with the trace headers the
// real adapter puts on it, telemetry.InjectHeaders).
type queue struct {
	mu    sync.Mutex
	items []item
}

type item struct {
	body   []byte
	attrs  map[string]string
	header http.Header
}

func (q *queue) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, item{body: data, attrs: attrs})
	return "msg-1", nil
}

func (q *queue) Start(ctx context.Context, data []byte, attrs map[string]string) func() (string, error) {
	return ingest.PublishFunc(q.Publish).Start(ctx, data, attrs)
}

func (q *queue) Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error {
	h := map[string]string{}
	telemetry.InjectHeaders(ctx, h)
	header := http.Header{}
	for k, v := range h {
		header.Set(k, v)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, item{body: bytes.Clone(body), header: header})
	return nil
}

func (q *queue) take(t *testing.T) item {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) != 1 {
		t.Fatalf("%d items queued, want 1", len(q.items))
	}
	it := q.items[0]
	q.items = nil
	return it
}

// memSecrets is Secret Manager for both services.
type memSecrets struct {
	mu       sync.Mutex
	versions map[string][]byte
}

func (s *memSecrets) Create(ctx context.Context, id string, p []byte) (string, error) {
	return s.AddVersion(ctx, id, p)
}
func (s *memSecrets) Delete(ctx context.Context, id string) error { return nil }
func (s *memSecrets) AddVersion(ctx context.Context, id string, p []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := "projects/test/secrets/" + id + "/versions/1"
	s.versions[v] = p
	return v, nil
}
func (s *memSecrets) Access(ctx context.Context, v string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.versions[v]; ok {
		return p, nil
	}
	return nil, errors.New("no such version")
}
func (s *memSecrets) DisableVersion(ctx context.Context, v string) error { return nil }
