package browsertest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The operator signs in to the console with the admin token, sees the
// tenants, creates one (its API key shown once), creates a producer key,
// and opens the tenant's portal, landing on its Endpoints page.
func TestConsole(t *testing.T) {
	s := newStack(t)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc.","limits":{"max_endpoints":5}}`, nil)
	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/console/"),
		chromedp.WaitVisible(css("#admin_token")),
	)
	if err != nil {
		t.Fatalf("open the console: %v", err)
	}
	Screenshot(ctx, t, dir, "1-sign-in")
	narrow(ctx, t, dir, "1-sign-in")

	// A wrong token is refused on the sign-in page.
	if err := chromedp.Do(ctx, chromedp.SendKeys(css("#admin_token"), "not-the-token\r"), chromedp.WaitVisible(css("[role=alert]"))); err != nil {
		t.Fatalf("wrong token: %v", err)
	}
	wantText(t, text(ctx, t), "not the admin token")

	if err := chromedp.Do(ctx, chromedp.SendKeys(css("#admin_token"), adminToken+"\r"), chromedp.WaitVisible(css("#create-heading"))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	page := text(ctx, t)
	wantText(t, page, "Acme Inc.")
	wantText(t, page, "active")
	Screenshot(ctx, t, dir, "2-tenants")
	narrow(ctx, t, dir, "2-tenants")

	err = chromedp.Do(ctx,
		chromedp.SendKeys(css("#id"), "globex"),
		chromedp.SendKeys(css("#name"), "Globex Corporation\r"),
		chromedp.WaitVisible(css(".notice")),
	)
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if key, err := chromedp.Run(ctx, chromedp.Value(css("#new-key"))); err != nil || !strings.HasPrefix(key, "hkr_") {
		t.Errorf("API key shown = %q (%v), want hkr_…", key, err)
	}
	wantText(t, text(ctx, t), "Globex Corporation")
	Screenshot(ctx, t, dir, "3-tenant-created")

	err = chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/console/tenants/globex"),
		chromedp.WaitVisible(css("#portal-heading")),
	)
	if err != nil {
		t.Fatalf("tenant page: %v", err)
	}
	Screenshot(ctx, t, dir, "4-tenant")
	narrow(ctx, t, dir, "4-tenant")

	for _, p := range []struct{ path, name string }{{"/console/system", "5-system"}, {"/console/rejected-messages", "6-rejected"}} {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.url+p.path), chromedp.WaitVisible(css("main h1"))); err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		Screenshot(ctx, t, dir, p.name)
		narrow(ctx, t, dir, p.name)
	}

	// A producer key for two tenants, shown once, listed with links to
	// its tenants.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/console/producer-keys"),
		chromedp.WaitVisible(css("#create-heading")),
		chromedp.SendKeys(css("#name"), "billing backend"),
		chromedp.SendKeys(css("#tenants"), "acme globex\r"),
		chromedp.WaitVisible(css(".notice")),
	)
	if err != nil {
		t.Fatalf("create producer key: %v", err)
	}
	if key, err := chromedp.Run(ctx, chromedp.Value(css("#new-key"))); err != nil || !strings.HasPrefix(key, "hkrp_") {
		t.Errorf("producer key shown = %q (%v), want hkrp_…", key, err)
	}
	wantText(t, text(ctx, t), "billing backend")
	Screenshot(ctx, t, dir, "7-producer-keys")
	narrow(ctx, t, dir, "7-producer-keys")

	err = chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/console/tenants/globex"),
		chromedp.WaitVisible(css("#portal-heading")),
		chromedp.Click(css(`form[action$="/portal"] button`)),
		chromedp.WaitVisible(css("#create-heading")),
	)
	if err != nil {
		t.Fatalf("open portal as tenant: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != s.url+"/portal/tenants/globex/endpoints" {
		t.Errorf("after Open portal the browser is at %q (%v), want globex's Endpoints page", loc, err)
	}
	wantText(t, text(ctx, t), "No endpoints yet")
	Screenshot(ctx, t, dir, "8-portal-as-tenant")
}
