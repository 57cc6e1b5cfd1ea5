package ingest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A tenant's limits (hookrun.TenantLimits) are set by the operator with
// the admin token, on POST /v1/tenants or PATCH /v1/tenants/{tenant}, and
// enforced here: max_endpoints when an endpoint is created,
// max_events_per_second when an event is sent. Handlers read the tenant
// from the cache, so a new limit applies at once on the instance that
// took the PATCH and within KeyCacheTTL on the others.

// checkEndpointLimit refuses one more endpoint to a tenant that has as
// many as its max_endpoints allows. Two creates racing on one tenant (on
// one instance or several) may both count the same number and both
// succeed, so a tenant can end up over its limit by as many endpoints as
// it creates concurrently; a transaction over the count would close that
// at the cost of contention on every create. Lowering the limit below what
// a tenant has deletes nothing: only new endpoints are refused.
func (s *Service) checkEndpointLimit(ctx context.Context, t hookrun.Tenant) error {
	maxEndpoints := t.Limits.MaxEndpoints
	if maxEndpoints <= 0 {
		return nil
	}
	n, err := s.store.CountEndpoints(ctx, t.ID)
	if err != nil {
		return err
	}
	if n >= maxEndpoints {
		return hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q may have at most %d endpoints: delete one first", t.ID, maxEndpoints)
	}
	return nil
}

// allowEvent takes one of the tenant's events from its rate limit. Over
// it, it returns CodeResourceExhausted (429) with the wait in RetryAfter.
//
// The limit holds per ingest instance: each instance keeps its own token
// bucket, so a tenant whose events Cloud Run spreads over M instances can
// send up to M × max_events_per_second. Holding it exactly across
// instances would need shared state (Redis, or Firestore counters) on
// every event's path; as it is, the limit costs no I/O.
func (s *Service) allowEvent(t hookrun.Tenant) error {
	lim := s.eventRates.limiter(t.ID, t.Limits.MaxEventsPerSecond)
	if lim == nil {
		return nil
	}
	now := s.now()
	if lim.AllowN(now, 1) {
		return nil
	}
	return &hookrun.Error{
		Code:       hookrun.CodeResourceExhausted,
		Message:    fmt.Sprintf("tenant %q may send at most %d events per second: retry after the delay given (Retry-After)", t.ID, t.Limits.MaxEventsPerSecond),
		RetryAfter: time.Duration(retryAfter(lim, now)) * time.Second,
	}
}

// retryAfter is the whole seconds, at least 1, until lim has a token
// again (Retry-After has no fractions). A refused AllowN takes nothing.
func retryAfter(lim *rate.Limiter, now time.Time) int {
	missing := 1 - lim.TokensAt(now)
	return max(1, int(math.Ceil(missing/float64(lim.Limit()))))
}

// eventRates holds a token bucket per tenant with a max_events_per_second,
// made on the tenant's first event on this instance. The buckets are few
// and small: one per tenant with a limit (tenants are made by the
// operator), dropped when its limit is lifted or the tenant deleted here.
// The zero value is ready to use.
type eventRates struct {
	mu       sync.Mutex
	byTenant map[string]tenantRate
}

type tenantRate struct {
	perSecond int
	lim       *rate.Limiter
}

// limiter returns the tenant's bucket for perSecond events a second, with
// a burst of as many, or nil when perSecond is 0 (no limit). A changed
// limit gets a new bucket, full: the tenant may send a burst of its new
// limit at once (and requests still holding the old tenant record may
// swap the bucket back and forth while the change settles).
func (r *eventRates) limiter(tenantID string, perSecond int) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.byTenant[tenantID]
	switch {
	case perSecond <= 0:
		if ok {
			delete(r.byTenant, tenantID)
		}
		return nil
	case ok && cur.perSecond == perSecond:
		return cur.lim
	}
	if r.byTenant == nil {
		r.byTenant = map[string]tenantRate{}
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), perSecond)
	r.byTenant[tenantID] = tenantRate{perSecond: perSecond, lim: lim}
	return lim
}

// forget drops a tenant's bucket (the tenant is being deleted).
func (r *eventRates) forget(tenantID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byTenant, tenantID)
}
