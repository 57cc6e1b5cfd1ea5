package ingest

import (
	"slices"
	"testing"
	"time"
)

// A Config built in Go gets the defaults its fields declare, and Validate
// checks them apart.
func TestConfigDefaults(t *testing.T) {
	c := Config{AdminToken: "admin-token-of-16+"}
	c.setDefaults()
	want := Config{AdminToken: c.AdminToken, MaxBodyBytes: 256 << 10, RotationGrace: 24 * time.Hour, KeyCacheTTL: 10 * time.Second, PublishTimeout: 10 * time.Second, ClaimLease: 12 * time.Second}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v for the defaults", err)
	}
	good := want
	good.PortalKey = "a-portal-key-of-at-least-32-chars!"
	good.PortalFrameAncestors = "https://app.example.com http://localhost:3000"
	good.ProducerServiceAccounts = "all@p.iam.gserviceaccount.com  some@p.iam.gserviceaccount.com=acme,globex"
	good.ProducerAudience = "https://ingest.example"
	if err := good.Validate(); err != nil {
		t.Errorf("Validate() = %v for a portal key, two frame ancestors and two producer service accounts", err)
	}
	if got := good.ProducerAccountEmails(); !slices.Equal(got, []string{"all@p.iam.gserviceaccount.com", "some@p.iam.gserviceaccount.com"}) {
		t.Errorf("ProducerAccountEmails() = %v", got)
	}
	for name, edit := range map[string]func(*Config){
		"short admin token":   func(c *Config) { c.AdminToken = "short" },
		"tiny body":           func(c *Config) { c.MaxBodyBytes = 10 },
		"grace over 7 days":   func(c *Config) { c.RotationGrace = 169 * time.Hour },
		"negative grace":      func(c *Config) { c.RotationGrace = -time.Second },
		"lease before margin": func(c *Config) { c.ClaimLease = c.PublishTimeout },
		"negative flush":      func(c *Config) { c.EventFlushInterval = -time.Millisecond },
		"flush over 5s":       func(c *Config) { c.EventFlushInterval = 6 * time.Second },
		"short portal key":    func(c *Config) { c.PortalKey = "too-short" },
		"ancestor with path":  func(c *Config) { c.PortalFrameAncestors = "https://app.example.com/x" },
		"ancestor no scheme":  func(c *Config) { c.PortalFrameAncestors = "app.example.com" },
		"ancestor injection":  func(c *Config) { c.PortalFrameAncestors = "https://a.example.com;script-src" },
		"ancestor keyword":    func(c *Config) { c.PortalFrameAncestors = "'self'" },
		"accounts without audience": func(c *Config) {
			c.ProducerServiceAccounts = "sa@p.iam.gserviceaccount.com"
		},
		"account not an email": func(c *Config) {
			c.ProducerServiceAccounts, c.ProducerAudience = "sender", "https://ingest.example"
		},
		"account twice": func(c *Config) {
			c.ProducerServiceAccounts, c.ProducerAudience = "a@p.iam a@p.iam=acme", "https://ingest.example"
		},
		"account with no tenant after =": func(c *Config) {
			c.ProducerServiceAccounts, c.ProducerAudience = "a@p.iam=", "https://ingest.example"
		},
		"account with a bad tenant": func(c *Config) {
			c.ProducerServiceAccounts, c.ProducerAudience = "a@p.iam=Acme", "https://ingest.example"
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := want
			edit(&bad)
			if err := bad.Validate(); err == nil {
				t.Errorf("Validate(%+v) = nil, want an error", bad)
			}
		})
	}
}
