package app_test

// The services wired as run/ingest and run/dispatcher wire them (app's
// stores, the real adapters, httpapi's server), against dependencies that
// hang or refuse connections: each request is answered 503 with
// Retry-After within its bound, never left hanging.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/cloudtasks"
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/hookrun/hookrun/internal/wire"
)

const adminToken = "admin-token-for-deadline-tests"

// dependencies says where the services find Firestore, Pub/Sub and Secret
// Manager: an emulator's address, testenv.SilentAddr or
// testenv.RefusedAddr. An empty Firestore or Pub/Sub address leaves the
// emulator scripts/test started.
type dependencies struct {
	firestore, pubsub, secrets string
	callTimeout                time.Duration
}

// open sets the environment the SDKs read and opens the stores.
func (d dependencies) open(t *testing.T) (*app.Stores, app.Common) {
	t.Helper()
	if d.firestore != "" {
		t.Setenv("FIRESTORE_EMULATOR_HOST", d.firestore)
	}
	if d.pubsub != "" {
		t.Setenv("PUBSUB_EMULATOR_HOST", d.pubsub)
	}
	c := app.Common{ProjectID: testenv.ProjectID(t), SecretManagerEndpoint: d.secrets, CallTimeout: d.callTimeout}
	stores, err := app.OpenStores(context.Background(), c, nil)
	if err != nil {
		t.Fatalf("OpenStores: %v", err)
	}
	t.Cleanup(func() { stores.Close() })
	return stores, c
}

// serve serves h as httpapi.Serve would, with the request budget.
func serve(t *testing.T, h http.Handler, budget time.Duration) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = httpapi.NewServer(h, httpapi.Timeouts{Request: budget})
	ts.Start()
	t.Cleanup(func() {
		// Close waits for the requests in flight: one hung for good
		// fails the test rather than hanging it.
		closed := make(chan struct{})
		go func() { ts.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Error("a request was still running 5 s after the test")
		}
	})
	return ts.URL
}

// ingestAPI serves the ingest API on d with the given budget.
func ingestAPI(t *testing.T, d dependencies, budget, publishTimeout time.Duration) (string, *app.Stores) {
	t.Helper()
	stores, c := d.open(t)
	pub, err := pubsub.NewPublisher(context.Background(), pubsub.Config{ProjectID: c.ProjectID, Topic: "events", PublishTimeout: publishTimeout})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	t.Cleanup(func() { pub.Close() })
	svc, err := ingest.New(ingest.Config{ProjectID: c.ProjectID, AdminToken: adminToken, PublishTimeout: publishTimeout},
		stores.Firestore, pub, stores.Secrets)
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}
	return serve(t, svc.Handler(), budget), stores
}

// call sends a request, bounded from outside only so that a failure cannot
// hang the test, and returns the answer, its body and how long it took.
func call(t *testing.T, method, url, token, body string) (*http.Response, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: no answer after %v: %v", method, url, took, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), took
}

// wantUnavailable checks for a 503 with Retry-After, within limit, whose
// message mentions what.
func wantUnavailable(t *testing.T, resp *http.Response, body string, took, limit time.Duration, what string) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("answer = %d, Retry-After %q, body %s; want 503 with a Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if !strings.Contains(body, what) {
		t.Errorf("body = %s, want a message about %s", body, what)
	}
	if took > limit {
		t.Errorf("answered after %v, want within %v", took, limit)
	}
}

