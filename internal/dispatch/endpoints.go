package dispatch

import (
	"context"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// endpointList is a tenant's endpoints as cached, with the version of the
// list they were read at (Store.EndpointsChanged).
type endpointList struct {
	all     []hookrun.Endpoint
	version hookrun.EndpointsVersion
}

// tenantEndpoints returns a tenant's endpoints as they were at fresh or
// later when exact, otherwise as they were at fresh less
// Config.EndpointChangeDelay or later: a list read, or checked unchanged,
// that recently is served from the cache, and when it was confirmed more
// than half the delay ago it is checked in the background meanwhile, so
// that under steady traffic no event waits for the check. A cached list
// older than that costs one read, of the list's version, when no endpoint
// changed since it was read; only a change makes it read the whole list
// again. So at low rates, where every event is newer than the cached list,
// an event costs at most one read whatever the tenant's endpoint count.
//
// The version is read before the list: a change that commits between the
// two gives a version the next check finds different, so the list is read
// again rather than trusted; a list whose version is unchanged at a check
// is the list as of that check. A check that finds a change hands the
// version it read to the load that follows it (both run in turn, in the
// one call that loads for all waiting), which is then one read and the list.
func (s *Service) tenantEndpoints(ctx context.Context, tenantID string, fresh time.Time, exact bool) ([]hookrun.Endpoint, error) {
	var checked *hookrun.EndpointsVersion
	check := func(ctx context.Context, l endpointList) (bool, error) {
		v, err := s.store.EndpointsChanged(ctx, tenantID)
		if err != nil {
			return false, err
		}
		checked = &v
		return v.Equal(l.version), nil
	}
	load := func(ctx context.Context) (endpointList, error) {
		if checked == nil {
			v, err := s.store.EndpointsChanged(ctx, tenantID)
			if err != nil {
				return endpointList{}, err
			}
			checked = &v
		}
		all, err := s.store.ListEndpoints(ctx, tenantID)
		return endpointList{all: all, version: *checked}, err
	}
	delay := s.cfg.EndpointChangeDelay
	if exact || delay == 0 {
		l, err := s.endpoints.GetChecked(ctx, tenantID, fresh, check, load)
		return l.all, err
	}
	l, err := s.endpoints.GetCheckedAhead(ctx, tenantID, fresh.Add(-delay), s.now().Add(-delay/2), check, load)
	return l.all, err
}
