package hookrun

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// EndpointStatus says whether an endpoint receives deliveries.
type EndpointStatus string

// Endpoint statuses.
const (
	EndpointActive EndpointStatus = "active"
	// EndpointPending: created, or its URL changed, and not yet verified by
	// the ownership challenge. It receives nothing.
	EndpointPending  EndpointStatus = "pending"
	EndpointDisabled EndpointStatus = "disabled"
)

// DefaultEndpointTimeout bounds one delivery attempt when the endpoint sets
// no timeout of its own; an endpoint's own is between MinEndpointTimeout and
// MaxEndpointTimeout (ValidateEndpointTimeout). The dispatcher's request
// budget (HOOKRUN_REQUEST_TIMEOUT) leaves room for attempts of the longest.
const (
	DefaultEndpointTimeout = 15 * time.Second
	MinEndpointTimeout     = time.Second
	MaxEndpointTimeout     = 60 * time.Second
)

// Endpoint is a tenant's HTTPS receiver with the event types it wants.
type Endpoint struct {
	ID          string         `json:"id"`
	TenantID    string         `json:"tenant_id"`
	URL         string         `json:"url"`
	EventTypes  []string       `json:"event_types"`
	Description string         `json:"description,omitempty"`
	Status      EndpointStatus `json:"status"`
	// DisabledReason says who or what disabled the endpoint.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// ActiveSince is when the endpoint last became active; InactiveSince
	// when it last stopped being active (zero while active). Together
	// they say which events an endpoint that is no longer active still
	// owes a delivery record (Owes). SetStatus keeps them.
	ActiveSince   time.Time `json:"-"`
	InactiveSince time.Time `json:"-"`
	// VerificationError says why the last ownership challenge failed
	// (status pending).
	VerificationError string `json:"verification_error,omitempty"`
	// Timeout bounds one delivery attempt; zero means DefaultEndpointTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// RetryPolicy overrides the tenant's, field by field.
	RetryPolicy RetryPolicy `json:"retry_policy,omitzero"`
	// OnClientError says what a 4xx answer does; empty means retry.
	OnClientError ClientErrorAction `json:"on_client_error,omitempty"`
	// RateLimit caps deliveries per second; 0 means none. Deliveries over
	// it wait (as scheduled tasks) instead of being sent.
	RateLimit int `json:"rate_limit,omitempty"`
	// PropagateTrace sends the delivery's trace context (traceparent,
	// tracestate) to the endpoint, for a tenant who traces its receiver
	// with hookrun's trace. Off by default: trace IDs say nothing a tenant
	// needs unless it asks.
	PropagateTrace bool `json:"propagate_trace"`
	// ConsecutiveDead counts dead letters since the last success; too many
	// disable the endpoint.
	ConsecutiveDead int `json:"consecutive_dead_letters,omitempty"`
	// SecretVersion is the Secret Manager version resource name that holds
	// the signing secret and credentials. It is a reference, not a secret.
	SecretVersion string `json:"-"`
	// PreviousSecretVersion still signs, beside the current one, until
	// PreviousSecretUntil: the grace period of a secret rotation.
	PreviousSecretVersion string    `json:"-"`
	PreviousSecretUntil   time.Time `json:"previous_secret_expire_time,omitzero"`
	// AuthKind and HeaderNames describe the credentials sent; their values
	// stay in Secret Manager.
	AuthKind    AuthKind  `json:"auth_kind,omitempty"`
	HeaderNames []string  `json:"header_names,omitempty"`
	CreatedAt   time.Time `json:"create_time"`

	filter Patterns
}

// Compile parses EventTypes so Matches can run. Adapters call it when they
// load an endpoint; NewEndpoint calls it for new ones.
func (e *Endpoint) Compile() error {
	ps, err := ParsePatterns(e.EventTypes)
	if err != nil {
		return err
	}
	e.filter = ps
	e.EventTypes = ps.Strings()
	return nil
}

// Matches reports whether the endpoint is active and subscribed to
// eventType. An endpoint that was never compiled matches nothing.
func (e *Endpoint) Matches(eventType string) bool {
	return e.Status == EndpointActive && e.Subscribed(eventType)
}

// Subscribed reports whether the endpoint's filter matches eventType,
// whatever its status.
func (e *Endpoint) Subscribed(eventType string) bool { return e.filter.Match(eventType) }

// SetStatus moves the endpoint to status at now and keeps ActiveSince and
// InactiveSince: becoming active starts a new active period, leaving it
// ends one; moving between inactive statuses (disabled, pending) keeps
// the time it stopped being active. Every status change goes through it.
func (e *Endpoint) SetStatus(status EndpointStatus, now time.Time) {
	switch was := e.Status == EndpointActive; {
	case status == EndpointActive && !was:
		e.ActiveSince, e.InactiveSince = now.UTC(), time.Time{}
	case status != EndpointActive && was:
		e.InactiveSince = now.UTC()
	}
	e.Status = status
}

