package dispatch

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookrun/hookrun/internal/settings"
)

// Config is the dispatcher's behaviour. Each setting is declared here once
// (internal/settings): its environment variable, which run/dispatcher
// reads, its default, and what zero means. Fields without an env tag are
// set by run/dispatcher from other settings.
type Config struct {
	// ProjectID is used for trace correlation in logs (app.Common's).
	ProjectID string
	// InsecureSkipAuth turns off the OIDC check of push and task requests.
	// Only the local stack sets it (HOOKRUN_PUSH_AUTH=none): the zero value
	// is the secure production default.
	InsecureSkipAuth bool
	// EndpointCacheTTL is how long a tenant and the source bindings of a
	// source are cached (a disabled tenant's events stop within it, a new
	// or deleted source binding takes effect within it) and bounds the
	// endpoint cache. Endpoint lists are in any case checked for events
	// accepted later than EndpointChangeDelay after they were read.
	// Zero means the default.
	EndpointCacheTTL time.Duration `env:"HOOKRUN_ENDPOINT_CACHE_TTL" envDefault:"10s"`
	// AllowPrivateNetworks lets deliveries reach loopback, private and
	// link-local addresses. Off in production, so a tenant cannot aim
	// webhooks at the metadata server or the VPC.
	AllowPrivateNetworks bool `env:"HOOKRUN_ALLOW_PRIVATE_NETWORKS" envDefault:"false"`
	// MaxFanOut bounds concurrent attempts of one message. Zero means the
	// default.
	MaxFanOut int `env:"HOOKRUN_MAX_FAN_OUT" envDefault:"32"`
	// DisableAfterDead disables an endpoint after this many dead letters
	// in a row (no success between them). Zero never does, in Go as in the
	// environment; a variable that is not set is the default.
	DisableAfterDead int `env:"HOOKRUN_DISABLE_AFTER_DEAD_LETTERS" envDefault:"50" zero:"never"`
	// AttemptFlushInterval is how long the record of a successful first
	// attempt may wait, after its push is acknowledged, to be written
	// with others in one batch (the attempt log, attemptlog.go): a
	// delivery may show as pending that long after its endpoint
	// answered, and an instance that dies without SIGTERM loses the
	// records of its last interval. Zero records every attempt before
	// its push is acknowledged, in Go as in the environment; a variable
	// that is not set is the default.
	AttemptFlushInterval time.Duration `env:"HOOKRUN_ATTEMPT_FLUSH_INTERVAL" envDefault:"100ms" zero:"synchronous"`
	// EndpointChangeDelay is how long a change to an endpoint (created,
	// updated, disabled, deleted) may take to reach events: it reaches
	// every event accepted at least this long after it. An event is
	// served the tenant's cached endpoint list when the list was read,
	// or checked unchanged, no earlier than this long before the event
	// was accepted; otherwise its push waits for the check. A list
	// served that was confirmed more than half of it ago is checked in
	// the background, so that under steady traffic no push waits. Exact
	// whatever it is: test events, redeliveries and replays (the list as
	// it is when they are handled), and events accepted by the ingest
	// instance that made the change (wire.AttrEndpointsChanged). At most
	// maxEndpointChangeDelay. Zero checks the list for every event
	// accepted after it was read, in Go as in the environment; a
	// variable that is not set is the default.
	EndpointChangeDelay time.Duration `env:"HOOKRUN_ENDPOINT_CHANGE_DELAY" envDefault:"1s" zero:"exact"`
}

// RecordTimeout bounds what follows an attempt once it was made: recording
// it, then scheduling the next or announcing the dead letter. That work is
// detached from its request, so that an attempt whose push or task was
// cancelled meanwhile is still recorded; each call in it has its own
// deadline too (HOOKRUN_CALL_TIMEOUT), and the server gives a handler
// httpapi.AnswerGrace, longer than this, to finish after its request's.
const RecordTimeout = 30 * time.Second

// maxAttemptFlushInterval bounds Config.AttemptFlushInterval: what an
// instance that dies without SIGTERM may lose, and how long a delivery may
// look pending after it succeeded, stays short.
const maxAttemptFlushInterval = 5 * time.Second

// maxEndpointChangeDelay bounds Config.EndpointChangeDelay: how stale an
// event's endpoint list may be stays short, and well within the window
// for which ingest marks the events accepted after its own endpoint
// changes (wire.EndpointsChangedWindow).
const maxEndpointChangeDelay = 10 * time.Second

// setDefaults gives the settings left zero, where zero means the default,
// their default.
func (c *Config) setDefaults() { settings.Defaults(c) }

// Validate reports what is wrong with c once defaults are applied.
func (c Config) Validate() error {
	switch {
	case c.MaxFanOut < 1:
		return errors.New("max fan-out (HOOKRUN_MAX_FAN_OUT) must be at least 1")
	case c.DisableAfterDead < 0:
		return fmt.Errorf("HOOKRUN_DISABLE_AFTER_DEAD_LETTERS %d: want 0 (never) or a number of dead letters", c.DisableAfterDead)
	case c.AttemptFlushInterval < 0 || c.AttemptFlushInterval > maxAttemptFlushInterval:
		return fmt.Errorf("HOOKRUN_ATTEMPT_FLUSH_INTERVAL %v: want 0 (record before acknowledging) up to %v", c.AttemptFlushInterval, maxAttemptFlushInterval)
	case c.EndpointChangeDelay < 0 || c.EndpointChangeDelay > maxEndpointChangeDelay:
		return fmt.Errorf("HOOKRUN_ENDPOINT_CHANGE_DELAY %v: want 0 (exact) up to %v", c.EndpointChangeDelay, maxEndpointChangeDelay)
	}
	return nil
}
