package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// CreateTenant creates a tenant (admin token) and answers it with its
// first API key, shown only here.
func (c *Client) CreateTenant(ctx context.Context, t CreateTenantRequest) (*CreatedTenant, error) {
	return call[CreatedTenant](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewCreateTenantRequest(base, t)
	}))
}

// GetTenant answers a tenant.
func (c *Client) GetTenant(ctx context.Context, tenant string) (*Tenant, error) {
	return call[Tenant](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetTenantRequest(base, tenant)
	}))
}

// TenantPage is a page of tenants; NextPageToken, when not empty, asks for
// the next.
type TenantPage struct {
	Tenants       []Tenant
	NextPageToken string
}

// ListTenants answers a page of the tenants (admin token), pageSize of
// them at most (0: the API's default), from pageToken ("" for the first).
func (c *Client) ListTenants(ctx context.Context, pageSize int, pageToken string) (*TenantPage, error) {
	out, err := call[api.TenantList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListTenantsRequest(base, &api.ListTenantsParams{PageSize: optional(pageSize), PageToken: optional(pageToken)})
	}))
	if err != nil {
		return nil, err
	}
	return &TenantPage{Tenants: out.Tenants, NextPageToken: deref(out.NextPageToken)}, nil
}

// Tenants iterates over every tenant (admin token), a page at a time.
func (c *Client) Tenants(ctx context.Context) iter.Seq2[Tenant, error] {
	return all(ctx, func(ctx context.Context, token string) ([]Tenant, string, error) {
		p, err := c.ListTenants(ctx, 0, token)
		if err != nil {
			return nil, "", err
		}
		return p.Tenants, p.NextPageToken, nil
	})
}

// UpdateTenant changes the fields of a tenant that u sets.
func (c *Client) UpdateTenant(ctx context.Context, tenant string, u TenantUpdate) (*Tenant, error) {
	return call[Tenant](ctx, c, set(func(base string) (*http.Request, error) {
		return api.NewUpdateTenantRequest(base, tenant, u)
	}))
}

// DeleteTenant deletes a tenant and all its data (admin token). It
// answers the tenant, in state deleting, while its data is being deleted
// (GetTenantDeletion follows it), or nil when it was gone at once.
func (c *Client) DeleteTenant(ctx context.Context, tenant string) (*Tenant, error) {
	var out *Tenant
	err := c.do(ctx, set(func(base string) (*http.Request, error) {
		return api.NewDeleteTenantRequest(base, tenant)
	}), &out)
	return out, err
}

// GetTenantDeletion answers the progress of a tenant's deletion.
func (c *Client) GetTenantDeletion(ctx context.Context, tenant string) (*TenantDeletion, error) {
	return call[TenantDeletion](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetTenantDeletionRequest(base, tenant)
	}))
}

// CreateAPIKey creates an API key of a tenant, named name (may be empty),
// and answers it with the key, shown only here.
func (c *Client) CreateAPIKey(ctx context.Context, tenant, name string) (*CreatedAPIKey, error) {
	return call[CreatedAPIKey](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewCreateAPIKeyRequest(base, tenant, api.CreateAPIKeyRequest{Name: optional(name)})
	}))
}

// ListAPIKeys answers a tenant's API keys, oldest first, revoked ones
// included.
func (c *Client) ListAPIKeys(ctx context.Context, tenant string) ([]APIKey, error) {
	out, err := call[api.APIKeyList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListAPIKeysRequest(base, tenant)
	}))
	if err != nil {
		return nil, err
	}
	return out.APIKeys, nil
}

// RevokeAPIKey revokes a tenant's API key by its ID (key_…).
func (c *Client) RevokeAPIKey(ctx context.Context, tenant, keyID string) error {
	return c.do(ctx, set(func(base string) (*http.Request, error) {
		return api.NewRevokeAPIKeyRequest(base, tenant, keyID)
	}), nil)
}
