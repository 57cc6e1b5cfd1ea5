package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/settings"
)

// Config is the ingest service's behaviour. Each setting is declared here
// once (internal/settings): its environment variable, which run/ingest
// reads, its default, and what zero means. Fields without an env tag are
// set by run/ingest from other settings.
type Config struct {
	// ProjectID is used for trace correlation in logs (app.Common's).
	ProjectID string
	// AdminToken may call every route. Required; the service removes it
	// from its environment once read.
	AdminToken string `env:"HOOKRUN_ADMIN_TOKEN,required,unset"`
	// MaxBodyBytes bounds request bodies: 256 KiB by default, like the
	// largest webhook payloads senders commonly allow. Zero means the
	// default.
	MaxBodyBytes int64 `env:"HOOKRUN_MAX_BODY_BYTES" envDefault:"262144"`
	// AllowHTTPEndpoints accepts http:// endpoint URLs (local stack only).
	AllowHTTPEndpoints bool `env:"HOOKRUN_ALLOW_HTTP_ENDPOINTS" envDefault:"false"`
	// AllowPrivateNetworks lets ownership challenges reach loopback and
	// private addresses (local stack only), like the dispatcher's setting
	// of the same variable (dispatch.Config).
	AllowPrivateNetworks bool `env:"HOOKRUN_ALLOW_PRIVATE_NETWORKS" envDefault:"false"`
	// RotationGrace is how long an endpoint's old signing secret keeps
	// signing after a rotation, unless the request says; at most
	// hookrun.MaxGracePeriod. Zero means the default (a request may still
	// ask for 0s).
	RotationGrace time.Duration `env:"HOOKRUN_ROTATION_GRACE" envDefault:"24h"`
	// KeyCacheTTL is how long API key and tenant lookups are cached; a
	// revoked key or disabled tenant takes effect within it. Zero means
	// the default.
	KeyCacheTTL time.Duration `env:"HOOKRUN_KEY_CACHE_TTL" envDefault:"10s"`
	// PublishTimeout bounds the wait for Pub/Sub's acknowledgement; the
	// producer gets a 503 after it. Zero means the default.
	PublishTimeout time.Duration `env:"HOOKRUN_PUBLISH_TIMEOUT" envDefault:"10s"`
	// ClaimLease is how long a request holds an event ID while publishing:
	// meanwhile a request with the same ID gets 409, after it a retry
	// takes over, so it is also how long a request killed mid-publish
	// blocks the ID. The publish ends claimMargin before it does. Zero
	// means PublishTimeout + claimMargin.
	ClaimLease time.Duration
}

// claimMargin is what a claim's lease holds beyond its publish: the
// claim's own write, and clocks of ingest instances that disagree on when
// the lease ends.
const claimMargin = 2 * time.Second

// setDefaults gives the settings left zero, where zero means the default,
// their default.
func (c *Config) setDefaults() {
	settings.Defaults(c)
	if c.ClaimLease == 0 {
		c.ClaimLease = c.PublishTimeout + claimMargin
	}
}

// Validate reports what is wrong with c once defaults are applied.
func (c Config) Validate() error {
	switch {
	case len(c.AdminToken) < 16:
		return errors.New("admin token must be at least 16 characters")
	case c.MaxBodyBytes < 1024:
		return errors.New("max body bytes must be at least 1024")
	case c.RotationGrace < 0 || c.RotationGrace > hookrun.MaxGracePeriod:
		return fmt.Errorf("rotation grace (HOOKRUN_ROTATION_GRACE) %v: at most %v, as a request may ask", c.RotationGrace, hookrun.MaxGracePeriod)
	case c.ClaimLease < c.PublishTimeout+claimMargin:
		return fmt.Errorf("claim lease must be at least the publish timeout plus %v", claimMargin)
	}
	return nil
}
