package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/wire"
)

// pushing is the events topic with the dispatcher as its push subscriber:
// each message is pushed before Publish returns, as Pub/Sub would push it
// soon after, so a page that follows an event's publish finds its first
// attempt already recorded and the test has nothing to wait for.
type pushing struct {
	mu       sync.Mutex
	n        int
	dispatch http.Handler
}

func (p *pushing) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	p.n++
	id := fmt.Sprint(p.n)
	p.mu.Unlock()
	env, err := json.Marshal(wire.PushEnvelope{Subscription: "projects/test/subscriptions/events-dispatcher",
		Message: wire.Message{Data: data, Attributes: attrs, MessageID: id, PublishTime: time.Now()}})
	if err != nil {
		return "", err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/pubsub/push", bytes.NewReader(env))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	p.dispatch.ServeHTTP(w, req)
	if w.Code/100 != 2 {
		return "", fmt.Errorf("push: %d %s", w.Code, w.Body)
	}
	return id, nil
}

// discard is a topic or queue whose messages no test reads: the
// dispatcher's dead letters, operational events and retry tasks.
type discard struct{}

func (discard) Publish(context.Context, []byte, map[string]string) (string, error) { return "0", nil }
func (discard) Schedule(context.Context, string, time.Time, []byte) error          { return nil }

// newDeliveringStack is newStack with the dispatcher behind its events
// topic, on the same store and secrets: events reach their endpoints.
func newDeliveringStack(t *testing.T) stack {
	t.Helper()
	store, secrets := memstore.New(), newSecrets(t)
	d, err := dispatch.New(dispatch.Config{InsecureSkipAuth: true, AllowPrivateNetworks: true},
		dispatch.Deps{Store: store, Secrets: secrets, Scheduler: discard{}, DeadLetters: discard{}, Events: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	return newStackWith(t, store, ingest.PublishFunc((&pushing{dispatch: d.Handler()}).Publish), secrets)
}

// A tenant opens an endpoint's page from the list, edits its description,
// rotates its secret and sees the new one once, and sends a test event
// whose attempt the page then shows.
func TestPortalEndpointPage(t *testing.T) {
	s := newDeliveringStack(t)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, nil)
	s.call(t, http.MethodPut, "/v1/tenants/acme/event-types", `{"event_types":["invoice.paid","user.created"]}`, nil)
	hook := receiver(t)
	var ep struct {
		ID string `json:"id"`
	}
	s.call(t, http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"`+hook+`","event_types":["invoice.paid"],"description":"Billing"}`, &ep)
	page := s.url + "/portal/tenants/acme/endpoints/" + ep.ID
	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(s.portalLink(t, "acme")), chromedp.WaitVisible(css(".endpoint a.url")),
		chromedp.Click(css(".endpoint a.url")), chromedp.WaitVisible(css("#edit-heading"))); err != nil {
		t.Fatalf("open the endpoint from the list: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != page {
		t.Errorf("the list's link leads to %q (%v), want %q", loc, err, page)
	}
	wantText(t, text(ctx, t), "Billing")
	Screenshot(ctx, t, dir, "1-endpoint")

	t.Run("edit description", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.Clear(css("#description")),
			chromedp.SendKeys(css("#description"), "Billing, EU\r"),
			chromedp.WaitVisible(css("#saved")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if lead, err := chromedp.Run(ctx, chromedp.Text(css(".lead"))); err != nil || lead != "Billing, EU" {
			t.Errorf("description after the edit = %q (%v), want Billing, EU", lead, err)
		}
	})

	t.Run("rotate secret", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(css(`form[action$="/rotate"] button`)), chromedp.WaitVisible(css("#secret"))); err != nil {
			t.Fatal(err)
		}
		if secret, err := chromedp.Run(ctx, chromedp.Value(css("#secret"))); err != nil || !strings.HasPrefix(secret, "whsec_") {
			t.Errorf("new secret shown = %q (%v), want whsec_…", secret, err)
		}
		wantText(t, text(ctx, t), "every webhook carries a signature with the old secret beside one with the new")
		Screenshot(ctx, t, dir, "2-secret-rotated")
		if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(css("#edit-heading"))); err != nil {
			t.Fatal(err)
		}
		if p := text(ctx, t); strings.Contains(p, "Signing secret rotated") || strings.Contains(p, "whsec_") {
			t.Errorf("the page shows the secret again:\n%s", p)
		}
		wantText(t, text(ctx, t), "rotated; the previous one signs too until")
	})

	t.Run("test event", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.SetValue(css("#test-type"), "user.created"),
			chromedp.Click(css(`form[action$="/test"] button`)),
			chromedp.WaitVisible(css("#test-heading")),
		)
		if err != nil {
			t.Fatal(err)
		}
		p := text(ctx, t)
		wantText(t, p, "Delivery: succeeded after 1 attempt")
		wantText(t, p, "204")
		if href, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`#test-heading ~ p a`), "href")); err != nil || !strings.HasPrefix(href.Value, "/portal/tenants/acme/events/evt_") {
			t.Errorf("link to the event = %q (%v), want its page", href.Value, err)
		}
		Screenshot(ctx, t, dir, "3-test-event")
	})

	t.Run("360px", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
			t.Fatal(err)
		}
		if overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > 360`)); err != nil || overflow {
			t.Errorf("at 360 px the page is wider than the screen (%v)", err)
		}
		Screenshot(ctx, t, dir, "4-endpoint-360px")
	})
}
