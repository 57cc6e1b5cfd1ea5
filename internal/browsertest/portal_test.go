package browsertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookrun/hookrun/internal/devstack"
	emulator "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/testenv"
)

const adminToken = "browser-test-admin-token"

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// noEvents is the events topic of a test that sends none.
type noEvents struct{}

func (noEvents) Publish(context.Context, []byte, map[string]string) (string, error) {
	return "", io.ErrClosedPipe
}

// stack is ingest on the memory store and the Secret Manager emulator,
// served on 127.0.0.1.
type stack struct{ url string }

func newStack(t *testing.T) stack {
	t.Helper()
	return newStackWith(t, memstore.New(), ingest.PublishFunc(noEvents{}.Publish), newSecrets(t))
}

// newSecrets is Secret Manager's emulator, for the services of one test.
func newSecrets(t *testing.T) *secretmanager.Store {
	t.Helper()
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start secret manager emulator: %v", err)
	}
	t.Cleanup(func() { _ = em.Close() })
	secrets, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: testenv.ProjectID(t), Endpoint: em.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = secrets.Close() })
	return secrets
}

// newStackWith serves ingest on store, publishing events to events.
func newStackWith(t *testing.T, store *memstore.Store, events ingest.Publisher, secrets *secretmanager.Store) stack {
	t.Helper()
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken, AllowHTTPEndpoints: true, AllowPrivateNetworks: true},
		store, events, secrets)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return stack{url: srv.URL}
}

// call calls the API as the admin and decodes the answer into out.
func (s stack) call(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// portalLink creates a portal link of tenant through the API.
func (s stack) portalLink(t *testing.T, tenant string) string {
	t.Helper()
	var link struct {
		URL string `json:"url"`
	}
	s.call(t, http.MethodPost, "/v1/tenants/"+tenant+"/portal-sessions", `{"ttl":"10m"}`, &link)
	return link.URL
}

// receiver answers hookrun's ownership challenge, as a tenant's receiver
// does, and 204 to anything else.
func receiver(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if !devstack.AnswerChallenge(w, body) {
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks"
}

// text returns the visible text of the page's main element.
func text(ctx context.Context, t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read page: %v", err)
	}
	return s
}

func wantText(t *testing.T, page, want string) {
	t.Helper()
	if !strings.Contains(page, want) {
		t.Errorf("page lacks %q; it reads:\n%s", want, page)
	}
}

// css is a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// A tenant opens its portal link, sees the empty Endpoints page, creates
// an endpoint that passes the ownership challenge and sees it active. The
// link does not open twice, and the session does not open another
// tenant's portal.
func TestPortalEndpoints(t *testing.T) {
	s := newStack(t)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, nil)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"globex","name":"Globex"}`, nil)
	s.call(t, http.MethodPut, "/v1/tenants/acme/event-types", `{"event_types":["invoice.paid","user.created","user.deleted"]}`, nil)
	link := s.portalLink(t, "acme")
	hook := receiver(t)
	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(css("#create-heading"))); err != nil {
		t.Fatalf("open portal link: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != s.url+"/portal/tenants/acme/endpoints" {
		t.Errorf("after the link the browser is at %q (%v), want the Endpoints page", loc, err)
	}
	wantText(t, text(ctx, t), "No endpoints yet: create one")
	Screenshot(ctx, t, dir, "1-endpoints-empty")

	// The narrowest phone: nothing wider than the screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	if overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > 360`)); err != nil || overflow {
		t.Errorf("at 360 px the page is wider than the screen (%v)", err)
	}
	Screenshot(ctx, t, dir, "2-endpoints-empty-360px")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	// The form is filled through its labelled fields, and sent with Enter.
	err := chromedp.Do(ctx,
		chromedp.SendKeys(css("#url"), hook),
		chromedp.SendKeys(css("#description"), "Billing"),
		chromedp.Click(css(`input[value="invoice.paid"]`)),
		chromedp.SendKeys(css("#patterns"), "user.*\r"),
		chromedp.WaitVisible(css(".notice")),
	)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	page := text(ctx, t)
	wantText(t, page, "Endpoint created")
	wantText(t, page, hook)
	if secret, err := chromedp.Run(ctx, chromedp.Value(css("#secret"))); err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("signing secret shown = %q (%v), want whsec_…", secret, err)
	}
	Screenshot(ctx, t, dir, "3-endpoint-created")
	if status, err := chromedp.Run(ctx, chromedp.Text(css(".endpoint .status"))); err != nil || status != "active" {
		t.Errorf("listed status = %q (%v), want active", status, err)
	}
	if types, err := chromedp.Run(ctx, chromedp.Text(css(".endpoint .types"))); err != nil || !strings.Contains(types, "invoice.paid, user.*") {
		t.Errorf("listed types = %q (%v), want invoice.paid, user.*", types, err)
	}

	// Disable, see why, enable again.
	if err := chromedp.Do(ctx, chromedp.Click(css(".endpoint button")), chromedp.WaitVisible(css(".endpoint .why"))); err != nil {
		t.Fatalf("disable: %v", err)
	}
	wantText(t, text(ctx, t), "Why: disabled through the API by the tenant in the portal")
	Screenshot(ctx, t, dir, "4-endpoint-disabled")
	if err := chromedp.Do(ctx, chromedp.Click(css(".endpoint button")), chromedp.WaitNotPresent(css(".endpoint .why"))); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if status, err := chromedp.Run(ctx, chromedp.Text(css(".endpoint .status"))); err != nil || status != "active" {
		t.Errorf("after enable the status is %q (%v), want active", status, err)
	}

	t.Run("link opens once", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(css("h1"))); err != nil {
			t.Fatal(err)
		}
		page := text(ctx, t)
		wantText(t, page, "This link cannot be opened")
		wantText(t, page, "already opened")
		Screenshot(ctx, t, dir, "5-link-reused")
	})
	t.Run("no other tenant", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/portal/tenants/globex/endpoints"), chromedp.WaitVisible(css("h1"))); err != nil {
			t.Fatal(err)
		}
		page := text(ctx, t)
		wantText(t, page, "Forbidden")
		wantText(t, page, "another tenant")
		if strings.Contains(page, "Create an endpoint") {
			t.Errorf("another tenant's URL shows its page:\n%s", page)
		}
	})
}

// A browser with no session sees no portal page.
func TestPortalWithoutSession(t *testing.T) {
	s := newStack(t)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, nil)
	ctx := Browser(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/portal/tenants/acme/endpoints"), chromedp.WaitVisible(css("h1"))); err != nil {
		t.Fatal(err)
	}
	page := text(ctx, t)
	wantText(t, page, "open a new portal link")
	if strings.Contains(page, "Create an endpoint") {
		t.Errorf("without a session the page reads:\n%s", page)
	}
}
