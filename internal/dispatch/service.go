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
	"time"

	"github.com/hookrun/hookrun/internal/cache"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/signature"
)

// maxPushBody bounds a push request: Pub/Sub messages are at most 10 MB,
// base64 makes that 4/3 larger, plus the envelope.
const maxPushBody = 14 << 20

// Service serves the dispatcher's HTTP routes. Build it with New.
type Service struct {
	cfg       Config
	store     Store
	secrets   Secrets
	verifier  PushVerifier
	client    *http.Client
	tenants   *cache.TTL[hookrun.Tenant]
	endpoints *cache.TTL[[]hookrun.Endpoint]
	signers   *cache.TTL[*signature.Signer]
	now       func() time.Time
}

// New returns a Service. verifier may be nil only when
// cfg.InsecureSkipPushAuth is set.
func New(cfg Config, store Store, secrets Secrets, verifier PushVerifier) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dispatcher config: %w", err)
	}
	if verifier == nil && !cfg.InsecureSkipPushAuth {
		return nil, fmt.Errorf("dispatcher config: push authentication needs a verifier, or InsecureSkipPushAuth for the local stack")
	}
	return &Service{
		cfg:       cfg,
		store:     store,
		secrets:   secrets,
		verifier:  verifier,
		client:    newHTTPClient(cfg.AllowPrivateNetworks),
		tenants:   cache.New[hookrun.Tenant](cfg.EndpointCacheTTL, 10_000),
		endpoints: cache.New[[]hookrun.Endpoint](cfg.EndpointCacheTTL, 10_000),
		// Secret versions are immutable: cache signers for long.
		signers: cache.New[*signature.Signer](time.Hour, 100_000),
		now:     time.Now,
	}, nil
}

// Handler returns the dispatcher's routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpapi.Healthz)
	mux.HandleFunc("POST /pubsub/push", s.push)
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Middleware(s.cfg.ProjectID, mux)
}

// push handles one Pub/Sub push request. A 2xx acknowledges the message;
// anything else makes Pub/Sub redeliver it (and after the subscription's
// max delivery attempts, move it to the dead-letter topic).
func (s *Service) push(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.cfg.InsecureSkipPushAuth {
		if err := s.verifier.Verify(ctx, r.Header.Get("Authorization")); err != nil {
			slog.WarnContext(ctx, "push request refused", "error", err.Error())
			httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeUnauthenticated, "push request is not authenticated"))
			return
		}
	}
	var env pushEnvelope
	if err := httpapi.DecodeJSONLenient(w, r, maxPushBody, &env); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if env.Message.MessageID == "" {
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInvalidArgument, "message.messageId: required"))
		return
	}
	httpapi.AddLogAttrs(ctx, slog.String("message_id", env.Message.MessageID))
	if err := s.handleMessage(ctx, &env); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleMessage returns nil when the message may be acknowledged.
func (s *Service) handleMessage(ctx context.Context, env *pushEnvelope) error {
	e, rej := s.toEvent(env)
	if rej == nil {
		httpapi.AddLogAttrs(ctx, slog.String("tenant_id", e.TenantID), slog.String("event_id", e.ID), slog.String("event_type", e.Type))
		t, err := s.tenants.Get(ctx, e.TenantID, func(ctx context.Context) (hookrun.Tenant, error) {
			return s.store.GetTenant(ctx, e.TenantID)
		})
		switch {
		case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
			rej = &rejection{tenantID: e.TenantID, reason: fmt.Sprintf("unknown tenant %q", e.TenantID)}
		case err != nil:
			return err
		case !t.Active():
			rej = &rejection{tenantID: e.TenantID, reason: fmt.Sprintf("tenant %q is disabled", e.TenantID)}
		}
	}
	if rej != nil {
		slog.WarnContext(ctx, "message rejected", "message_id", env.Message.MessageID, "reason", rej.reason)
		httpapi.AddLogAttrs(ctx, slog.String("rejected", rej.reason))
		if err := s.store.RecordRejected(ctx, rej.record(env, s.now())); err != nil {
			return fmt.Errorf("record rejected message: %w", err)
		}
		return nil
	}
	if e.Source != hookrun.SourceAPI {
		if err := s.store.SaveEvent(ctx, e, env.Message.MessageID); err != nil {
			return fmt.Errorf("save event: %w", err)
		}
	}
	return s.fanOut(ctx, e)
}
