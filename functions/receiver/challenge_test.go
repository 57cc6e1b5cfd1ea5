package receiver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestHookrunChallenge(t *testing.T) {
	secret, key := newSecret(t)
	h := &fakeHandoff{}
	rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: h})
	body := `{"id":"chal_1","type":"webhook.verification","timestamp":"2026-11-23T10:00:00Z","data":{"challenge":"abc123"}}`

	for i := range 2 { // a repeated challenge is answered again, not deduplicated
		w := serve(rc, signedRequest("msg_c", testNow, body, key))
		if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"challenge":"abc123"}` {
			t.Errorf("challenge #%d answer = %d %s, want 200 echoing it", i+1, w.Code, w.Body)
		}
	}
	if n := len(h.sent()); n != 0 {
		t.Errorf("handed off %d challenges, want none", n)
	}
	// An unsigned challenge is refused like any unsigned webhook.
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if w := serve(rc, r); w.Code != http.StatusUnauthorized {
		t.Errorf("unsigned challenge: %d, want 401", w.Code)
	}
}

// Slack's url_verification is answered once it is authenticated: signed
// by Slack (SLACK_SIGNING_SECRET), or by the receiver's other schemes.
func TestSlackChallenge(t *testing.T) {
	secret, key := newSecret(t)
	const (
		header, token = "X-Webhook-Token", "tok-123456"
		body          = `{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
		want          = `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`
	)
	plain := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if tok != "" {
			r.Header.Set(header, tok)
		}
		return r
	}
	tests := []struct {
		name string
		cfg  Config
		req  *http.Request
		want int
	}{
		{"signed by Slack", Config{SlackSigningSecret: slackSecret}, slackRequest(testNow, body, slackSecret), http.StatusOK},
		{"signed by Slack, receiver has Standard Webhooks too", Config{Secret: secret, SlackSigningSecret: slackSecret}, slackRequest(testNow, body, slackSecret), http.StatusOK},
		{"signed by Slack with another secret", Config{SlackSigningSecret: slackSecret}, slackRequest(testNow, body, "another-signing-secret"), http.StatusUnauthorized},
		{"signed by Slack 6 minutes ago", Config{SlackSigningSecret: slackSecret}, slackRequest(testNow.Add(-6*time.Minute), body, slackSecret), http.StatusUnauthorized},
		{"signed (Standard Webhooks)", Config{Secret: secret}, signedRequest("msg_s", testNow, body, key), http.StatusOK},
		{"shared secret", Config{SharedSecretHeader: header, SharedSecret: token}, plain(token), http.StatusOK},
		{"unauthenticated", Config{Secret: secret, SlackSigningSecret: slackSecret}, plain(""), http.StatusUnauthorized},
		{"wrong shared secret", Config{SharedSecretHeader: header, SharedSecret: token}, plain("nope"), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h := serveNew(t, tt.cfg, tt.req, tt.want)
			if tt.want == http.StatusOK && strings.TrimSpace(w.Body.String()) != want {
				t.Errorf("body = %s, want %s", w.Body, want)
			}
			if n := len(h.sent()); n != 0 {
				t.Errorf("handed off %d challenges, want none", n)
			}
		})
	}
}

func TestMetaChallenge(t *testing.T) {
	secret, _ := newSecret(t)
	const verifyToken = "meta-verify-token"
	query := func(mode, token, challenge string) string {
		return "/?" + url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}.Encode()
	}
	tests := []struct {
		name     string
		token    string // VERIFY_TOKEN
		target   string
		want     int
		wantBody string
	}{
		{"matching token", verifyToken, query("subscribe", verifyToken, "1158201444"), http.StatusOK, "1158201444"},
		{"other path", verifyToken, "/whatsapp" + query("subscribe", verifyToken, "42")[1:], http.StatusOK, "42"},
		{"wrong token", verifyToken, query("subscribe", "guess", "1158201444"), http.StatusForbidden, ""},
		{"token prefix", verifyToken, query("subscribe", verifyToken[:4], "1"), http.StatusForbidden, ""},
		{"no VERIFY_TOKEN configured", "", query("subscribe", "", "1158201444"), http.StatusForbidden, ""},
		{"other mode", verifyToken, query("unsubscribe", verifyToken, "1"), http.StatusForbidden, ""},
		{"empty challenge", verifyToken, query("subscribe", verifyToken, ""), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, Config{Secret: secret, VerifyToken: tt.token}, Deps{})
			w := serve(rc, httptest.NewRequest(http.MethodGet, tt.target, nil))
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if tt.want != http.StatusOK {
				if strings.Contains(w.Body.String(), "1158201444") {
					t.Errorf("refusal echoes the challenge: %s", w.Body)
				}
				return
			}
			if w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
		})
	}
}
