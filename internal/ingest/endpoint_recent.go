package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// maxRecentEndpointWrites bounds the tenants recentEndpointWrites
// remembers. Past it, every tenant counts as changed for a window: more
// exact endpoint list checks in the dispatcher, never a missed change.
const maxRecentEndpointWrites = 10_000

// recentEndpointWrites is when this instance last wrote each tenant's
// endpoints, for the window in which it marks the tenant's events
// (wire.AttrEndpointsChanged): the dispatcher may serve an endpoint list
// older than an event by its endpoint change delay, and the mark makes it
// check the list for events accepted right after a change made here, so
// that a tenant that creates an endpoint and sends an event through the
// same instance at once is never surprised. It is safe for concurrent use.
type recentEndpointWrites struct {
	mu sync.Mutex
	// last: tenant ID → when this instance last wrote one of its
	// endpoints, entries older than the window dropped when full.
	last map[string]time.Time
	// all, when the record was full, is when it was: every tenant
	// counts as changed then.
	all time.Time
}

// note records a write to tenantID's endpoints at now.
func (w *recentEndpointWrites) note(tenantID string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = make(map[string]time.Time)
	}
	if _, ok := w.last[tenantID]; !ok && len(w.last) >= maxRecentEndpointWrites {
		for id, at := range w.last {
			if !within(at, now) {
				delete(w.last, id)
			}
		}
		if len(w.last) >= maxRecentEndpointWrites {
			w.all = now
			clear(w.last)
		}
	}
	w.last[tenantID] = now
}

// changed reports whether tenantID's endpoints were written within the
// window before now.
func (w *recentEndpointWrites) changed(tenantID string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return within(w.all, now) || within(w.last[tenantID], now)
}

// within reports whether a write at at is within the window before now.
func within(at, now time.Time) bool {
	return !at.IsZero() && now.Sub(at) < wire.EndpointsChangedWindow
}

// endpointsChangedHere reports whether this instance wrote one of
// tenantID's endpoints within wire.EndpointsChangedWindow: its events
// are then published with wire.AttrEndpointsChanged.
func (s *Service) endpointsChangedHere(tenantID string) bool {
	return s.endpointWrites.changed(tenantID, s.now())
}

// notingEndpointWrites is the store ingest uses: the one it was given,
// with every write to an endpoint noted in the Service's
// recentEndpointWrites, whichever handler makes it (API, portal,
// console, ownership challenge, rotation). A write is noted when it
// starts, so that an event accepted while it commits is marked, and again
// when it ends, failed or not (a write that failed may have committed),
// so that the window runs from the commit.
type notingEndpointWrites struct {
	Store
	s *Service
}

func (n notingEndpointWrites) noted(tenantID string) (done func()) {
	n.s.endpointWrites.note(tenantID, n.s.now())
	return func() { n.s.endpointWrites.note(tenantID, n.s.now()) }
}

func (n notingEndpointWrites) CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	defer n.noted(e.TenantID)()
	return n.Store.CreateEndpoint(ctx, e)
}

func (n notingEndpointWrites) UpdateEndpoint(ctx context.Context, e hookrun.Endpoint) error {
	defer n.noted(e.TenantID)()
	return n.Store.UpdateEndpoint(ctx, e)
}

func (n notingEndpointWrites) DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error {
	defer n.noted(tenantID)()
	return n.Store.DeleteEndpoint(ctx, tenantID, endpointID)
}
