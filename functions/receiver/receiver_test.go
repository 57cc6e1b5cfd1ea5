package receiver

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/signature"
)

func TestReceiver(t *testing.T) {
	secret := signature.NewSecret()
	key, _ := signature.ParseSecret(secret)
	other, _ := signature.ParseSecret(signature.NewSecret())
	now := time.Unix(1_800_000_000, 0)
	rc := New(Config{Keys: [][]byte{key}, Tolerance: 5 * time.Minute, MaxBody: 1024})
	rc.now = func() time.Time { return now }
	body := `{"id":"evt_1","type":"user.created","timestamp":"2027-01-15T08:00:00Z","data":{}}`

	signed := func(k []byte, ts time.Time, b string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(signature.HeaderID, "msg_1")
		r.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		r.Header.Set(signature.HeaderSignature, signature.NewSigner(k).Sign("msg_1", ts.Unix(), []byte(body)))
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"valid", signed(key, now, body), http.StatusNoContent},
		{"tampered body", signed(key, now, strings.Replace(body, "created", "deleted", 1)), http.StatusUnauthorized},
		{"wrong secret", signed(other, now, body), http.StatusUnauthorized},
		{"stale", signed(key, now.Add(-6*time.Minute), body), http.StatusUnauthorized},
		{"future", signed(key, now.Add(6*time.Minute), body), http.StatusUnauthorized},
		{"unsigned", httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), http.StatusUnauthorized},
		{"too large", httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 2048))), http.StatusRequestEntityTooLarge},
		{"wrong method", httptest.NewRequest(http.MethodPut, "/", nil), http.StatusBadRequest},
		{"health", httptest.NewRequest(http.MethodGet, "/healthz", nil), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, tt.req)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if w.Code == http.StatusUnauthorized && strings.Contains(w.Body.String(), "signature") {
				t.Errorf("401 body gives detail: %s", w.Body)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	a, b := signature.NewSecret(), signature.NewSecret()
	t.Setenv("WEBHOOK_SECRET", a+" "+b)
	cfg, err := ConfigFromEnv()
	if err != nil || len(cfg.Keys) != 2 {
		t.Fatalf("ConfigFromEnv = %d keys, %v; want 2 keys", len(cfg.Keys), err)
	}
	t.Setenv("WEBHOOK_SECRET", "whsec_!!!")
	if _, err := ConfigFromEnv(); err == nil || strings.Contains(err.Error(), "!!!") {
		t.Errorf("bad secret: err = %v, want an error that does not repeat the secret", err)
	}
	t.Setenv("WEBHOOK_SECRET", "")
	if _, err := ConfigFromEnv(); err == nil {
		t.Error("missing secret accepted")
	}
}

func TestReceiverEchoesHookrunChallenge(t *testing.T) {
	key, _ := signature.ParseSecret(signature.NewSecret())
	rc := New(Config{Keys: [][]byte{key}, Tolerance: time.Minute, MaxBody: 1024})
	body := `{"id":"chal_1","type":"webhook.verification","timestamp":"2026-11-23T10:00:00Z","data":{"challenge":"abc123"}}`
	now := time.Now().Unix()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set(signature.HeaderID, "msg_c")
	r.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now, 10))
	r.Header.Set(signature.HeaderSignature, signature.NewSigner(key).Sign("msg_c", now, []byte(body)))
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"challenge":"abc123"`) {
		t.Errorf("challenge answer = %d %s, want 200 echoing it", w.Code, w.Body)
	}
	// An unsigned challenge is refused like any unsigned webhook.
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	w = httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("unsigned challenge: %d, want 401", w.Code)
	}
}