// Owes reports whether an endpoint that is not active now was active when
// an event was accepted at receivedAt: such an event still owes it a
// delivery record (a dead letter saying the endpoint was disabled), so
// that the tenant sees it and can replay it after re-enabling. An active
// endpoint owes every event its filter matches.
func (e *Endpoint) Owes(receivedAt time.Time) bool {
	if e.Status == EndpointActive {
		return true
	}
	// Endpoints stored before ActiveSince was kept were active from their
	// creation on.
	since := cmp.Or(e.ActiveSince, e.CreatedAt)
	return !e.InactiveSince.IsZero() && !receivedAt.Before(since) && receivedAt.Before(e.InactiveSince)
}

// InactiveReason says why an endpoint that is not active gets nothing, for
// the dead letters of events it still owes.
func (e *Endpoint) InactiveReason() string {
	if e.Status == EndpointPending {
		return "the endpoint's URL changed and awaits the ownership challenge"
	}
	if e.DisabledReason == "" {
		return "the endpoint was disabled"
	}
	return "the endpoint was disabled: " + e.DisabledReason
}

// AttemptTimeout is the endpoint's timeout, or the default.
func (e *Endpoint) AttemptTimeout() time.Duration {
	if e.Timeout > 0 {
		return time.Duration(e.Timeout)
	}
	return DefaultEndpointTimeout
}

// URLPolicy says which endpoint URLs are acceptable. Production refuses
// plain http; the local stack allows it for loopback receivers.
type URLPolicy struct {
	AllowHTTP bool
}

// EndpointInput is what a caller supplies to create an endpoint.
type EndpointInput struct {
	URL           string
	EventTypes    []string
	Description   string
	RetryPolicy   RetryPolicy
	OnClientError ClientErrorAction
	// Timeout of one attempt; zero means DefaultEndpointTimeout.
	Timeout Duration
	// RateLimit in deliveries per second; zero means none.
	RateLimit int
	// PropagateTrace: see Endpoint.PropagateTrace.
	PropagateTrace bool
}

// NewEndpoint validates in and returns an active endpoint of tenantID with a
// fresh ID. The caller attaches the secret version. It applies the same
// rules as an update (Endpoint.Apply), with every field set.
func NewEndpoint(tenantID string, in EndpointInput, policy URLPolicy, now time.Time) (Endpoint, error) {
	e := Endpoint{
		ID:        NewID("ep_"),
		TenantID:  tenantID,
		Status:    EndpointActive,
		CreatedAt: now.UTC(),
	}
	return e.applySettings(EndpointUpdate{
		URL: &in.URL, EventTypes: &in.EventTypes, Description: &in.Description,
		RetryPolicy: &in.RetryPolicy, OnClientError: &in.OnClientError, Timeout: &in.Timeout, RateLimit: &in.RateLimit,
		PropagateTrace: &in.PropagateTrace,
	}, policy)
}

// EndpointDescription checks an endpoint's description (free text, at
// most 512 characters) and returns it trimmed.
func EndpointDescription(s string) (string, error) {
	return CleanText("description", s, 512)
}

// Validate checks that raw is an absolute http(s) URL that the policy
// allows, without credentials (they would end up in logs) or a fragment,
// whose port, if it names one, is a TCP port (1 to 65535).
func (p URLPolicy) Validate(raw string) error {
	if raw == "" {
		return Errorf(CodeInvalidArgument, "url: required")
	}
	if len(raw) > 2048 {
		return Errorf(CodeInvalidArgument, "url: at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return Errorf(CodeInvalidArgument, "url: must be an absolute http(s) URL like https://example.com/webhooks")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return Errorf(CodeInvalidArgument, "url: must use https")
		}
	default:
		return Errorf(CodeInvalidArgument, "url: scheme %q is not allowed: use https", u.Scheme)
	}
	if u.User != nil {
		return Errorf(CodeInvalidArgument, "url: must not contain credentials")
	}
	if u.Fragment != "" {
		return Errorf(CodeInvalidArgument, "url: must not contain a fragment")
	}
	// url.Parse takes any digits for a port; the dialer would refuse them
	// at every delivery.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Errorf(CodeInvalidArgument, "url: port %s is not a TCP port: use 1 to 65535, or none", p)
		}
	}
	return nil
}

// EndpointSecret is what Secret Manager holds for an endpoint, as JSON: the
// signing secret and everything sent to authenticate hookrun to the
// endpoint. A new version is added whenever any of it changes.
type EndpointSecret struct {
	SigningSecret string            `json:"signing_secret"`
	Auth          EndpointAuth      `json:"auth,omitzero"`
	Headers       map[string]string `json:"headers,omitempty"`
}

