package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookrun/hookrun/internal/httpapi"
)

// Config is the ingest service's behaviour, read from the environment by
// run/ingest.
type Config struct {
	// ProjectID is used for trace correlation in logs.
	ProjectID string
	// AdminToken may call every route. Required.
	AdminToken string
	// MaxBodyBytes bounds request bodies; default httpapi.DefaultMaxBody.
	MaxBodyBytes int64
	// AllowHTTPEndpoints accepts http:// endpoint URLs (local stack only).
	AllowHTTPEndpoints bool
	// AllowPrivateNetworks lets ownership challenges reach loopback and
	// private addresses (local stack only), like the dispatcher's setting.
	AllowPrivateNetworks bool
	// RotationGrace is how long an endpoint's old signing secret keeps
	// signing after a rotation, unless the request says. Default 24h.
	RotationGrace time.Duration
	// KeyCacheTTL is how long API key and tenant lookups are cached; a
	// revoked key or disabled tenant takes effect within it. Default 10s.
	KeyCacheTTL time.Duration
	// PublishTimeout bounds the wait for Pub/Sub's acknowledgement; the
	// producer gets a 503 after it. Default 10s.
	PublishTimeout time.Duration
	// ClaimLease is how long a request holds an event ID while publishing:
	// meanwhile a request with the same ID gets 409, after it a retry
	// takes over, so it is also how long a request killed mid-publish
	// blocks the ID. The publish ends claimMargin before it does. Default
	// PublishTimeout + claimMargin.
	ClaimLease time.Duration
}

// claimMargin is what a claim's lease holds beyond its publish: the
// claim's own write, and clocks of ingest instances that disagree on when
// the lease ends.
const claimMargin = 2 * time.Second

func (c *Config) setDefaults() {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = httpapi.DefaultMaxBody
	}
	if c.KeyCacheTTL == 0 {
		c.KeyCacheTTL = 10 * time.Second
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.RotationGrace == 0 {
		c.RotationGrace = 24 * time.Hour
	}
	if c.ClaimLease == 0 {
		c.ClaimLease = c.PublishTimeout + claimMargin
	}
}

// Validate reports what is wrong with c after defaults are applied.
func (c *Config) Validate() error {
	c.setDefaults()
	switch {
	case len(c.AdminToken) < 16:
		return errors.New("admin token must be at least 16 characters")
	case c.MaxBodyBytes < 1024:
		return errors.New("max body bytes must be at least 1024")
	case c.ClaimLease < c.PublishTimeout+claimMargin:
		return fmt.Errorf("claim lease must be at least the publish timeout plus %v", claimMargin)
	}
	return nil
}
