// Package ingest is hookrun's public API: producers send events, operators
// and tenants manage tenants and endpoints. An event is answered 202 only
// once Pub/Sub has it; nothing half-recorded blocks a producer's retry.
package ingest

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/internal/cache"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// Service serves the ingest API. Build it with New.
type Service struct {
	cfg       Config
	store     Store
	pub       Publisher
	secrets   Secrets
	adminHash [sha256.Size]byte
	keys      *cache.TTL[string]         // key hash → tenant ID
	tenants   *cache.TTL[hookrun.Tenant] // tenant ID → tenant
	now       func() time.Time
}

// New returns a Service; cfg is validated.
func New(cfg Config, store Store, pub Publisher, secrets Secrets) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	return &Service{
		cfg:       cfg,
		store:     store,
		pub:       pub,
		secrets:   secrets,
		adminHash: sha256.Sum256([]byte(cfg.AdminToken)),
		keys:      cache.New[string](cfg.KeyCacheTTL, 100_000),
		tenants:   cache.New[hookrun.Tenant](cfg.KeyCacheTTL, 100_000),
		now:       time.Now,
	}, nil
}

// Handler returns the HTTP routes of the ingest API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpapi.Healthz)
	mux.HandleFunc("POST /v1/events", s.handle(s.publishEvent))
	mux.HandleFunc("POST /v1/tenants", s.handle(s.createTenant))
	mux.HandleFunc("POST /v1/tenants/{tenant}/endpoints", s.handle(s.createEndpoint))
	mux.HandleFunc("GET /v1/tenants/{tenant}/endpoints", s.handle(s.listEndpoints))
	mux.HandleFunc("GET /v1/tenants/{tenant}/endpoints/{endpoint}", s.handle(s.getEndpoint))
	mux.HandleFunc("DELETE /v1/tenants/{tenant}/endpoints/{endpoint}", s.handle(s.deleteEndpoint))
	mux.HandleFunc("GET /v1/tenants/{tenant}/events/{event}", s.handle(s.getEvent))
	mux.HandleFunc("POST /v1/tenants/{tenant}/events/{event}", s.handle(s.eventAction))
	mux.HandleFunc("GET /v1/tenants/{tenant}/dead-letters", s.handle(s.listDeadLetters))
	mux.HandleFunc("POST /v1/tenants/{tenant}/dead-letters:replay", s.handle(s.replayDeadLetters))
	mux.HandleFunc("POST /v1/tenants/{tenant}/dead-letters/{id}", s.handle(s.deadLetterAction))
	mux.HandleFunc("GET /v1/tenants/{tenant}/rejected-messages", s.handle(s.listRejected))
	mux.HandleFunc("GET /v1/rejected-messages", s.handle(s.listRejected))
	// Everything else, wrong methods included, is a 404 in the API's shape.
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Middleware(s.cfg.ProjectID, mux)
}

// handle adapts a handler that returns an error to http.HandlerFunc, so
// every error leaves through httpapi.WriteError.
func (s *Service) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			httpapi.WriteError(w, r, err)
		}
	}
}
