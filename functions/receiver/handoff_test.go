package receiver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakePublisher records publishes, or fails with err.
type fakePublisher struct {
	data  []byte
	attrs map[string]string
	err   error
}

var _ publisher = (*fakePublisher)(nil)

func (f *fakePublisher) Publish(_ context.Context, data []byte, attrs map[string]string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.data, f.attrs = data, attrs
	return "1", nil
}

func TestTopicHandoff(t *testing.T) {
	secret, key := newSecret(t)
	tests := []struct {
		name      string
		body      string
		wantAttrs map[string]string
	}{
		{"hookrun event", testBody, map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderStandardWebhooks, AttrEventType: "user.created", AttrContentType: "application/json"}},
		{"JSON without a type", `{"a":1}`, map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderStandardWebhooks, AttrContentType: "application/json"}},
		{"type too long for an attribute", `{"type":"` + strings.Repeat("t", maxAttr+1) + `"}`, map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderStandardWebhooks, AttrContentType: "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: topicHandoff{pub: pub}})
			if w := serve(rc, signedRequest("msg_1", testNow, tt.body, key)); w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
			}
			if string(pub.data) != tt.body {
				t.Errorf("data = %q, want the raw body %q", pub.data, tt.body)
			}
			if !maps.Equal(pub.attrs, tt.wantAttrs) {
				t.Errorf("attributes = %v, want %v", pub.attrs, tt.wantAttrs)
			}
		})
	}
	t.Run("publish fails", func(t *testing.T) {
		rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: topicHandoff{pub: &fakePublisher{err: errors.New("rpc error: code = Unavailable")}}})
		if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 503", w.Code)
		}
	})
}

// fakeScheduler records tasks (body and headers) by ID, or fails with err.
type fakeScheduler struct {
	mu      sync.Mutex
	tasks   map[string][]byte
	headers map[string]map[string]string
	err     error
}

var _ scheduler = (*fakeScheduler)(nil)

func (f *fakeScheduler) Schedule(_ context.Context, taskID string, body []byte, header map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.tasks == nil {
		f.tasks, f.headers = map[string][]byte{}, map[string]map[string]string{}
	}
	if _, ok := f.tasks[taskID]; !ok { // like Cloud Tasks: the first of a name stands
		f.tasks[taskID], f.headers[taskID] = body, header
	}
	return nil
}

func TestTaskHandoff(t *testing.T) {
	secret, key := newSecret(t)
	sched := &fakeScheduler{}
	// Two instances, each with its own dedupe memory, share the queue.
	a := newReceiver(t, Config{Secret: secret}, Deps{Handoff: taskHandoff{sched: sched}})
	b := newReceiver(t, Config{Secret: secret}, Deps{Handoff: taskHandoff{sched: sched}})
	for _, rc := range []*Receiver{a, b, a} {
		if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
		}
	}
	if len(sched.tasks) != 1 {
		t.Fatalf("%d tasks for one webhook-id on two instances, want 1", len(sched.tasks))
	}

	// The task body is a push envelope that POST /process takes.
	consumer := newReceiver(t, Config{Secret: secret, ProcessAuth: ProcessNone}, Deps{})
	var got []Webhook
	consumer.handle = func(_ context.Context, wh Webhook) error { got = append(got, wh); return nil }
	for _, body := range sched.tasks {
		r := httptest.NewRequest(http.MethodPost, ProcessPath, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		if w := serve(consumer, r); w.Code != http.StatusNoContent {
			t.Fatalf("process: %d, want 204 (body %s)", w.Code, w.Body)
		}
	}
	if len(got) != 1 || got[0].ID != "msg_1" || got[0].Type != "user.created" || string(got[0].Body) != testBody {
		t.Errorf("handled %+v, want msg_1 with its body", got)
	}

	t.Run("the same ID from two senders is two tasks", func(t *testing.T) {
		sched := &fakeScheduler{}
		rc := newReceiver(t, Config{GitHubWebhookSecret: githubSecret, StripeWebhookSecret: stripeSecret}, Deps{Handoff: taskHandoff{sched: sched}})
		for _, r := range []*http.Request{
			githubRequest("evt_1NG8Du2eZvKYlo2CUI79vXWy", "push", githubPush, githubSecret),
			stripeRequest(testNow, stripeCheckout, stripeSecret),
		} {
			if w := serve(rc, r); w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
			}
		}
		if len(sched.tasks) != 2 {
			t.Errorf("%d tasks, want 2", len(sched.tasks))
		}
	})
	t.Run("too large for a task", func(t *testing.T) {
		big := &fakeScheduler{err: fmt.Errorf("schedule: %w", errTooLarge)}
		rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: taskHandoff{sched: big}})
		if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", w.Code)
		}
	})
	t.Run("the largest body fits", func(t *testing.T) {
		body := `{"pad":"` + strings.Repeat("x", MaxTasksBody-10) + `"}`
		wh := Webhook{ID: strings.Repeat("i", maxWebhookID), Sender: SenderStandardWebhooks, Type: strings.Repeat("t", maxAttr), ContentType: strings.Repeat("c", maxAttr), Body: []byte(body)}
		var task []byte
		rec := schedulerFunc(func(_ string, b []byte) { task = b })
		if err := (taskHandoff{sched: rec}).Send(t.Context(), wh); err != nil {
			t.Fatal(err)
		}
		if len(task) > maxTaskBody {
			t.Errorf("task body of a %d-byte webhook is %d bytes, over the %d Cloud Tasks takes", len(body), len(task), maxTaskBody)
		}
	})
}

// schedulerFunc is a scheduler that hands each task to a function.
type schedulerFunc func(taskID string, body []byte)

func (f schedulerFunc) Schedule(_ context.Context, taskID string, body []byte, _ map[string]string) error {
	f(taskID, body)
	return nil
}
