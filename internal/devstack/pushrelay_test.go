package devstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

// fakeDispatcher records what the relay forwards and answers status.
type fakeDispatcher struct {
	status int
	mu     sync.Mutex
	got    []forwarded
}

type forwarded struct {
	path   string
	header http.Header
	body   []byte
}

func (d *fakeDispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	d.got = append(d.got, forwarded{path: r.URL.Path, header: r.Header.Clone(), body: body})
	status := d.status
	d.mu.Unlock()
	w.WriteHeader(status)
}

func (d *fakeDispatcher) last(t *testing.T) forwarded {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) == 0 {
		t.Fatal("the dispatcher got nothing")
	}
	return d.got[len(d.got)-1]
}

// emulatorPush is a push envelope as the emulator sends it: no
// deliveryAttempt, snake_case duplicates.
func emulatorPush(id string, published time.Time) []byte {
	return []byte(`{"message":{"data":"e30=","attributes":{"a":"b"},"messageId":"` + id + `","message_id":"` + id +
		`","publishTime":"` + published.Format(time.RFC3339Nano) + `"},"subscription":"projects/p/subscriptions/events-dispatcher"}`)
}

func startRelayTo(t *testing.T, target string) *relayServer {
	t.Helper()
	r, err := startPushRelay(target, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// relayToFake starts a fake dispatcher answering 204 and a relay to it.
func relayToFake(t *testing.T) (*fakeDispatcher, *relayServer) {
	t.Helper()
	d := &fakeDispatcher{status: http.StatusNoContent}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, startRelayTo(t, srv.URL)
}

func relayPush(t *testing.T, r *relayServer, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+"/pubsub/push", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer push-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("push through the relay: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func attemptOf(t *testing.T, f forwarded) int {
	t.Helper()
	var env wire.PushEnvelope
	if err := json.Unmarshal(f.body, &env); err != nil {
		t.Fatalf("forwarded body %s: %v", f.body, err)
	}
	return env.DeliveryAttempt
}

// The relay numbers each message's pushes as Pub/Sub does, and forwards
// the push otherwise as it came, answering what the dispatcher answered.
func TestPushRelayNumbersPushes(t *testing.T) {
	d, r := relayToFake(t)
	now := time.Now()

	for i, step := range []struct {
		id   string
		want int
	}{{"m1", 1}, {"m1", 2}, {"m2", 1}, {"m1", 3}} {
		if got := relayPush(t, r, emulatorPush(step.id, now)); got != http.StatusNoContent {
			t.Fatalf("push %d answered %d, want the dispatcher's 204", i, got)
		}
		f := d.last(t)
		if n := attemptOf(t, f); n != step.want {
			t.Errorf("push %d of %s: deliveryAttempt %d, want %d", i, step.id, n, step.want)
		}
		if f.path != "/pubsub/push" || f.header.Get("Authorization") != "Bearer push-token" || f.header.Get("Content-Type") != "application/json" {
			t.Errorf("push %d forwarded to %s with headers %v; want the same path and headers", i, f.path, f.header)
		}
		var env wire.PushEnvelope
		_ = json.Unmarshal(f.body, &env)
		if env.Message.MessageID != step.id || string(env.Message.Data) != "{}" || env.Message.Attributes["a"] != "b" {
			t.Errorf("push %d forwarded message %+v; want it as sent", i, env.Message)
		}
	}

	d.mu.Lock()
	d.status = http.StatusInternalServerError
	d.mu.Unlock()
	if got := relayPush(t, r, emulatorPush("m3", now)); got != http.StatusInternalServerError {
		t.Errorf("dispatcher answered 500, relay answered %d", got)
	}
}

// An envelope that carries deliveryAttempt reaches the dispatcher byte for
// byte, and does not count.
func TestPushRelayKeepsAPresentDeliveryAttempt(t *testing.T) {
	d, r := relayToFake(t)
	body := []byte(`{"message":{"data":"e30=","messageId":"m1"},"deliveryAttempt":7,"subscription":"s"}`)
	relayPush(t, r, body)
	if got := d.last(t).body; !bytes.Equal(got, body) {
		t.Errorf("forwarded %s, want %s unchanged", got, body)
	}
	relayPush(t, r, emulatorPush("m1", time.Now()))
	if n := attemptOf(t, d.last(t)); n != 1 {
		t.Errorf("the emulator's first push of m1 numbered %d, want 1", n)
	}
}

// A body over the bound of a push is refused without reaching the
// dispatcher.
func TestPushRelayBoundsTheBody(t *testing.T) {
	d, r := relayToFake(t)
	big := []byte(`{"message":{"data":"` + strings.Repeat("A", wire.MaxPushBody) + `","messageId":"m1"}}`)
	if got := relayPush(t, r, big); got != http.StatusRequestEntityTooLarge {
		t.Errorf("body over %d bytes answered %d, want 413", wire.MaxPushBody, got)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) != 0 {
		t.Errorf("the dispatcher got %d requests, want none", len(d.got))
	}
}

// While the dispatcher is down the relay answers an error, so the emulator
// pushes the message again.
func TestPushRelayAnswersErrorWhileTheDispatcherIsDown(t *testing.T) {
	srv := httptest.NewServer(&fakeDispatcher{status: http.StatusNoContent})
	target := srv.URL
	srv.Close()
	r := startRelayTo(t, target)
	if got := relayPush(t, r, emulatorPush("m1", time.Now())); got < 500 {
		t.Errorf("dispatcher down, relay answered %d; want a 5xx", got)
	}
}

// A forgotten message is never numbered 1 again: once it is pushed after
// it was forgotten, it counts from 2; a message published since counts
// from 1.
func TestPushRelayForgetsSafely(t *testing.T) {
	r, err := newPushRelay("http://127.0.0.1:1", time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	old := wire.Message{MessageID: "old", PublishTime: clock.Add(-time.Second)}
	if n := r.count(old); n != 1 {
		t.Fatalf("first push numbered %d, want 1", n)
	}
	clock = clock.Add(relayForgetAfter + time.Minute)
	fresh := wire.Message{MessageID: "fresh", PublishTime: clock}
	if n := r.count(fresh); n != 1 {
		t.Errorf("a message published after the forgotten one numbered %d, want 1", n)
	}
	if _, ok := r.pushes["old"]; ok {
		t.Fatalf("message pushed %v ago still remembered", relayForgetAfter+time.Minute)
	}
	if n := r.count(old); n != 2 {
		t.Errorf("forgotten message pushed again numbered %d, want 2", n)
	}
	if r.order.Len() != len(r.pushes) || len(r.pushes) != 2 {
		t.Errorf("remembers %d messages in order, %d by ID; want 2 and 2", r.order.Len(), len(r.pushes))
	}
}
