package ingest

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
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
	// PortalKey signs the tenant portal's session cookies (HMAC-SHA256):
	// at least 32 characters, the same on every instance, kept secret (the
	// service removes it from its environment once read). Empty means a
	// random key per process: fine for the local stack (sessions end when
	// it restarts), not for several instances, where a session would work
	// only on the instance that started it.
	PortalKey string `env:"HOOKRUN_PORTAL_KEY,unset"`
	// PortalFrameAncestors lists, space-separated, the origins allowed to
	// embed the tenant portal in an iframe (CSP frame-ancestors), such as
	// "https://app.example.com". Empty means none may. With any set, the
	// portal's session cookie is SameSite=None; Secure; Partitioned, as a
	// cross-site iframe gets no other cookie.
	PortalFrameAncestors string `env:"HOOKRUN_PORTAL_FRAME_ANCESTORS"`
	// ProducerServiceAccounts lists, space-separated, the service
	// accounts whose Google-signed ID tokens may send events
	// (POST /v1/tenants/{tenant}/events) with no stored secret, each of
	// every tenant ("sender@proj.iam.gserviceaccount.com") or of some
	// ("sender@proj.iam.gserviceaccount.com=acme,globex"). Empty means no
	// ID token is accepted.
	ProducerServiceAccounts string `env:"HOOKRUN_PRODUCER_SERVICE_ACCOUNTS"`
	// ProducerAudience is the audience those ID tokens must be issued
	// for: the ingest service's URL, which producers ask their token for.
	// Required with ProducerServiceAccounts.
	ProducerAudience string `env:"HOOKRUN_PRODUCER_AUDIENCE"`
	// GoogleCertsURL replaces Google's key URL
	// (https://www.googleapis.com/oauth2/v3/certs) when checking ID tokens:
	// for the local stack and tests, which sign their own. Only a loopback
	// URL is accepted; production leaves it unset.
	GoogleCertsURL string `env:"HOOKRUN_GOOGLE_CERTS_URL"`
	// EventFlushInterval is how long the record of an accepted event may
	// wait, after its 202, to be written with others in one batch
	// (records.go): GET …/events/{id} and the event list may miss the
	// event that long, and an instance that dies without SIGTERM loses
	// the records of its last interval (the events are delivered all the
	// same). Zero records every event before its 202, in Go as in the
	// environment; a variable that is not set is the default.
	EventFlushInterval time.Duration `env:"HOOKRUN_EVENT_FLUSH_INTERVAL" envDefault:"100ms" zero:"synchronous"`
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

// maxEventFlushInterval bounds Config.EventFlushInterval: what an
// instance that dies without SIGTERM may lose, and how long an event may
// be missing from the API after its 202, stays short.
const maxEventFlushInterval = 5 * time.Second

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
	case c.EventFlushInterval < 0 || c.EventFlushInterval > maxEventFlushInterval:
		return fmt.Errorf("HOOKRUN_EVENT_FLUSH_INTERVAL %v: want 0 (record before answering) up to %v", c.EventFlushInterval, maxEventFlushInterval)
	case c.ClaimLease < c.PublishTimeout+claimMargin:
		return fmt.Errorf("claim lease must be at least the publish timeout plus %v", claimMargin)
	case c.PortalKey != "" && len(c.PortalKey) < 32:
		return errors.New("portal key (HOOKRUN_PORTAL_KEY) must be at least 32 characters")
	}
	if _, err := frameAncestors(c.PortalFrameAncestors); err != nil {
		return fmt.Errorf("portal frame ancestors (HOOKRUN_PORTAL_FRAME_ANCESTORS): %w", err)
	}
	accounts, err := producerAccounts(c.ProducerServiceAccounts)
	if err != nil {
		return fmt.Errorf("producer service accounts (HOOKRUN_PRODUCER_SERVICE_ACCOUNTS): %w", err)
	}
	if len(accounts) > 0 && c.ProducerAudience == "" {
		return errors.New("producer service accounts (HOOKRUN_PRODUCER_SERVICE_ACCOUNTS) need the audience of their ID tokens (HOOKRUN_PRODUCER_AUDIENCE), the ingest service's URL")
	}
	return nil
}

// ProducerAccountEmails returns the service accounts of
// ProducerServiceAccounts, in order, for the ID token verifier; c must be
// valid.
func (c Config) ProducerAccountEmails() []string {
	accounts, _ := producerAccounts(c.ProducerServiceAccounts)
	return slices.Sorted(maps.Keys(accounts))
}

// producerAccounts parses ProducerServiceAccounts: email → the tenants its
// ID tokens may send events of (nil: every tenant).
func producerAccounts(list string) (map[string][]string, error) {
	accounts := map[string][]string{}
	for _, entry := range strings.Fields(list) {
		email, tenantList, limited := strings.Cut(entry, "=")
		local, domain, ok := strings.Cut(email, "@")
		if !ok || local == "" || domain == "" || strings.ContainsAny(domain, "@,") || strings.Contains(local, ",") {
			return nil, fmt.Errorf("%q is not a service account's email, optionally followed by =tenant,tenant", entry)
		}
		if _, dup := accounts[email]; dup {
			return nil, fmt.Errorf("%s is listed twice", email)
		}
		var tenants []string
		if limited {
			tenants = strings.Split(tenantList, ",")
			if err := hookrun.ValidateProducerTenants(email, tenants); err != nil {
				return nil, errors.New(hookrun.ErrorMessage(err))
			}
		}
		accounts[email] = tenants
	}
	return accounts, nil
}

// frameAncestors parses PortalFrameAncestors: each an origin, scheme and
// host only, as CSP's frame-ancestors takes them.
func frameAncestors(list string) ([]string, error) {
	var origins []string
	for _, o := range strings.Fields(list) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, ";,'\"") {
			return nil, fmt.Errorf("%q is not an origin such as https://app.example.com", o)
		}
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	return origins, nil
}
