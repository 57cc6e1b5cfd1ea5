package client

import (
	"context"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// CreateEndpoint creates an endpoint of a tenant and answers it with its
// signing secret, shown only here. The endpoint stays pending until it
// answers the ownership challenge (VerifyEndpoint).
func (c *Client) CreateEndpoint(ctx context.Context, tenant string, e CreateEndpointRequest) (*CreatedEndpoint, error) {
	return call[CreatedEndpoint](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewCreateEndpointRequest(base, tenant, e)
	}))
}

// ListEndpoints answers every endpoint of a tenant.
func (c *Client) ListEndpoints(ctx context.Context, tenant string) ([]Endpoint, error) {
	out, err := call[api.EndpointList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListEndpointsRequest(base, tenant)
	}))
	if err != nil {
		return nil, err
	}
	return out.Endpoints, nil
}

// GetEndpoint answers an endpoint of a tenant.
func (c *Client) GetEndpoint(ctx context.Context, tenant, endpoint string) (*Endpoint, error) {
	return call[Endpoint](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetEndpointRequest(base, tenant, endpoint)
	}))
}

// UpdateEndpoint changes the fields of an endpoint that u sets;
// EndpointUpdate{Enabled: Ptr(false)} disables it.
func (c *Client) UpdateEndpoint(ctx context.Context, tenant, endpoint string, u EndpointUpdate) (*Endpoint, error) {
	return call[Endpoint](ctx, c, set(func(base string) (*http.Request, error) {
		return api.NewUpdateEndpointRequest(base, tenant, endpoint, u)
	}))
}

// DeleteEndpoint deletes an endpoint of a tenant.
func (c *Client) DeleteEndpoint(ctx context.Context, tenant, endpoint string) error {
	return c.do(ctx, set(func(base string) (*http.Request, error) {
		return api.NewDeleteEndpointRequest(base, tenant, endpoint)
	}), nil)
}

// VerifyEndpoint sends an endpoint the ownership challenge again and
// answers the endpoint after it: active when it answered, otherwise its
// VerificationError says why not.
func (c *Client) VerifyEndpoint(ctx context.Context, tenant, endpoint string) (*Endpoint, error) {
	return call[Endpoint](ctx, c, set(func(base string) (*http.Request, error) {
		return api.NewVerifyEndpointRequest(base, tenant, endpoint)
	}))
}

// RotateEndpointSecret gives an endpoint a new signing secret and answers
// it, shown only here. For grace (nil: the service's default, 24h) the old
// secret keeps signing beside the new one.
func (c *Client) RotateEndpointSecret(ctx context.Context, tenant, endpoint string, grace *time.Duration) (*RotatedEndpoint, error) {
	var body api.RotateSecretRequest
	if grace != nil {
		body.GracePeriod = Ptr(grace.String())
	}
	return call[RotatedEndpoint](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewRotateEndpointSecretRequest(base, tenant, endpoint, body)
	}))
}

// MetricsWindow selects the events whose delivery metrics are counted:
// received in [Since, Until) (zero: the last 24 hours before Until, and
// now), split into buckets of Step when set.
type MetricsWindow struct {
	Since, Until time.Time
	Step         time.Duration
}

func (w MetricsWindow) step() *string {
	if w.Step == 0 {
		return nil
	}
	return Ptr(w.Step.String())
}

// EndpointMetrics answers the delivery metrics of an endpoint.
func (c *Client) EndpointMetrics(ctx context.Context, tenant, endpoint string, w MetricsWindow) (*Metrics, error) {
	return call[Metrics](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetEndpointMetricsRequest(base, tenant, endpoint, &api.GetEndpointMetricsParams{Since: optional(w.Since), Until: optional(w.Until), Step: w.step()})
	}))
}

// TenantMetrics answers the delivery metrics of a tenant.
func (c *Client) TenantMetrics(ctx context.Context, tenant string, w MetricsWindow) (*Metrics, error) {
	return call[Metrics](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetTenantMetricsRequest(base, tenant, &api.GetTenantMetricsParams{Since: optional(w.Since), Until: optional(w.Until), Step: w.step()})
	}))
}
