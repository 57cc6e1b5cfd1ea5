package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

func TestSignatures(t *testing.T) {
	oldSecret, oldKey := newSecret(t)
	newSecretStr, newKey := newSecret(t)
	_, otherKey := newSecret(t)
	now := testNow
	// The signed headers on a changed body.
	tampered := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Replace(testBody, "Ada", "Eve", 1)))
	tampered.Header = signedRequest("msg_1", now, testBody, newKey).Header

	tests := []struct {
		name    string
		secrets string // the receiver's WEBHOOK_SECRET
		req     *http.Request
		want    int
	}{
		{"valid", newSecretStr, signedRequest("msg_1", now, testBody, newKey), http.StatusAccepted},
		{"tampered body", newSecretStr, tampered, http.StatusUnauthorized},
		{"tampered id", newSecretStr, func() *http.Request {
			r := signedRequest("msg_1", now, testBody, newKey)
			r.Header.Set(verify.HeaderID, "msg_2")
			return r
		}(), http.StatusUnauthorized},
		{"wrong secret", newSecretStr, signedRequest("msg_1", now, testBody, otherKey), http.StatusUnauthorized},
		{"expired", newSecretStr, signedRequest("msg_1", now.Add(-6*time.Minute), testBody, newKey), http.StatusUnauthorized},
		{"future-dated", newSecretStr, signedRequest("msg_1", now.Add(6*time.Minute), testBody, newKey), http.StatusUnauthorized},
		{"within tolerance", newSecretStr, signedRequest("msg_1", now.Add(-4*time.Minute), testBody, newKey), http.StatusAccepted},
		{"rotation: old and new signature, receiver has the new secret", newSecretStr,
			signedRequest("msg_1", now, testBody, oldKey, newKey), http.StatusAccepted},
		{"rotation: old and new signature, receiver still has the old secret", oldSecret,
			signedRequest("msg_1", now, testBody, oldKey, newKey), http.StatusAccepted},
		{"rotation: receiver holds both secrets", oldSecret + " " + newSecretStr,
			signedRequest("msg_1", now, testBody, newKey), http.StatusAccepted},
		{"unsigned", newSecretStr, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(testBody))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), http.StatusUnauthorized},
		{"garbage signature", newSecretStr, func() *http.Request {
			r := signedRequest("msg_1", now, testBody, newKey)
			r.Header.Set(verify.HeaderSignature, "v1,!!!! v2,abc nonsense")
			return r
		}(), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandoff{}
			rc := newReceiver(t, Config{Secret: tt.secrets}, Deps{Handoff: h})
			w := serve(rc, tt.req)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			wantSent := 0
			if tt.want == http.StatusAccepted {
				wantSent = 1
			}
			if got := len(h.sent()); got != wantSent {
				t.Errorf("handed off %d webhooks, want %d", got, wantSent)
			}
			if w.Code == http.StatusUnauthorized {
				if got, want := strings.TrimSpace(w.Body.String()), `{"error":{"code":401,"status":"UNAUTHENTICATED","message":"unauthenticated"}}`; got != want {
					t.Errorf("401 body = %s, want %s (no detail)", got, want)
				}
			}
		})
	}
}

func TestHandedOffWebhook(t *testing.T) {
	secret, key := newSecret(t)
	h := &fakeHandoff{}
	rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: h})
	r := signedRequest("msg_1", testNow, testBody, key)
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	if w := serve(rc, r); w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Fatalf("answer = %d %q, want 202 with no body", w.Code, w.Body)
	}
	got := h.sent()
	want := Webhook{ID: "msg_1", Type: "user.created", ContentType: "application/json; charset=utf-8", Body: []byte(testBody)}
	if len(got) != 1 || got[0].ID != want.ID || got[0].Type != want.Type || got[0].ContentType != want.ContentType || string(got[0].Body) != testBody {
		t.Errorf("handed off %+v, want %+v", got, want)
	}
}

