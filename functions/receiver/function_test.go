package receiver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLazyHandler(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	get := func(h http.Handler) int { return serve(h, httptest.NewRequest(http.MethodPost, "/", nil)).Code }

	t.Run("built once", func(t *testing.T) {
		var builds atomic.Int32
		l := &lazyHandler{build: func(context.Context) (http.Handler, error) { builds.Add(1); return ok, nil }}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if code := get(l); code != http.StatusTeapot {
					t.Errorf("status = %d, want the built handler's", code)
				}
			})
		}
		wg.Wait()
		if n := builds.Load(); n != 1 {
			t.Errorf("built %d times, want 1", n)
		}
	})
	t.Run("configuration error is kept", func(t *testing.T) {
		builds := 0
		l := &lazyHandler{build: func(context.Context) (http.Handler, error) {
			builds++
			return nil, permanent{errors.New("WEBHOOK_SECRET is not set")}
		}}
		for range 2 {
			if code := get(l); code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", code)
			}
		}
		if builds != 1 {
			t.Errorf("built %d times, want 1: only a new deployment fixes configuration", builds)
		}
	})
	t.Run("transient error is retried later", func(t *testing.T) {
		builds := 0
		l := &lazyHandler{retryAfter: time.Hour, build: func(context.Context) (http.Handler, error) {
			builds++
			if builds == 1 {
				return nil, errors.New("secret manager unavailable")
			}
			return ok, nil
		}}
		for range 2 {
			if code := get(l); code != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", code)
			}
		}
		l.failedAt = l.failedAt.Add(-2 * time.Hour)
		if code := get(l); code != http.StatusTeapot || builds != 2 {
			t.Errorf("after retryAfter: status %d after %d builds, want the handler after 2", code, builds)
		}
	})
}

// Receive, the function entry point, reads the same environment.
func TestReceive(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) }) // Receive sets up Cloud Logging output
	secret, key := newSecret(t)
	t.Setenv("WEBHOOK_SECRET", secret)
	w := httptest.NewRecorder()
	Receive(w, signedRequest("msg_1", time.Now(), testBody, key))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status = %d, want 204 (body %s)", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	Receive(w, httptest.NewRequest(http.MethodGet, HealthPath, nil))
	if w.Code != http.StatusOK {
		t.Errorf("health: %d, want 200", w.Code)
	}
}