// MaxSecretPayloadBytes is the most Secret Manager holds in one secret
// version: what an endpoint's secret, encoded by Payload, must fit in.
const MaxSecretPayloadBytes = 64 << 10

// Validate checks the credentials (the signing secret is hookrun's own).
// What passes fits in Secret Manager: see the limits beside MaxHeaders.
func (s EndpointSecret) Validate() error {
	if err := s.Auth.Validate(); err != nil {
		return err
	}
	authHeader := ""
	if s.Auth.Kind == AuthAPIKey {
		authHeader = s.Auth.Header
	}
	return ValidateHeaders(s.Headers, authHeader)
}

// Payload is s as Secret Manager stores it: JSON, without HTML escaping
// (which would make each '<', '>' and '&' six bytes and break the size
// bound of the limits), at most MaxSecretPayloadBytes, or
// CodeInvalidArgument naming the limit: a payload Secret Manager would
// refuse must not reach it, where the refusal looks like an outage.
func (s EndpointSecret) Payload() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode endpoint secret: %w", err)
	}
	p := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(p) > MaxSecretPayloadBytes {
		return nil, Errorf(CodeInvalidArgument, "auth, headers: together %d bytes once stored, over the %d bytes Secret Manager holds: send shorter credentials or fewer headers", len(p), MaxSecretPayloadBytes)
	}
	return p, nil
}

// ParseEndpointSecret reads a payload that Payload made.
func ParseEndpointSecret(payload []byte) (EndpointSecret, error) {
	var s EndpointSecret
	if err := json.Unmarshal(payload, &s); err != nil {
		return EndpointSecret{}, errors.New("endpoint secret payload is not valid JSON") // never the payload itself
	}
	return s, nil
}

// MaxGracePeriod is the longest an endpoint's old signing secret may keep
// signing after a rotation.
const MaxGracePeriod = 7 * 24 * time.Hour

// ValidateGracePeriod checks a rotation's grace period: 0 (the old secret
// stops signing at once) to MaxGracePeriod.
func ValidateGracePeriod(d Duration) error {
	if d < 0 || time.Duration(d) > MaxGracePeriod {
		return Errorf(CodeInvalidArgument, "grace_period: between 0s and %dh", MaxGracePeriod/time.Hour)
	}
	return nil
}

// SigningVersions returns the secret versions that sign at now: the
// previous one first while its grace period runs, then the current one.
func (e *Endpoint) SigningVersions(now time.Time) (current, previous string) {
	if e.PreviousSecretVersion != "" && now.Before(e.PreviousSecretUntil) {
		return e.SecretVersion, e.PreviousSecretVersion
	}
	return e.SecretVersion, ""
}

// RetireTaskID names the retirement task of a secret version, so
// scheduling it twice creates one task.
func RetireTaskID(version string) string {
	sum := sha256.Sum256([]byte(version))
	return "retire-" + hex.EncodeToString(sum[:20])
}

// ValidateEndpointTimeout checks an endpoint's timeout of one attempt: 0
// (DefaultEndpointTimeout) or MinEndpointTimeout to MaxEndpointTimeout.
func ValidateEndpointTimeout(d Duration) error {
	if d != 0 && (d < Duration(MinEndpointTimeout) || d > Duration(MaxEndpointTimeout)) {
		return Errorf(CodeInvalidArgument, "timeout: between %ds and %ds", MinEndpointTimeout/time.Second, MaxEndpointTimeout/time.Second)
	}
	return nil
}

// ValidateRateLimit checks an endpoint's rate limit: 0 (none) or 1 to
// 10000 deliveries per second.
func ValidateRateLimit(perSecond int) error {
	if perSecond < 0 || perSecond > 10000 {
		return Errorf(CodeInvalidArgument, "rate_limit: 0 (none) or 1 to 10000 deliveries per second")
	}
	return nil
}

// EndpointsVersion identifies the state of a tenant's endpoint list: every
// change to any of its endpoints (created, updated, deleted, disabled,
// stamped, counted) gives the list a new version, written atomically with
// the change. The dispatcher reads it (one document) to learn whether the
// list it cached is still current, instead of reading the list again. The
// zero value is a list that never changed since versions were kept.
type EndpointsVersion struct {
	// ChangedAt is when the last change committed, by the store's clock.
	ChangedAt time.Time
	// Seq counts the changes, so that two within one tick of the clock
	// still differ.
	Seq int64
}

// Equal reports whether v and o are the same version.
func (v EndpointsVersion) Equal(o EndpointsVersion) bool {
	return v.Seq == o.Seq && v.ChangedAt.Equal(o.ChangedAt)
}