func TestSharedSecret(t *testing.T) {
	const header, token = "X-Webhook-Token", "s3cret-token-value"
	secret, key := newSecret(t)
	form := "event=ping&id=42"

	req := func(ct, body, tok string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hooks/acme", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		if tok != "" {
			r.Header.Set(header, tok)
		}
		return r
	}
	badlySigned := signedRequest("msg_1", testNow, testBody, key)
	badlySigned.Header.Set(verify.HeaderSignature, "v1,AAAA")
	badlySigned.Header.Set(header, token)

	tests := []struct {
		name   string
		cfg    Config
		req    *http.Request
		want   int
		wantCT string
	}{
		{"matching token, JSON", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/json", testBody, token), http.StatusAccepted, "application/json"},
		{"matching token, form body", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/x-www-form-urlencoded", form, token), http.StatusAccepted, "application/x-www-form-urlencoded"},
		{"matching token, no content type", Config{SharedSecretHeader: header, SharedSecret: token},
			req("", "ping", token), http.StatusAccepted, ""},
		{"wrong token", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/json", testBody, token+"x"), http.StatusUnauthorized, ""},
		{"token prefix", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/json", testBody, token[:5]), http.StatusUnauthorized, ""},
		{"no token", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/json", testBody, ""), http.StatusUnauthorized, ""},
		{"JSON content type with invalid JSON", Config{SharedSecretHeader: header, SharedSecret: token},
			req("application/json", "{", token), http.StatusBadRequest, ""},
		{"both modes: Standard Webhooks request", Config{Secret: secret, SharedSecretHeader: header, SharedSecret: token},
			signedRequest("msg_1", testNow, testBody, key), http.StatusAccepted, "application/json"},
		{"both modes: token request", Config{Secret: secret, SharedSecretHeader: header, SharedSecret: token},
			req("text/plain", "hello", token), http.StatusAccepted, "text/plain"},
		{"both modes: a bad signature does not fall back to the token", Config{Secret: secret, SharedSecretHeader: header, SharedSecret: token},
			badlySigned, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := serveNew(t, tt.cfg, tt.req, tt.want)
			if tt.want != http.StatusAccepted {
				if n := len(h.sent()); n != 0 {
					t.Errorf("handed off %d webhooks, want none", n)
				}
				return
			}
			if got := h.sent(); len(got) != 1 || got[0].ContentType != tt.wantCT {
				t.Errorf("handed off %+v, want one with content type %q", got, tt.wantCT)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	secret, key := newSecret(t)
	const limit = 1024
	big := `{"pad":"` + strings.Repeat("x", limit) + `"}`
	atLimit := `{"pad":"` + strings.Repeat("x", limit-10) + `"}`

	t.Run("refused by Content-Length before reading", func(t *testing.T) {
		rc := newReceiver(t, Config{Secret: secret, MaxBody: limit}, Deps{Handoff: &fakeHandoff{}})
		r := signedRequest("msg_1", testNow, big, key)
		cr := &countingReader{r: r.Body}
		r.Body = httptestBody(cr)
		w := serve(rc, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413 (body %s)", w.Code, w.Body)
		}
		if cr.n != 0 {
			t.Errorf("read %d bytes of a body refused by its Content-Length", cr.n)
		}
		var eb errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code != 413 || !strings.Contains(eb.Error.Message, "1024") {
			t.Errorf("error body = %s, want the Google shape naming the limit", w.Body)
		}
	})
	t.Run("refused while reading without Content-Length", func(t *testing.T) {
		rc := newReceiver(t, Config{Secret: secret, MaxBody: limit}, Deps{Handoff: &fakeHandoff{}})
		r := signedRequest("msg_1", testNow, big, key)
		r.ContentLength = -1
		cr := &countingReader{r: r.Body}
		r.Body = httptestBody(cr)
		if w := serve(rc, r); w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413 (body %s)", w.Code, w.Body)
		}
		if cr.n > limit+4096 {
			t.Errorf("read %d bytes, want to stop near the %d byte limit", cr.n, limit)
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		h := &fakeHandoff{}
		rc := newReceiver(t, Config{Secret: secret, MaxBody: int64(len(atLimit))}, Deps{Handoff: h})
		r := signedRequest("msg_1", testNow, atLimit, key)
		r.ContentLength = -1 // read to the end, not by length
		if w := serve(rc, r); w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
		}
		if got := h.sent(); len(got) != 1 || string(got[0].Body) != atLimit {
			t.Errorf("body handed off changed")
		}
	})
}

func TestMethods(t *testing.T) {
	secret, _ := newSecret(t)
	tests := []struct {
		name        string
		verifyToken string
		method      string
		path        string
		want        int
		wantAllow   string
	}{
		{"health", "", http.MethodGet, "/healthz", http.StatusOK, ""},
		{"health HEAD", "", http.MethodHead, "/healthz", http.StatusOK, ""},
		{"POST health", "", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT webhook", "", http.MethodPut, "/", http.StatusMethodNotAllowed, "POST"},
		{"GET webhook without a verify token", "", http.MethodGet, "/", http.StatusMethodNotAllowed, "POST"},
		{"DELETE webhook with a verify token", "tok", http.MethodDelete, "/any/path", http.StatusMethodNotAllowed, "GET, POST"},
		{"GET webhook with a verify token but no hub.mode", "tok", http.MethodGet, "/", http.StatusBadRequest, ""},
		{"process is off by default", "", http.MethodPost, "/process", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, Config{Secret: secret, VerifyToken: tt.verifyToken}, Deps{})
			w := serve(rc, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if w.Code == http.StatusMethodNotAllowed {
				var eb errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code != 405 || eb.Error.Message == "" {
					t.Errorf("405 body = %s, want the Google error shape", w.Body)
				}
			}
		})
	}
}

func TestContentTypes(t *testing.T) {
	secret, key := newSecret(t)
	tests := []struct {
		name string
		ct   string
		body string
		want int
	}{
		{"application/json", "application/json", testBody, http.StatusAccepted},
		{"with charset", "application/json; charset=utf-8", testBody, http.StatusAccepted},
		{"+json type", "application/cloudevents+json", testBody, http.StatusAccepted},
		{"upper case", "Application/JSON", testBody, http.StatusAccepted},
		{"JSON that is not an object", "application/json", `[1,2]`, http.StatusAccepted},
		{"text/plain", "text/plain", testBody, http.StatusBadRequest},
		{"form", "application/x-www-form-urlencoded", "a=b", http.StatusBadRequest},
		{"missing", "", testBody, http.StatusBadRequest},
		{"malformed", "application/", testBody, http.StatusBadRequest},
		{"invalid JSON", "application/json", `{"type":`, http.StatusBadRequest},
		{"empty body", "application/json", ``, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandoff{}
			rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: h})
			r := signedRequest("msg_1", testNow, tt.body, key)
			r.Header.Set("Content-Type", tt.ct)
			if tt.ct == "" {
				r.Header.Del("Content-Type")
			}
			w := serve(rc, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if w.Code == http.StatusBadRequest {
				var eb errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Status != "INVALID_ARGUMENT" || !strings.Contains(strings.ToLower(eb.Error.Message), "json") {
					t.Errorf("400 body = %s, want INVALID_ARGUMENT naming JSON", w.Body)
				}
			}
		})
	}
}

func TestWebhookIDChecked(t *testing.T) {
	secret, key := newSecret(t)
	for _, id := range []string{strings.Repeat("m", maxWebhookID+1), "msg 1", "msg_\u00e9"} {
		rc := newReceiver(t, Config{Secret: secret}, Deps{Handoff: &fakeHandoff{}})
		if w := serve(rc, signedRequest(id, testNow, testBody, key)); w.Code != http.StatusBadRequest {
			t.Errorf("webhook-id %.20q…: status = %d, want 400", id, w.Code)
		}
	}
}

func TestInlineHandling(t *testing.T) {
	secret, key := newSecret(t)
	rc := newReceiver(t, Config{Secret: secret}, Deps{})
	var handled []Webhook
	fail := errors.New("database down")
	rc.handle = func(_ context.Context, wh Webhook) error {
		handled = append(handled, wh)
		return fail
	}
	w := serve(rc, signedRequest("msg_1", testNow, testBody, key))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("failing handler: %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if strings.Contains(w.Body.String(), "database") {
		t.Errorf("503 body leaks the cause: %s", w.Body)
	}
	fail = nil // the sender's retry is handled
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusNoContent {
		t.Fatalf("retry: %d, want 204", w.Code)
	}
	if w := serve(rc, signedRequest("msg_1", testNow, testBody, key)); w.Code != http.StatusNoContent {
		t.Fatalf("duplicate: %d, want 204", w.Code)
	}
	if len(handled) != 2 {
		t.Errorf("handled %d times, want 2 (failure, retry; not the duplicate)", len(handled))
	}
}

// The local stack's demo waits for handleWebhook's line with the event ID;
// the request line must not repeat it, and no line may hold a secret or a
// signature.
func TestLogs(t *testing.T) {
	logs := captureLogs(t)
	secret, key := newSecret(t)
	const token = "shared-token-value"
	rc := newReceiver(t, Config{Secret: secret, SharedSecretHeader: "X-Token", SharedSecret: token}, Deps{})
	h := LogRequests("proj", rc)

	ok := signedRequest("msg_1", testNow, testBody, key)
	sig := ok.Header.Get(verify.HeaderSignature)
	if w := serve(h, ok); w.Code != http.StatusNoContent {
		t.Fatalf("valid: %d", w.Code)
	}
	bad := signedRequest("msg_2", testNow, testBody, key)
	bad.Header.Set(verify.HeaderSignature, sig)
	serve(h, bad)
	wrongToken := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	wrongToken.Header.Set("X-Token", token+"-wrong")
	serve(h, wrongToken)

	out := logs.String()
	for _, s := range []string{secret, strings.TrimPrefix(secret, "whsec_"), sig, strings.TrimPrefix(sig, "v1,"), token} {
		if strings.Contains(out, s) {
			t.Errorf("logs contain a secret or signature %q:\n%s", s, out)
		}
	}
	if n := strings.Count(out, `"event_id":"evt_1"`); n != 1 {
		t.Errorf("event_id logged %d times, want once:\n%s", n, out)
	}
	var received, refused int
	for _, l := range logs.Lines(t) {
		switch l["message"] {
		case "webhook received":
			received++
			if l["webhook_id"] != "msg_1" || l["event_type"] != "user.created" || l["severity"] != "INFO" {
				t.Errorf("webhook received line = %v", l)
			}
		case "webhook refused":
			refused++
			if l["reason"] == nil || l["severity"] != "WARNING" {
				t.Errorf("refusal line = %v, want a reason at WARNING", l)
			}
		case "request":
			if l["status"] == float64(http.StatusNoContent) && (l["webhook_id"] != "msg_1" || l["outcome"] != "handled") {
				t.Errorf("request line = %v, want webhook_id and outcome", l)
			}
		}
	}
	if received != 1 || refused != 2 {
		t.Errorf("logged %d received and %d refused, want 1 and 2:\n%s", received, refused, out)
	}
}
