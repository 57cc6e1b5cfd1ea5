package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/wire"
)

// pushTopic stands for the events topic and its push subscription: each
// message published is pushed to the dispatcher afterwards, as Pub/Sub
// does, and Publish returns at once. settle waits for every push so far.
type pushTopic struct {
	t    *testing.T
	url  string
	n    atomic.Int64
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []string
}

func (p *pushTopic) Publish(_ context.Context, data []byte, attrs map[string]string) (string, error) {
	id := strconv.FormatInt(p.n.Add(1), 10)
	body, err := json.Marshal(wire.PushEnvelope{Subscription: "projects/test/subscriptions/events-push",
		Message: wire.Message{Data: data, Attributes: attrs, MessageID: id, PublishTime: time.Now()}})
	if err != nil {
		return "", err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = &devstack.APIError{Status: resp.StatusCode, Body: string(b)}
			}
		}
		if err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, "push message "+id+": "+err.Error())
			p.mu.Unlock()
		}
	}()
	return id, nil
}

// settle waits for every push so far and fails t on any the dispatcher
// refused: in this test none should be.
func (p *pushTopic) settle(t *testing.T) {
	t.Helper()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Error(e)
	}
	p.errs = nil
}

// noRetries is a retry queue the test never needs: its tenant's policy
// has one attempt, so a failure is a dead letter at once.
type noRetries struct{ t *testing.T }

func (n noRetries) Schedule(context.Context, string, time.Time, []byte) error {
	n.t.Error("a retry was scheduled; the tenant's policy allows one attempt")
	return nil
}

// newPushPipeline is ingest and the dispatcher in-process on one memory store,
// the events topic pushing to the dispatcher.
func newPushPipeline(t *testing.T) (stack, *pushTopic) {
	t.Helper()
	store := memstore.New()
	secrets := newSecrets(t)
	d, err := dispatch.New(dispatch.Config{InsecureSkipAuth: true, AllowPrivateNetworks: true},
		dispatch.Deps{Store: store, Secrets: secrets, Scheduler: noRetries{t}, DeadLetters: discard{}, Events: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	topic := &pushTopic{t: t, url: srv.URL + "/pubsub/push"}
	t.Cleanup(func() { topic.settle(t) }) // before the dispatcher closes
	return newStackWith(t, store, ingest.PublishFunc(topic.Publish), secrets), topic
}

// switchableReceiver answers the ownership challenge, and anything else with
// 500 while failing is set, else 204.
func switchableReceiver(t *testing.T, failing *atomic.Bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		switch {
		case devstack.AnswerChallenge(w, body):
		case failing.Load():
			http.Error(w, "database is down", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks"
}

// A delivery that fails becomes a dead letter the Dead letters page
// shows; replayed from the page once the endpoint works, its replay's page
// reloads itself until the replay is done with it delivered. An API key
// created on its page is shown once.
func TestPortalDeadLetters(t *testing.T) {
	s, topic := newPushPipeline(t)
	var created struct {
		APIKey string `json:"api_key"`
	}
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, &created)
	s.call(t, http.MethodPatch, "/v1/tenants/acme", `{"retry_policy":{"max_attempts":1}}`, nil)
	var failing atomic.Bool
	failing.Store(true)
	var ep struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	s.call(t, http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"`+switchableReceiver(t, &failing)+`","event_types":["*"]}`, &ep)
	if ep.Status != "active" {
		t.Fatalf("endpoint is %s, want active", ep.Status)
	}
	s.sendEvent(t, created.APIKey, `{"id":"order-42","type":"order.paid","data":{"amount":1200}}`)
	topic.settle(t)

	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)
	const list = "/portal/tenants/acme/dead-letters"
	if err := chromedp.Do(ctx, chromedp.Navigate(s.portalLink(t, "acme")), chromedp.WaitVisible(css("#create-heading")),
		chromedp.Click(css(`nav a[href="`+list+`"]`)), chromedp.WaitVisible(css(".deadletter"))); err != nil {
		t.Fatalf("open the Dead letters page: %v", err)
	}
	page := text(ctx, t)
	wantText(t, page, "order-42")
	wantText(t, page, "order.paid")
	wantText(t, page, "endpoint answered 500")
	if href, err := chromedp.Run(ctx, chromedp.AttributeValue(css(".deadletter a.event"), "href")); err != nil || href.Value != "/portal/tenants/acme/events/order-42" {
		t.Errorf("event link = %q (%v), want the event's page", href.Value, err)
	}
	Screenshot(ctx, t, dir, "1-dead-letters")
	narrow(ctx, t, dir, "2-dead-letters-360px")

	// Replay all matching, filtered by type through the form, with the
	// endpoint working again.
	failing.Store(false)
	if err := chromedp.Do(ctx, chromedp.SendKeys(css("#event_type"), "order.paid\r"), chromedp.WaitVisible(css(".replay-all"))); err != nil {
		t.Fatalf("filter: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(css(".replay-all button")), chromedp.WaitVisible(css(".replay"))); err != nil {
		t.Fatalf("replay all matching: %v", err)
	}
	Screenshot(ctx, t, dir, "3-replay")
	// The page reloads itself (meta refresh) until done.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(".state-done"))); err != nil {
		t.Fatalf("the replay page never showed the replay done: %v; it reads:\n%s", err, text(ctx, t))
	}
	if delivered, err := chromedp.Run(ctx, chromedp.Text(css("#delivered"))); err != nil || delivered != "1" {
		t.Errorf("delivered = %q (%v), want 1", delivered, err)
	}
	Screenshot(ctx, t, dir, "4-replay-done")
	narrow(ctx, t, dir, "5-replay-done-360px")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+list), chromedp.WaitVisible(css(".empty"))); err != nil {
		t.Fatal(err)
	}
	wantText(t, text(ctx, t), "No dead letters: every delivery succeeded or is still retrying")

	// An API key, shown once.
	if err := chromedp.Do(ctx, chromedp.Click(css(`nav a[href="/portal/tenants/acme/api-keys"]`)), chromedp.WaitVisible(css("#name")),
		chromedp.SendKeys(css("#name"), "billing server\r"), chromedp.WaitVisible(css("#new-key"))); err != nil {
		t.Fatalf("create an API key: %v", err)
	}
	key, err := chromedp.Run(ctx, chromedp.Value(css("#new-key")))
	if err != nil || !strings.HasPrefix(key, "hkr_") {
		t.Fatalf("key shown = %q (%v), want hkr_…", key, err)
	}
	Screenshot(ctx, t, dir, "6-api-key-created")
	narrow(ctx, t, dir, "7-api-key-created-360px")
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(css(".apikey"))); err != nil {
		t.Fatal(err)
	}
	if page := text(ctx, t); strings.Contains(page, key) || !strings.Contains(page, "billing server") {
		t.Errorf("after a reload the page shows the key again, or not its name:\n%s", page)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/portal/tenants/acme/event-types"), chromedp.WaitVisible(css("#event_types"))); err != nil {
		t.Fatal(err)
	}
	Screenshot(ctx, t, dir, "8-event-types")
}
