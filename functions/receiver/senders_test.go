package receiver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// Bodies the senders send, trimmed.
const (
	slackEvent     = `{"token":"legacy","team_id":"T1","api_app_id":"A1","event":{"type":"app_mention","text":"hi"},"type":"event_callback","event_id":"Ev08MFMKH6","event_time":1800000000}`
	githubPing     = `{"zen":"Design for failure.","hook_id":1,"hook":{"type":"Repository","events":["push"]}}`
	githubPush     = `{"ref":"refs/heads/main","before":"0000","after":"1111","repository":{"full_name":"acme/app"}}`
	stripeCheckout = `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_a1","object":"checkout.session"}}}`
)

// Slack's documented example request, from "Verifying requests from
// Slack": a slash command, form-encoded, and the X-Slack-Signature Slack
// computed with slackSecret.
const (
	slackDocTimestamp = 1531420618
	slackDocBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// allSenders configures every scheme, and a shared secret.
func allSenders(t *testing.T) (Config, []byte) {
	secret, key := newSecret(t)
	return Config{
		Secret: secret, SlackSigningSecret: slackSecret, GitHubWebhookSecret: githubSecret, StripeWebhookSecret: stripeSecret,
		SharedSecretHeader: "X-Webhook-Token", SharedSecret: "shared-token-value",
	}, key
}

func TestSenders(t *testing.T) {
	all, key := allSenders(t)
	tampered := func(r *http.Request, body string) *http.Request {
		r.Body = httptestBody(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		return r
	}
	form := "payload=" + url.QueryEscape(githubPush)
	githubForm := githubRequest("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push", form, githubSecret)
	githubForm.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	badSlackGoodToken := slackRequest(testNow, slackEvent, "another-signing-secret")
	badSlackGoodToken.Header.Set(all.SharedSecretHeader, all.SharedSecret)

	tests := []struct {
		name string
		cfg  Config
		req  *http.Request
		want int
		sent Webhook // what was handed off, when want is 202
	}{
		{"Slack event", Config{SlackSigningSecret: slackSecret}, slackRequest(testNow, slackEvent, slackSecret),
			http.StatusAccepted, Webhook{ID: "Ev08MFMKH6", Sender: SenderSlack, Type: "event_callback"}},
		{"Slack, receiver holds the old and the new secret", Config{SlackSigningSecret: "old-signing-secret " + slackSecret}, slackRequest(testNow, slackEvent, slackSecret),
			http.StatusAccepted, Webhook{ID: "Ev08MFMKH6", Sender: SenderSlack, Type: "event_callback"}},
		{"Slack, tampered", Config{SlackSigningSecret: slackSecret}, tampered(slackRequest(testNow, slackEvent, slackSecret), strings.Replace(slackEvent, "hi", "ho", 1)), http.StatusUnauthorized, Webhook{}},
		{"Slack, stale", Config{SlackSigningSecret: slackSecret}, slackRequest(testNow.Add(-verify.SlackTolerance-time.Second), slackEvent, slackSecret), http.StatusUnauthorized, Webhook{}},
		{"GitHub ping", Config{GitHubWebhookSecret: githubSecret}, githubRequest("d1", "ping", githubPing, githubSecret), http.StatusNoContent, Webhook{}},
		{"GitHub push", Config{GitHubWebhookSecret: githubSecret}, githubRequest("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push", githubPush, githubSecret),
			http.StatusAccepted, Webhook{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Sender: SenderGitHub, Type: "push"}},
		{"GitHub push, form-encoded", Config{GitHubWebhookSecret: githubSecret}, githubForm,
			http.StatusAccepted, Webhook{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Sender: SenderGitHub, Type: "push"}},
		{"GitHub ping, tampered", Config{GitHubWebhookSecret: githubSecret}, tampered(githubRequest("d1", "ping", githubPing, githubSecret), githubPing+" "), http.StatusUnauthorized, Webhook{}},
		{"GitHub ping, another secret", Config{GitHubWebhookSecret: githubSecret}, githubRequest("d1", "ping", githubPing, "guess"), http.StatusUnauthorized, Webhook{}},
		{"Stripe checkout", Config{StripeWebhookSecret: stripeSecret}, stripeRequest(testNow, stripeCheckout, stripeSecret),
			http.StatusAccepted, Webhook{ID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", Sender: SenderStripe, Type: "checkout.session.completed"}},
		{"Stripe, signed 300 s ago", Config{StripeWebhookSecret: stripeSecret}, stripeRequest(testNow.Add(-verify.StripeTolerance), stripeCheckout, stripeSecret),
			http.StatusAccepted, Webhook{ID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", Sender: SenderStripe, Type: "checkout.session.completed"}},
		{"Stripe, rolling its secret: two v1", Config{StripeWebhookSecret: stripeSecret}, stripeRequest(testNow, stripeCheckout, "whsec_old", stripeSecret),
			http.StatusAccepted, Webhook{ID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", Sender: SenderStripe, Type: "checkout.session.completed"}},
		{"Stripe, stale", Config{StripeWebhookSecret: stripeSecret}, stripeRequest(testNow.Add(-verify.StripeTolerance-time.Second), stripeCheckout, stripeSecret), http.StatusUnauthorized, Webhook{}},
		{"Stripe, tampered", Config{StripeWebhookSecret: stripeSecret}, tampered(stripeRequest(testNow, stripeCheckout, stripeSecret), strings.Replace(stripeCheckout, "cs_test_a1", "cs_test_a2", 1)), http.StatusUnauthorized, Webhook{}},
		{"every scheme: Standard Webhooks", all, signedRequest("msg_1", testNow, testBody, key),
			http.StatusAccepted, Webhook{ID: "msg_1", Sender: SenderStandardWebhooks, Type: "user.created"}},
		{"every scheme: Slack", all, slackRequest(testNow, slackEvent, slackSecret),
			http.StatusAccepted, Webhook{ID: "Ev08MFMKH6", Sender: SenderSlack, Type: "event_callback"}},
		{"every scheme: GitHub ping", all, githubRequest("d1", "ping", githubPing, githubSecret), http.StatusNoContent, Webhook{}},
		{"every scheme: Stripe", all, stripeRequest(testNow, stripeCheckout, stripeSecret),
			http.StatusAccepted, Webhook{ID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", Sender: SenderStripe, Type: "checkout.session.completed"}},
		{"every scheme: a bad Slack signature does not fall back to the token", all, badSlackGoodToken, http.StatusUnauthorized, Webhook{}},
		{"Stripe-signed, receiver has no Stripe secret", Config{Secret: all.Secret}, stripeRequest(testNow, stripeCheckout, stripeSecret), http.StatusUnauthorized, Webhook{}},
		{"no signature header, several schemes", Config{SlackSigningSecret: slackSecret, StripeWebhookSecret: stripeSecret}, func() *http.Request {
			r := stripeRequest(testNow, stripeCheckout, stripeSecret)
			r.Header.Del(verify.HeaderStripeSignature)
			return r
		}(), http.StatusUnauthorized, Webhook{}},
		{"a ping signed by Stripe is no GitHub ping", Config{StripeWebhookSecret: stripeSecret}, func() *http.Request {
			r := stripeRequest(testNow, stripeCheckout, stripeSecret)
			r.Header.Set(verify.HeaderGitHubEvent, "ping")
			return r
		}(), http.StatusAccepted, Webhook{ID: "evt_1NG8Du2eZvKYlo2CUI79vXWy", Sender: SenderStripe, Type: "checkout.session.completed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := serveNew(t, tt.cfg, tt.req, tt.want)
			got := h.sent()
			if tt.want != http.StatusAccepted {
				if len(got) != 0 {
					t.Errorf("handed off %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != tt.sent.ID || got[0].Sender != tt.sent.Sender || got[0].Type != tt.sent.Type {
				t.Fatalf("handed off %+v, want one with ID %q, sender %q, type %q", got, tt.sent.ID, tt.sent.Sender, tt.sent.Type)
			}
			if got[0].ContentType != tt.req.Header.Get("Content-Type") {
				t.Errorf("content type %q handed off, want %q", got[0].ContentType, tt.req.Header.Get("Content-Type"))
			}
		})
	}
}

// Slack's own example request verifies, with the receiver's clock at its
// timestamp: a slash command, form-encoded, with no event ID.
func TestSlackDocumentedRequest(t *testing.T) {
	h := &fakeHandoff{}
	rc := newReceiver(t, Config{SlackSigningSecret: slackSecret}, Deps{Handoff: h})
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(slackDocBody))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(verify.HeaderSlackTimestamp, "1531420618")
		r.Header.Set(verify.HeaderSlackSignature, slackDocSignature)
		return r
	}
	rc.now = func() time.Time { return time.Unix(slackDocTimestamp, 0) }
	if w := serve(rc, req()); w.Code != http.StatusAccepted {
		t.Fatalf("Slack's example: %d %s, want 202", w.Code, w.Body)
	}
	if got := h.sent(); len(got) != 1 || got[0].Sender != SenderSlack || got[0].ID != "" || string(got[0].Body) != slackDocBody {
		t.Errorf("handed off %+v, want the command from Slack with no ID", got)
	}
	rc.now = func() time.Time { return time.Unix(slackDocTimestamp, 0).Add(verify.SlackTolerance + time.Second) }
	if w := serve(rc, req()); w.Code != http.StatusUnauthorized {
		t.Errorf("Slack's example, replayed later: %d, want 401", w.Code)
	}
}

// A sender's retry of a delivery it already made is acknowledged and not
// handed off again, by the ID that sender repeats: webhook-id,
// X-GitHub-Delivery, the Stripe event's id, the Slack event's event_id.
// The same ID from another sender is another delivery.
func TestSenderDuplicates(t *testing.T) {
	cfg, key := allSenders(t)
	slackRetry := slackRequest(testNow.Add(time.Minute), slackEvent, slackSecret)
	slackRetry.Header.Set(verify.HeaderSlackRetryNum, "1")
	slackRetry.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	otherEvent := strings.Replace(slackEvent, "Ev08MFMKH6", "Ev08MFMKH7", 1)
	requests := []struct {
		name string
		req  *http.Request
		new  bool
	}{
		{"Standard Webhooks", signedRequest("msg_1", testNow, testBody, key), true},
		{"Standard Webhooks retry", signedRequest("msg_1", testNow.Add(time.Minute), testBody, key), false},
		{"Slack event", slackRequest(testNow, slackEvent, slackSecret), true},
		{"Slack retry", slackRetry, false},
		{"Slack, another event", slackRequest(testNow, otherEvent, slackSecret), true},
		{"GitHub push", githubRequest("72d3162e", "push", githubPush, githubSecret), true},
		{"GitHub redelivery", githubRequest("72d3162e", "push", githubPush, githubSecret), false},
		{"Stripe event", stripeRequest(testNow, stripeCheckout, stripeSecret), true},
		{"Stripe retry, signed anew", stripeRequest(testNow.Add(time.Minute), stripeCheckout, stripeSecret), false},
		{"GitHub delivery with the Stripe event's ID", githubRequest("evt_1NG8Du2eZvKYlo2CUI79vXWy", "push", githubPush, githubSecret), true},
		{"Standard Webhooks with the GitHub delivery's ID", signedRequest("72d3162e", testNow, testBody, key), true},
	}
	h := &fakeHandoff{}
	rc := newReceiver(t, cfg, Deps{Handoff: h})
	want := 0
	for _, r := range requests {
		if w := serve(rc, r.req); w.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s, want 202", r.name, w.Code, w.Body)
		}
		if r.new {
			want++
		}
		if got := len(h.sent()); got != want {
			t.Fatalf("after %s: %d handed off, want %d", r.name, got, want)
		}
	}
}

// A request signed by a sender whose secret is not set is refused, and
// the tenant's log says which variable to set, and nothing of the
// signature.
func TestUnsetSenderSecretIsLogged(t *testing.T) {
	logs := captureLogs(t)
	secret, _ := newSecret(t)
	r := stripeRequest(testNow, stripeCheckout, stripeSecret)
	serveNew(t, Config{Secret: secret}, r, http.StatusUnauthorized)
	var refusals int
	for _, l := range logs.Lines(t) {
		if l["message"] != "webhook refused" {
			continue
		}
		refusals++
		if hint, _ := l["hint"].(string); !strings.Contains(hint, "STRIPE_WEBHOOK_SECRET") {
			t.Errorf("refusal line %v, want a hint naming STRIPE_WEBHOOK_SECRET", l)
		}
	}
	if refusals != 1 {
		t.Errorf("%d refusal lines, want 1:\n%s", refusals, logs)
	}
	if sig := r.Header.Get(verify.HeaderStripeSignature); strings.Contains(logs.String(), sig[strings.Index(sig, "v1=")+3:]) {
		t.Errorf("logs hold the signature:\n%s", logs)
	}
}
