// Package receiver is the sample webhook receiver tenants deploy to receive
// hookrun webhooks, as a Cloud Run function (entry point "Receive") or a
// Cloud Run service (./cmd). It verifies the Standard Webhooks signature,
// refuses bad or stale ones with 401, and acknowledges at once.
//
// Your own logic goes in handleWebhook (webhook.go).
package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/signature"
)

func init() {
	functions.HTTP("Receive", Receive)
}

// Config is the receiver's configuration.
type Config struct {
	// Keys are the signing keys accepted; several during a secret rotation.
	Keys [][]byte
	// Tolerance is how far webhook-timestamp may be from now.
	Tolerance time.Duration
	// MaxBody bounds request bodies.
	MaxBody int64
}

// ConfigFromEnv reads WEBHOOK_SECRET (one or more space-separated whsec_
// secrets) and WEBHOOK_TOLERANCE (a Go duration, default 5m).
func ConfigFromEnv() (Config, error) {
	cfg := Config{Tolerance: signature.DefaultTolerance, MaxBody: 1 << 20}
	secrets := strings.Fields(os.Getenv("WEBHOOK_SECRET"))
	if len(secrets) == 0 {
		return Config{}, errors.New("WEBHOOK_SECRET is not set: set it to the endpoint's whsec_ signing secret")
	}
	for i, s := range secrets {
		key, err := signature.ParseSecret(s)
		if err != nil {
			return Config{}, fmt.Errorf("WEBHOOK_SECRET #%d: %w", i+1, err)
		}
		cfg.Keys = append(cfg.Keys, key)
	}
	if v := os.Getenv("WEBHOOK_TOLERANCE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("WEBHOOK_TOLERANCE %q is not a positive duration", v)
		}
		cfg.Tolerance = d
	}
	return cfg, nil
}

// Receiver verifies and acknowledges webhooks. It is an http.Handler.
type Receiver struct {
	cfg Config
	now func() time.Time
}

// New returns a Receiver for cfg.
func New(cfg Config) *Receiver { return &Receiver{cfg: cfg, now: time.Now} }

var (
	defaultOnce     sync.Once
	defaultReceiver *Receiver
	defaultErr      error
)

// Receive is the Cloud Run function entry point. Its configuration is read
// from the environment on the first request, as functions should.
func Receive(w http.ResponseWriter, r *http.Request) {
	defaultOnce.Do(func() {
		cfg, err := ConfigFromEnv()
		defaultReceiver, defaultErr = New(cfg), err
	})
	if defaultErr != nil {
		slog.ErrorContext(r.Context(), "receiver is not configured", "error", defaultErr.Error())
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInternal, "receiver is not configured"))
		return
	}
	defaultReceiver.ServeHTTP(w, r)
}

var errUnauthenticated = hookrun.Errorf(hookrun.CodeUnauthenticated, "unauthenticated")

// ServeHTTP answers GET /healthz, and verifies and acknowledges POSTed
// webhooks.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
		httpapi.Healthz(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInvalidArgument, "method %s is not allowed: webhooks are POSTed", r.Method))
		return
	}
	if r.ContentLength > rc.cfg.MaxBody {
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodePayloadTooLarge, "body is larger than %d bytes", rc.cfg.MaxBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
	if err != nil {
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodePayloadTooLarge, "body is larger than %d bytes", rc.cfg.MaxBody))
		return
	}
	if err := signature.Verify(rc.cfg.Keys, r.Header, body, rc.now(), rc.cfg.Tolerance); err != nil {
		// The reason is logged for the tenant; the sender learns nothing.
		slog.WarnContext(r.Context(), "webhook refused", "reason", err.Error(), "webhook_id", r.Header.Get(signature.HeaderID))
		httpapi.WriteError(w, r, errUnauthenticated)
		return
	}
	if challenge, ok := verificationChallenge(body); ok {
		// hookrun's ownership check: echo the challenge to prove this
		// receiver wants the endpoint's webhooks.
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"challenge": challenge})
		return
	}
	wh := Webhook{ID: r.Header.Get(signature.HeaderID), Body: body}
	if err := handleWebhook(r.Context(), wh); err != nil {
		slog.ErrorContext(r.Context(), "webhook handling failed", "webhook_id", wh.ID, "error", err.Error())
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeUnavailable, "try again later"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verificationChallenge returns the challenge of a (verified) hookrun
// webhook.verification event.
func verificationChallenge(body []byte) (string, bool) {
	var v struct {
		Type string `json:"type"`
		Data struct {
			Challenge string `json:"challenge"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil || v.Type != "webhook.verification" || v.Data.Challenge == "" {
		return "", false
	}
	return v.Data.Challenge, true
}
