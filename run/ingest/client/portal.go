package client

import (
	"context"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// CreatePortalSession answers a one-time link into a tenant's portal, to
// hand to the tenant's user, that must be opened within ttl (1m to 24h; 0:
// the service's default, 1h).
func (c *Client) CreatePortalSession(ctx context.Context, tenant string, ttl time.Duration) (*PortalSession, error) {
	var body api.CreatePortalSessionRequest
	if ttl != 0 {
		body.TTL = Ptr(ttl.String())
	}
	return call[PortalSession](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewCreatePortalSessionRequest(base, tenant, body)
	}))
}
