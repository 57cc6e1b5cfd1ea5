// Package receiver is the sample webhook receiver tenants deploy to receive
// hookrun webhooks, and a good Cloud Run target for other senders too. It
// runs as a Cloud Run function (entry point "Receive", see function.go) or
// a Cloud Run service (./cmd), configured by environment (Config).
//
// For each POST it:
//
//  1. authenticates the sender, told by the signature header it sends: a
//     Standard Webhooks signature (WEBHOOK_SECRET or WEBHOOK_SECRET_NAME;
//     hookrun, Svix…), Slack's (SLACK_SIGNING_SECRET), GitHub's
//     (GITHUB_WEBHOOK_SECRET) or Stripe's (STRIPE_WEBHOOK_SECRET), or a
//     shared-secret header; anything else gets 401 without detail;
//  2. answers ownership challenges once authenticated: hookrun's
//     webhook.verification event, Slack's url_verification and GitHub's
//     ping; and (on GET) Meta's hub.challenge;
//  3. drops a delivery it already handed off within DEDUPE_WINDOW, by
//     the ID its sender repeats on retries (webhook-id,
//     X-GitHub-Delivery, the Stripe or Slack event's ID), acknowledging
//     it again;
//  4. hands the webhook off to a Pub/Sub topic or a Cloud Tasks queue and
//     acknowledges at once, or, with no hand-off configured, runs
//     handleWebhook inline. A failed hand-off is a 503, so the sender
//     retries.
//
// POST /process is where handed-off webhooks come back, pushed by the
// Pub/Sub subscription or the Cloud Task, to run handleWebhook.
//
// Your own logic goes in handleWebhook (webhook.go).
package receiver

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Paths the receiver serves besides webhooks, which it takes on any other
// path, so the endpoint URL can be whatever the sender needs.
const (
	HealthPath  = "/healthz"
	ProcessPath = "/process"
)

// PushVerifier authenticates the pushes to POST /process.
type PushVerifier interface {
	// Verify returns nil only when authorization is "Bearer <token>" with
	// a Google-signed OIDC token for the expected audience and service
	// account. Errors never repeat the token.
	Verify(ctx context.Context, authorization string) error
}

var _ PushVerifier = (*oidcVerifier)(nil)

// Deps are what a Receiver talks to; Open builds them from Config.
type Deps struct {
	// Handoff queues verified webhooks; nil runs handleWebhook inline.
	Handoff Handoff
	// PushVerifier checks pushes to POST /process; required with
	// ProcessAuth ProcessOIDC.
	PushVerifier PushVerifier
	// Handle runs each webhook, inline or in POST /process; nil means
	// handleWebhook (webhook.go). Set it to keep your logic out of this
	// package, or in tests.
	Handle func(context.Context, Webhook) error
}

// Receiver answers webhooks, challenges and hand-off pushes. It is an
// http.Handler, safe for concurrent use.
type Receiver struct {
	cfg          Config
	schemes      []scheme // the signature schemes whose secrets are configured
	sharedSecret [sha256.Size]byte
	verifyToken  [sha256.Size]byte
	handoff      Handoff
	pushVerifier PushVerifier
	accepted     *recentIDs // delivery keys handed off (or handled inline)
	processed    *recentIDs // delivery keys handled in POST /process
	closers      []io.Closer

	handle func(context.Context, Webhook) error // Deps.Handle
	now    func() time.Time                     // time.Now, but for tests
}

// New returns a Receiver for cfg (defaults applied) using deps. cfg must
// hold the signing secret itself: Open reads WEBHOOK_SECRET_NAME.
func New(cfg Config, deps Deps) (*Receiver, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Secret == "" && cfg.SecretName != "" {
		return nil, errors.New("WEBHOOK_SECRET_NAME is read by Open, not New")
	}
	if cfg.ProcessAuth == ProcessOIDC && deps.PushVerifier == nil {
		return nil, errors.New("PROCESS_AUTH=oidc needs a PushVerifier")
	}
	schemes, err := newSchemes(cfg)
	if err != nil {
		return nil, err
	}
	handle := deps.Handle
	if handle == nil {
		handle = handleWebhook
	}
	return &Receiver{
		cfg:          cfg,
		schemes:      schemes,
		sharedSecret: sha256.Sum256([]byte(cfg.SharedSecret)),
		verifyToken:  sha256.Sum256([]byte(cfg.VerifyToken)),
		handoff:      deps.Handoff,
		pushVerifier: deps.PushVerifier,
		accepted:     newRecentIDs(cfg.DedupeWindow, cfg.DedupeMaxIDs),
		processed:    newRecentIDs(cfg.DedupeWindow, cfg.DedupeMaxIDs),
		handle:       handle,
		now:          time.Now,
	}, nil
}

// Close releases the hand-off's connection, sending what it buffered.
func (rc *Receiver) Close() error {
	var errs []error
	for _, c := range rc.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// ServeHTTP routes: GET /healthz, POST /process, and webhooks (POST) and
// Meta verification (GET) on every other path.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case HealthPath:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, http.MethodGet, http.MethodHead)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case ProcessPath:
		rc.process(w, r)
	default:
		switch r.Method {
		case http.MethodPost:
			rc.receive(w, r)
		case http.MethodGet:
			rc.subscribeChallenge(w, r)
		default:
			methodNotAllowed(w, r, rc.webhookMethods()...)
		}
	}
}

// webhookMethods are the methods of webhook paths: GET only answers Meta
// verification, so it is offered only with a VERIFY_TOKEN.
func (rc *Receiver) webhookMethods() []string {
	if rc.cfg.VerifyToken != "" {
		return []string{http.MethodGet, http.MethodPost}
	}
	return []string{http.MethodPost}
}

// methodNotAllowed answers 405 with Allow, in Google's error shape.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
}
