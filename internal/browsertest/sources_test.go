package browsertest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A tenant adds a Cloud Storage bucket on the Sources page from the nav,
// sees it listed with its derived event type, is refused another
// tenant's bucket without learning whose it is, and removes its own after
// confirming, at a desktop's width and a phone's.
func TestPortalSources(t *testing.T) {
	s := newStack(t)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"acme","name":"Acme Inc."}`, nil)
	s.call(t, http.MethodPost, "/v1/tenants", `{"id":"globex","name":"Globex"}`, nil)
	s.call(t, http.MethodPost, "/v1/tenants/globex/source-bindings", `{"match":{"storage":{"bucket":"globex-uploads"}}}`, nil)
	dir := ArtefactDir(t)
	ctx := Browser(t, 90*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(s.portalLink(t, "acme")), chromedp.WaitVisible(css("#create-heading")),
		chromedp.Click(css(`nav a[href$="/source-bindings"]`)), chromedp.WaitVisible(css("#bucket"))); err != nil {
		t.Fatalf("open Sources from the nav: %v", err)
	}
	wantText(t, text(ctx, t), "No sources yet")
	Screenshot(ctx, t, dir, "1-sources-empty")
	narrow(ctx, t, dir, "1-sources-empty")

	// The bucket field is the default kind's: type the name, send with Enter.
	if err := chromedp.Do(ctx, chromedp.SendKeys(css("#bucket"), "acme-uploads\r"), chromedp.WaitVisible(css(".notice"))); err != nil {
		t.Fatalf("add a bucket: %v", err)
	}
	page := text(ctx, t)
	wantText(t, page, "Source added")
	if row, err := chromedp.Run(ctx, chromedp.Text(css(".source"))); err != nil || !strings.Contains(row, "Cloud Storage bucket acme-uploads") || !strings.Contains(row, "storage.object.finalize") {
		t.Errorf("listed source = %q (%v), want the bucket with its derived type", row, err)
	}
	Screenshot(ctx, t, dir, "2-source-added")

	// Another tenant's bucket: refused, what was typed kept.
	if err := chromedp.Do(ctx, chromedp.SendKeys(css("#bucket"), "globex-uploads\r"), chromedp.WaitVisible(css(`[role="alert"]`))); err != nil {
		t.Fatalf("add another tenant's bucket: %v", err)
	}
	page = text(ctx, t)
	wantText(t, page, "bound to another tenant")
	if strings.Contains(page, "globex\n") || strings.Contains(page, "Globex") {
		t.Errorf("the refusal names the other tenant:\n%s", page)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(css("#bucket"))); err != nil || v != "globex-uploads" {
		t.Errorf("bucket field = %q (%v), want what was typed", v, err)
	}
	Screenshot(ctx, t, dir, "3-bucket-refused")

	if err := chromedp.Do(ctx, chromedp.Click(css(".source a.button")), chromedp.WaitVisible(css(`[role="alertdialog"]`))); err != nil {
		t.Fatalf("ask to remove: %v", err)
	}
	wantText(t, text(ctx, t), "Remove this source?")
	Screenshot(ctx, t, dir, "4-remove-confirm")
	if err := chromedp.Do(ctx, chromedp.Click(css(`[role="alertdialog"] button`)), chromedp.WaitNotPresent(css(".source"))); err != nil {
		t.Fatalf("remove: %v", err)
	}
	wantText(t, text(ctx, t), "No sources yet")
}