// tenant creates tenant acme in stores and returns its API key.
func tenant(t *testing.T, stores *app.Stores) string {
	t.Helper()
	tn, err := hookrun.NewTenant("acme", "Acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, k, err := hookrun.NewTenantAPIKey(tn.ID, "test", tn.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if err := stores.Firestore.CreateTenantWithKey(context.Background(), tn, k); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return key
}

const event = `{"type":"user.created","data":{"name":"Ada"}}`

func TestHungFirestoreIsA503WithinTheBudget(t *testing.T) {
	const budget = time.Second
	url, _ := ingestAPI(t, dependencies{firestore: testenv.SilentAddr(t), pubsub: testenv.SilentAddr(t), secrets: testenv.SilentAddr(t)},
		budget, budget)
	key, _ := hookrun.NewAPIKey()
	resp, body, took := call(t, http.MethodPost, url+"/v1/events", key, event)
	wantUnavailable(t, resp, body, took, 3*budget, "retry")
}

func TestUnreachablePubSubIsA503AtOnce(t *testing.T) {
	testenv.FirestoreHost(t)
	const publishTimeout = 10 * time.Second
	url, stores := ingestAPI(t, dependencies{pubsub: testenv.RefusedAddr(t), secrets: testenv.SilentAddr(t)},
		publishTimeout, publishTimeout)
	key := tenant(t, stores)
	resp, body, took := call(t, http.MethodPost, url+"/v1/events", key, event)
	wantUnavailable(t, resp, body, took, publishTimeout/3, "Pub/Sub")
}

func TestHungSecretManagerIsA503WithinTheBudget(t *testing.T) {
	testenv.FirestoreHost(t)
	const budget = 2 * time.Second
	url, stores := ingestAPI(t, dependencies{pubsub: testenv.SilentAddr(t), secrets: testenv.SilentAddr(t)}, budget, budget)
	tenant(t, stores)
	resp, body, took := call(t, http.MethodPost, url+"/v1/tenants/acme/endpoints", adminToken,
		`{"url":"https://hooks.example.com/acme","event_types":["user.*"]}`)
	wantUnavailable(t, resp, body, took, 3*budget, "secret")
}

// The dispatcher's requests may run for minutes (a fan-out), so its calls
// are bounded each: a hung Firestore makes a push 503 after the call
// timeout, and Pub/Sub pushes the message again later.
func TestHungFirestoreMakesAPushA503AfterTheCallTimeout(t *testing.T) {
	const callTimeout = 500 * time.Millisecond
	stores, c := dependencies{firestore: testenv.SilentAddr(t), pubsub: testenv.SilentAddr(t), secrets: testenv.SilentAddr(t), callTimeout: callTimeout}.open(t)
	sched, err := cloudtasks.New(context.Background(), cloudtasks.Config{
		ProjectID: c.ProjectID, Location: "local", Queue: "deliveries", TargetURL: "http://127.0.0.1/tasks/deliver",
		Endpoint: testenv.SilentAddr(t), CallTimeout: callTimeout,
	})
	if err != nil {
		t.Fatalf("cloudtasks.New: %v", err)
	}
	t.Cleanup(func() { sched.Close() })
	deadLetters, err := pubsub.NewPublisher(context.Background(), pubsub.Config{ProjectID: c.ProjectID, Topic: "dead-letters"})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	t.Cleanup(func() { deadLetters.Close() })
	svc, err := dispatch.New(dispatch.Config{ProjectID: c.ProjectID, InsecureSkipAuth: true},
		dispatch.Deps{Store: stores.Firestore, Secrets: stores.Secrets, Scheduler: sched, DeadLetters: deadLetters, Events: deadLetters}) // one hung Pub/Sub for both topics
	if err != nil {
		t.Fatalf("dispatch.New: %v", err)
	}
	url := serve(t, svc.Handler(), 4*time.Minute)

	push, err := json.Marshal(wire.PushEnvelope{
		Subscription: "projects/p/subscriptions/events-push",
		Message: wire.Message{
			MessageID:  "1",
			Data:       []byte(`{"name":"Ada"}`),
			Attributes: map[string]string{wire.AttrTenantID: "acme", wire.AttrEventID: "evt_1", wire.AttrEventType: "user.created"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body, took := call(t, http.MethodPost, url+"/pubsub/push", "", string(bytes.TrimSpace(push)))
	wantUnavailable(t, resp, body, took, 3*callTimeout, "retry")
}
