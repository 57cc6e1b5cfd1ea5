// Package dispatch is hookrun's sender: it takes events pushed by Pub/Sub,
// finds the tenant's endpoints whose filters match, signs each delivery
// (Standard Webhooks) and POSTs it, recording every attempt. A message is
// acknowledged only once every matching endpoint's outcome is recorded;
// a redelivered message skips endpoints that already succeeded.
package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/hookrun/hookrun/internal/cache"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/logging"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/wire"
	"golang.org/x/sync/singleflight"
)

// Service serves the dispatcher's HTTP routes. Build it with New.
type Service struct {
	cfg       Config
	store     Store
	secrets   Secrets
	deps      Deps
	sender    *sender.Sender
	tenants   *cache.TTL[hookrun.Tenant]
	endpoints *cache.TTL[endpointList]
	// sources: claim (hookrun.SourceMatch.Claim) → its source bindings
	sources *cache.TTL[[]hookrun.SourceBinding]
	creds   *cache.TTL[sender.Credentials]
	// limiters: endpoint ID → *rate.Limiter, for endpoint rate limits.
	limiters sync.Map
	// fanOuts joins the messages of one event and chain that this instance
	// handles at the same time (fanOut).
	fanOuts singleflight.Group
	// deadLetterNotices remembers the windows whose dead-letter notice
	// this instance published (notifyDeadLetter), so that a flood of dead
	// letters costs one publish per endpoint and window, not one each.
	deadLetterNotices *cache.TTL[struct{}]
	// attempts writes the records of successful first attempts after
	// their push is acknowledged; nil records every attempt before.
	attempts *attemptLog
	metrics  *metrics.Recorder
	now      func() time.Time
}

// New returns a Service.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dispatcher config: %w", err)
	}
	if (deps.PushVerifier == nil || deps.TaskVerifier == nil) && !cfg.InsecureSkipAuth {
		return nil, fmt.Errorf("dispatcher config: push and task authentication need verifiers, or InsecureSkipAuth for the local stack")
	}
	if deps.Store == nil || deps.Secrets == nil || deps.Scheduler == nil || deps.DeadLetters == nil || deps.Events == nil {
		return nil, fmt.Errorf("dispatcher: store, secrets, scheduler, dead-letters and events publishers are required")
	}
	var attempts *attemptLog
	if cfg.AttemptFlushInterval > 0 {
		attempts = newAttemptLog(deps.Store, cfg.AttemptFlushInterval)
	}
	return &Service{
		cfg:       cfg,
		store:     deps.Store,
		secrets:   deps.Secrets,
		deps:      deps,
		sender:    sender.New(cfg.AllowPrivateNetworks, sender.UserAgent),
		tenants:   cache.New[hookrun.Tenant](cfg.EndpointCacheTTL, 10_000),
		endpoints: cache.New[endpointList](cfg.EndpointCacheTTL, 10_000),
		sources:   cache.New[[]hookrun.SourceBinding](cfg.EndpointCacheTTL, 10_000),
		// Secret versions are immutable: cache credentials for long.
		creds:             cache.New[sender.Credentials](time.Hour, 100_000),
		deadLetterNotices: cache.New[struct{}](hookrun.DeadLetterNoticeWindow, 10_000),
		attempts:          attempts,
		metrics:           deps.Metrics,
		now:               time.Now,
	}, nil
}

// Handler returns the dispatcher's routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpapi.Healthz)
	mux.HandleFunc("POST /pubsub/push", s.pushed(s.handleMessage))
	mux.HandleFunc("POST /pubsub/dead-letter", s.pushed(s.recordUndeliverable))
	mux.HandleFunc("POST /tasks/deliver", s.task)
	mux.HandleFunc("POST /tasks/retire-secret", s.retireSecret)
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Middleware(s.cfg.ProjectID, mux)
}

// pushed adapts handle to a Pub/Sub push route: it authenticates the
// request, decodes the envelope, and answers 204 (ack) when handle returns
// nil; anything else makes Pub/Sub redeliver the message (and after the
// subscription's max delivery attempts, move it to the dead-letter topic).
func (s *Service) pushed(handle func(context.Context, *wire.PushEnvelope) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticated(w, r, s.deps.PushVerifier) {
			return
		}
		var env wire.PushEnvelope
		if err := httpapi.DecodeJSONLenient(w, r, wire.MaxPushBody, &env); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		if env.Message.MessageID == "" {
			httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInvalidArgument, "message.messageId: required"))
			return
		}
		if _, err := consume(r.Context(), &env, handle); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// consume runs handle for a pushed or pulled message inside the span that
// continues its publisher's trace (startPush), naming the message in the
// log line of ctx. It returns the span's context, for what is logged of
// the message afterwards, and handle's error.
func consume(ctx context.Context, env *wire.PushEnvelope, handle func(context.Context, *wire.PushEnvelope) error) (context.Context, error) {
	httpapi.AddLogAttrs(ctx, slog.String("message_id", env.Message.MessageID))
	ctx, span := startPush(ctx, env.Subscription, env.Message.MessageID, env.Message.Attributes)
	defer span.End()
	if err := handle(ctx, env); err != nil {
		span.SetStatus(codes.Error, "message not acknowledged")
		span.RecordError(err)
		return ctx, err
	}
	return ctx, nil
}

