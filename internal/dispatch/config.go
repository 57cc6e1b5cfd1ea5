package dispatch

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the dispatcher's behaviour, read from the environment by
// run/dispatcher.
type Config struct {
	// ProjectID is used for trace correlation in logs.
	ProjectID string
	// InsecureSkipAuth turns off the OIDC check of push and task requests.
	// Only the local stack sets it: the zero value is the secure
	// production default.
	InsecureSkipAuth bool
	// EndpointCacheTTL is how long a tenant is cached (a disabled tenant's
	// events stop within it) and bounds the endpoint cache. Endpoint lists
	// are in any case reloaded for events received after they were read,
	// so a new endpoint never misses an event accepted after its creation.
	// Default 10s.
	EndpointCacheTTL time.Duration
	// AllowPrivateNetworks lets deliveries reach loopback, private and
	// link-local addresses. Off in production, so a tenant cannot aim
	// webhooks at the metadata server or the VPC.
	AllowPrivateNetworks bool
	// CESourceTenants maps a CloudEvents ce-source to the tenant its
	// messages belong to, for GCP services that publish without a
	// tenant_id attribute.
	CESourceTenants map[string]string
	// MaxFanOut bounds concurrent attempts of one message. Default 32.
	MaxFanOut int
	// UserAgent is sent with every delivery.
	UserAgent string
	// DisableAfterDead disables an endpoint after this many dead letters
	// in a row (no success between them); negative never does. Zero means
	// the default, 50.
	DisableAfterDead int
}

// RecordTimeout bounds what follows an attempt once it was made: recording
// it, then scheduling the next or announcing the dead letter. That work is
// detached from its request, so that an attempt whose push or task was
// cancelled meanwhile is still recorded; each call in it has its own
// deadline too (HOOKRUN_CALL_TIMEOUT), and the server gives a handler
// httpapi.AnswerGrace, longer than this, to finish after its request's.
const RecordTimeout = 30 * time.Second

func (c *Config) setDefaults() {
	if c.EndpointCacheTTL == 0 {
		c.EndpointCacheTTL = 10 * time.Second
	}
	if c.MaxFanOut == 0 {
		c.MaxFanOut = 32
	}
	if c.DisableAfterDead == 0 {
		c.DisableAfterDead = 50
	}
	if c.UserAgent == "" {
		c.UserAgent = "hookrun/1 (+https://www.standardwebhooks.com)"
	}
}

// Validate reports what is wrong with c after defaults are applied.
func (c *Config) Validate() error {
	c.setDefaults()
	if c.MaxFanOut < 1 {
		return errors.New("max fan-out must be at least 1")
	}
	return nil
}

// ParseSourceTenants parses "source=tenant,source=tenant" as used by
// HOOKRUN_CE_SOURCE_TENANTS.
func ParseSourceTenants(s string) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i <= 0 || i == len(pair)-1 {
			return nil, fmt.Errorf("%q is not source=tenant", pair)
		}
		out[pair[:i]] = pair[i+1:]
	}
	return out, nil
}
