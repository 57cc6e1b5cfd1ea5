package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/wire"
)

// pipeline is ingest and the dispatcher on one memory store. The test
// plays Pub/Sub and Cloud Tasks: it pushes what ingest published and runs
// the retries the dispatcher scheduled when it chooses, so that what the
// browser sees next is known without waiting.
type pipeline struct {
	stack
	dispatch http.Handler
	events   *queue
	tasks    *queue
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	store, secrets := memstore.New(), newSecrets(t)
	p := &pipeline{events: &queue{}, tasks: &queue{}}
	d, err := dispatch.New(dispatch.Config{InsecureSkipAuth: true, AllowPrivateNetworks: true}, dispatch.Deps{
		Store: store, Secrets: secrets, Scheduler: p.tasks, DeadLetters: &queue{}, Events: &queue{},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.dispatch = d.Handler()
	p.stack = newStackWith(t, store, ingest.PublishFunc(p.events.Publish), secrets)
	return p
}

// queue holds messages published (Pub/Sub) or tasks scheduled (Cloud
// Tasks) until the test hands them on.
type queue struct {
	mu    sync.Mutex
	items [][]byte
	attrs []map[string]string
}

func (q *queue) Publish(_ context.Context, data []byte, attrs map[string]string) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items, q.attrs = append(q.items, bytes.Clone(data)), append(q.attrs, attrs)
	return fmt.Sprintf("msg-%d", len(q.items)), nil
}

func (q *queue) Schedule(_ context.Context, _ string, _ time.Time, body []byte) error {
	_, err := q.Publish(context.Background(), body, nil)
	return err
}

// take empties the queue and returns what it held.
func (q *queue) take() ([][]byte, []map[string]string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items, attrs := q.items, q.attrs
	q.items, q.attrs = nil, nil
	return items, attrs
}

// push hands every message ingest published to the dispatcher, as
// Pub/Sub's push subscription does, and wants n of them.
func (p *pipeline) push(t *testing.T, n int) {
	t.Helper()
	items, attrs := p.events.take()
	if len(items) != n {
		t.Fatalf("%d messages published, want %d", len(items), n)
	}
	for i := range items {
		env, _ := json.Marshal(wire.PushEnvelope{Subscription: "projects/test/subscriptions/events-dispatcher",
			Message: wire.Message{Data: items[i], Attributes: attrs[i], MessageID: fmt.Sprintf("m-%d-%d", time.Now().UnixNano(), i), PublishTime: time.Now()}})
		p.dispatchRequest(t, "/pubsub/push", env)
	}
}

// runTasks runs every retry the dispatcher scheduled, now, and wants n.
func (p *pipeline) runTasks(t *testing.T, n int) {
	t.Helper()
	items, _ := p.tasks.take()
	if len(items) != n {
		t.Fatalf("%d retries scheduled, want %d", len(items), n)
	}
	for _, body := range items {
		p.dispatchRequest(t, "/tasks/deliver", body)
	}
}

func (p *pipeline) dispatchRequest(t *testing.T, path string, body []byte) {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	p.dispatch.ServeHTTP(w, r)
	if w.Code/100 != 2 {
		t.Fatalf("dispatcher %s: %d %s", path, w.Code, w.Body)
	}
}

// sendEvent sends an event with the tenant's API key, as a producer does.
func (s stack) sendEvent(t *testing.T, key, body string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d, %v", resp.StatusCode, err)
	}
	return out.ID
}

// flakyReceiver answers the ownership challenge, 503 with a body to the
// first webhook and 204 to the others.
func flakyReceiver(t *testing.T) string {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if devstack.AnswerChallenge(w, body) {
			return
		}
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "warming up, try later")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks"
}

// narrow checks the page at the narrowest phone's width, keeps a
// screenshot of it, and goes back to the desktop's.
func narrow(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	if overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > 360`)); err != nil || overflow {
		t.Errorf("%s: at 360 px the page is wider than the screen (%v)", name, err)
	}
	Screenshot(ctx, t, dir, name+"-360px")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// inTimeZone makes the browser's time zone tz.
func inTimeZone(tz string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz})
		return err
	})
}

// An event sent through the API to an endpoint that fails once shows in
// the Events list delivered, with both attempts on its page, in the
// viewer's time zone; redelivered from the page, it gets a third.
func TestPortalEvents(t *testing.T) {
	p := newPipeline(t)
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	p.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, &tenant)
	hook := flakyReceiver(t)
	var ep struct {
		ID string `json:"id"`
	}
	p.call(t, http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"`+hook+`","event_types":["*"]}`, &ep)
	id := p.sendEvent(t, tenant.APIKey, `{"type":"invoice.paid","data":{"invoice":"in_1","amount":1200,"note":"<b>bold</b>"}}`)
	p.push(t, 1)     // the first attempt: 503
	p.runTasks(t, 1) // the retry: 204

	link := p.portalLink(t, "acme")
	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)
	// A viewer far from UTC sees local times (the page writes UTC; its
	// script rewrites it).
	if err := chromedp.Do(ctx, inTimeZone("Asia/Tokyo"), chromedp.Navigate(link), chromedp.WaitVisible(css("#create-heading"))); err != nil {
		t.Fatalf("open portal link: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(css(`nav a[href$="/events"]`)), chromedp.WaitVisible(css("table.events"))); err != nil {
		t.Fatalf("open Events from the nav: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(css("table.events tbody tr")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{id, "invoice.paid", "1 succeeded", "last: HTTP 204", "GMT+9"} {
		wantText(t, row, want)
	}
	Screenshot(ctx, t, dir, "1-events")
	narrow(ctx, t, dir, "2-events")

	if err := chromedp.Do(ctx, chromedp.Click(css("table.events td.id a")), chromedp.WaitVisible(css("table.attempts"))); err != nil {
		t.Fatalf("open the event: %v", err)
	}
	page := text(ctx, t)
	for _, want := range []string{`"invoice": "in_1"`, `"note": "<b>bold</b>"`, hook, "succeeded", "503", "warming up, try later", "204", " ms"} {
		wantText(t, page, want)
	}
	attempts := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.attempts tbody tr").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := attempts(); n != 2 {
		t.Errorf("%d attempts shown, want 2", n)
	}
	Screenshot(ctx, t, dir, "3-event")
	narrow(ctx, t, dir, "4-event")

	if err := chromedp.Do(ctx, chromedp.Click(css(".delivery button")), chromedp.WaitVisible(css(".notice"))); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	wantText(t, text(ctx, t), "Redelivery started")
	wantText(t, text(ctx, t), ep.ID)
	Screenshot(ctx, t, dir, "5-redelivered")
	p.push(t, 1)
	if err := chromedp.Do(ctx, chromedp.Click(css(".notice a")), chromedp.WaitNotPresent(css(".notice")), chromedp.WaitVisible(css("table.attempts"))); err != nil {
		t.Fatal(err)
	}
	if n := attempts(); n != 3 {
		t.Errorf("after redelivery %d attempts shown, want 3", n)
	}
	Screenshot(ctx, t, dir, "6-event-redelivered")
}