// HandlePulled handles a message the dispatcher pulled from the events
// subscription (its streaming-pull mode) exactly as POST /pubsub/push
// handles a pushed one, and returns nil when it may be acknowledged. ctx
// carries the deadline a push request gets (HOOKRUN_REQUEST_TIMEOUT). It
// logs one line, "message pulled", with what a push's request line has
// (message, tenant, event, rejection, error) and the subscription, and
// traces the message as a push, continuing its publisher's trace.
func (s *Service) HandlePulled(ctx context.Context, env *wire.PushEnvelope) error {
	start := time.Now()
	ctx = logging.WithProject(ctx, s.cfg.ProjectID)
	ctx, collected := httpapi.CollectLogAttrs(ctx)
	lctx, err := consumeRecovering(ctx, env, s.handleMessage)
	attrs := []slog.Attr{
		slog.String("subscription", env.Subscription),
		slog.Bool("acknowledged", err == nil),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()), slog.String("error_status", string(hookrun.ErrorCode(err))))
	}
	slog.LogAttrs(lctx, level, "message pulled", append(attrs, collected()...)...)
	return err
}

// consumeRecovering is consume for a pulled message, which no HTTP
// middleware guards: a panic in its handling is logged with its stack
// and becomes an error (the message is nacked and redelivered) instead
// of ending the process and every other message in flight.
func consumeRecovering(ctx context.Context, env *wire.PushEnvelope, handle func(context.Context, *wire.PushEnvelope) error) (lctx context.Context, err error) {
	lctx = ctx
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "panic handling a pulled message", "message_id", env.Message.MessageID, "panic", p, "stack", string(debug.Stack()))
			err = hookrun.Errorf(hookrun.CodeInternal, "internal error handling message %s", env.Message.MessageID)
		}
	}()
	return consume(ctx, env, handle)
}

// authenticated checks the OIDC token of a push or task request and
// answers 401 when it is wrong.
func (s *Service) authenticated(w http.ResponseWriter, r *http.Request, v PushVerifier) bool {
	if s.cfg.InsecureSkipAuth {
		return true
	}
	if err := v.Verify(r.Context(), r.Header.Get("Authorization")); err != nil {
		slog.WarnContext(r.Context(), "request refused", "path", r.URL.Path, "error", err.Error())
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeUnauthenticated, "request is not authenticated"))
		return false
	}
	return true
}

// handleMessage returns nil when the message may be acknowledged.
func (s *Service) handleMessage(ctx context.Context, env *wire.PushEnvelope) error {
	if env.Message.Attributes[wire.AttrJob] != "" {
		return s.runReplayJob(ctx, env)
	}
	e, rej, err := s.toEvent(ctx, env)
	if err != nil {
		return err
	}
	var t hookrun.Tenant
	if rej == nil {
		httpapi.AddLogAttrs(ctx, slog.String("tenant_id", e.TenantID), slog.String("event_id", e.ID), slog.String("event_type", e.Type))
		t, err = s.tenant(ctx, e.TenantID)
		switch {
		case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
			rej = &rejection{tenantID: e.TenantID, reason: fmt.Sprintf("unknown tenant %q", e.TenantID)}
		case err != nil:
			return err
		case !t.Active():
			rej = &rejection{tenantID: e.TenantID, reason: fmt.Sprintf("tenant %q is %s", e.TenantID, t.Status)}
		}
	}
	if rej != nil {
		slog.WarnContext(ctx, "message rejected", "message_id", env.Message.MessageID, "reason", rej.reason)
		httpapi.AddLogAttrs(ctx, slog.String("rejected", rej.reason))
		if err := s.recordRejected(ctx, env, rej); err != nil {
			return fmt.Errorf("record rejected message: %w", err)
		}
		return nil
	}
	if e.Source != hookrun.SourceAPI {
		if err := s.store.SaveEvent(ctx, e, env.Message.MessageID); err != nil {
			return fmt.Errorf("save event: %w", err)
		}
		// hookrun's own operational events are not producers' events.
		if e.Source != hookrun.SourceHookrun {
			s.metrics.EventAccepted(ctx, metrics.SourceTopic)
		}
	}
	// Two messages of one event can arrive at once: a publish that timed
	// out in ingest went through after all, and the producer's retry was
	// published again. Each would find no delivery yet and send; the one
	// that arrives while the other fans out shares its outcome instead
	// (acknowledged once the first has recorded every attempt). One that
	// arrives later, marked by ingest as possibly a second publish
	// (firstMessage), finds the deliveries recorded, or queued in this
	// instance's attempt log, and skips them.
	attrs := env.Message.Attributes
	key := e.TenantID + "\x00" + e.ID + "\x00" + attrs[wire.AttrChain] + "\x00" + attrs[wire.AttrEndpoint]
	_, err, _ = s.fanOuts.Do(key, func() (any, error) { return nil, s.fanOut(ctx, t, e, attrs, env.DeliveryAttempt) })
	return err
}

// tenant returns a tenant, cached briefly.
func (s *Service) tenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	return s.tenants.Get(ctx, id, func(ctx context.Context) (hookrun.Tenant, error) {
		return s.store.GetTenant(ctx, id)
	})
}
