// Package ingest is hookrun's public API: producers send events, operators
// and tenants manage tenants and endpoints. An event is answered 202 only
// once Pub/Sub has it; nothing half-recorded blocks a producer's retry.
package ingest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/cache"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/sender"
)

// Service serves the ingest API. Build it with New.
type Service struct {
	cfg       Config
	store     Store
	pub       Publisher
	secrets   Secrets
	challenge Challenger
	// retirer schedules the end of rotations' grace periods; without one,
	// an old secret is disabled at the endpoint's next change.
	retirer Scheduler
	// purges holds the tenant deletions running in this process's
	// background, so a client repeating DELETE meanwhile starts no second.
	purges    sync.Map // tenant ID → struct{}
	adminHash [sha256.Size]byte
	keys      *cache.TTL[string] // key hash → tenant ID
	// producerKeys: producer key hash → producer key
	producerKeys *cache.TTL[hookrun.ProducerKey]
	tenants      *cache.TTL[hookrun.Tenant] // tenant ID → tenant
	// catalogues: tenant ID → event-type catalogue
	catalogues *cache.TTL[hookrun.Catalogue]
	now        func() time.Time
	// endpointWrites is when this instance last changed each tenant's
	// endpoints (endpoint_recent.go); store notes every such write in it.
	endpointWrites recentEndpointWrites
	// eventRates enforces tenants' max_events_per_second (limits.go).
	eventRates eventRates
	// batches bounds the batch bodies held at once (batch.go).
	batches batchRoom
	// events records accepted events after their 202 (records.go); nil
	// records each before it (Config.EventFlushInterval 0).
	events *eventLog
	// opMetrics are the operator's metrics (events accepted and refused,
	// endpoints disabled), not a tenant's (metrics.go); nil counts nothing.
	opMetrics *metrics.Recorder
	// portal signs the tenant portal's sessions (portal_session.go);
	// frameAncestors may embed the portal (Config.PortalFrameAncestors).
	portal         portalSigner
	frameAncestors []string
	// idTokens verifies producers' ID tokens; producerAccounts maps each
	// allowed service account to the tenants it may send events of (nil:
	// every tenant), from Config.ProducerServiceAccounts.
	idTokens         IDTokenVerifier
	producerAccounts map[string][]string
}

// Option changes a Service built by New.
type Option func(*Service)

// WithRetirer schedules the retirement of old signing secrets at the end
// of a rotation's grace period (a Cloud Tasks scheduler targeting the
// dispatcher's /tasks/retire-secret).
func WithRetirer(s Scheduler) Option { return func(svc *Service) { svc.retirer = s } }

// WithMetrics records the API's metrics (events accepted and refused,
// endpoints disabled) on m.
func WithMetrics(m *metrics.Recorder) Option { return func(s *Service) { s.opMetrics = m } }

// WithIDTokens accepts ID tokens of Config.ProducerServiceAccounts, as v
// verifies them, as producer credentials. New requires it when any
// service account is configured.
func WithIDTokens(v IDTokenVerifier) Option { return func(s *Service) { s.idTokens = v } }

// WithChallenger replaces the ownership challenge (tests).
func WithChallenger(c Challenger) Option { return func(s *Service) { s.challenge = c } }

// New returns a Service; cfg is validated.
func New(cfg Config, store Store, pub Publisher, secrets Secrets, opts ...Option) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	s := &Service{
		cfg:          cfg,
		store:        store,
		pub:          pub,
		secrets:      secrets,
		adminHash:    sha256.Sum256([]byte(cfg.AdminToken)),
		keys:         cache.New[string](cfg.KeyCacheTTL, 100_000),
		producerKeys: cache.New[hookrun.ProducerKey](cfg.KeyCacheTTL, 10_000),
		tenants:      cache.New[hookrun.Tenant](cfg.KeyCacheTTL, 100_000),
		catalogues:   cache.New[hookrun.Catalogue](cfg.KeyCacheTTL, 100_000),
		now:          time.Now,
		batches:      newBatchRoom(),
		challenge:    senderChallenger{sender.New(cfg.AllowPrivateNetworks, sender.UserAgent)},
	}
	s.store = notingEndpointWrites{Store: store, s: s}
	if cfg.EventFlushInterval > 0 {
		s.events = newEventLog(store, cfg.EventFlushInterval)
	}
	s.portal = newPortalSigner(cfg.PortalKey)
	s.frameAncestors, _ = frameAncestors(cfg.PortalFrameAncestors)        // Validate checked it
	s.producerAccounts, _ = producerAccounts(cfg.ProducerServiceAccounts) // so did it
	for _, o := range opts {
		o(s)
	}
	switch {
	case len(s.producerAccounts) > 0 && s.idTokens == nil:
		return nil, errors.New("ingest config: producer service accounts are set, but no ID token verifier is given (WithIDTokens)")
	case len(s.producerAccounts) == 0:
		s.idTokens = nil // no service account, no ID token
	}
	return s, nil
}

// Handler returns the HTTP routes of the ingest API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpapi.Healthz)
	mux.Handle("/portal/", s.portalHandler())
	mux.Handle("/console/", s.consoleHandler())
	for _, r := range s.routes() {
		mux.HandleFunc(r.pattern, s.handle(r.handler))
	}
	// Everything else, wrong methods included, is a 404 in the API's shape.
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Middleware(s.cfg.ProjectID, mux)
}

// route is one API route: a net/http pattern and its handler. Each area's
// file lists its own routes.
type route struct {
	pattern string
	handler func(http.ResponseWriter, *http.Request) error
}

// routes is every API route but /healthz.
func (s *Service) routes() []route {
	return slices.Concat(s.tenantRoutes(), s.producerKeyRoutes(), s.endpointRoutes(), s.eventRoutes(), s.batchRoutes(), s.deliveryRoutes(), s.metricsRoutes(), s.catalogueRoutes(), s.sourceBindingRoutes(), s.portalSessionRoutes(), s.openAPIRoutes())
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
