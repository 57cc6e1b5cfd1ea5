package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// CreateProducerKey creates a producer key (admin token) named name (may
// be empty), limited to tenants (none: every tenant), and answers it with
// the key, shown only here.
func (c *Client) CreateProducerKey(ctx context.Context, name string, tenants []string) (*CreatedProducerKey, error) {
	return call[CreatedProducerKey](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewCreateProducerKeyRequest(base, api.CreateProducerKeyRequest{Name: optional(name), Tenants: tenants})
	}))
}

// GetProducerKey answers a producer key by its ID (pkey_…).
func (c *Client) GetProducerKey(ctx context.Context, keyID string) (*ProducerKey, error) {
	return call[ProducerKey](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetProducerKeyRequest(base, keyID)
	}))
}

// ProducerKeyPage is a page of producer keys; NextPageToken, when not
// empty, asks for the next.
type ProducerKeyPage struct {
	ProducerKeys  []ProducerKey
	NextPageToken string
}

// ListProducerKeys answers a page of the producer keys, newest first,
// revoked ones included, pageSize at most (0: the API's default), from
// pageToken ("" for the first).
func (c *Client) ListProducerKeys(ctx context.Context, pageSize int, pageToken string) (*ProducerKeyPage, error) {
	out, err := call[api.ProducerKeyList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListProducerKeysRequest(base, &api.ListProducerKeysParams{PageSize: optional(pageSize), PageToken: optional(pageToken)})
	}))
	if err != nil {
		return nil, err
	}
	return &ProducerKeyPage{ProducerKeys: out.ProducerKeys, NextPageToken: deref(out.NextPageToken)}, nil
}

// ProducerKeys iterates over every producer key, a page at a time.
func (c *Client) ProducerKeys(ctx context.Context) iter.Seq2[ProducerKey, error] {
	return all(ctx, func(ctx context.Context, token string) ([]ProducerKey, string, error) {
		p, err := c.ListProducerKeys(ctx, 0, token)
		if err != nil {
			return nil, "", err
		}
		return p.ProducerKeys, p.NextPageToken, nil
	})
}

// RevokeProducerKey revokes a producer key by its ID (pkey_…).
func (c *Client) RevokeProducerKey(ctx context.Context, keyID string) error {
	return c.do(ctx, set(func(base string) (*http.Request, error) {
		return api.NewRevokeProducerKeyRequest(base, keyID)
	}), nil)
}
