package hookrun

// Operational events are hookrun's own events about a tenant's account
// (an endpoint disabled or enabled, dead letters, a failed ownership
// challenge, the end of a secret rotation), delivered to the tenant's
// endpoints that subscribe to them through the same pipeline as the
// producers' events: signed, retried, dead-lettered, replayable.
//
// They are domain events, declared here and not in internal/wire: the
// domain decides when one happens, its filter rules (Pattern) decide who
// gets one, and they travel as the data of the ordinary webhook body
// (WebhookBody) like any producer's event; no service parses them back.
//
// Their types live in a reserved namespace, OperationalPrefix, so they
// never collide with a tenant's own: ingest refuses a producer's event of
// such a type, the dispatcher refuses one that an outside publisher put on
// the events topic, and a catalogue may not list one. An endpoint gets
// them only through a pattern that names the namespace ("hookrun.*",
// "hookrun.endpoint.*", or an exact type): "*", "*.disabled" and the like
// match none, so existing endpoints do not start receiving them.

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"time"
)

// OperationalPrefix starts every operational event type, and no other.
const OperationalPrefix = "hookrun."

// operationalSegment is OperationalPrefix as a pattern's first segment.
const operationalSegment = "hookrun"

// Operational event types.
const (
	TypeEndpointDisabled           = "hookrun.endpoint.disabled"
	TypeEndpointEnabled            = "hookrun.endpoint.enabled"
	TypeDeliveryDeadLettered       = "hookrun.delivery.dead_lettered"
	TypeEndpointVerificationFailed = "hookrun.endpoint.verification_failed"
	TypeSecretRotationEnded        = "hookrun.secret.rotation_ended"
)

// OperationalTypes lists the operational event types, sorted.
var OperationalTypes = []string{
	TypeDeliveryDeadLettered,
	TypeEndpointDisabled,
	TypeEndpointEnabled,
	TypeEndpointVerificationFailed,
	TypeSecretRotationEnded,
}

// SourceHookrun is the source of operational events: hookrun published
// them itself.
const SourceHookrun = "hookrun"

// IsOperational reports whether t is in the reserved namespace.
func IsOperational(t string) bool { return strings.HasPrefix(t, OperationalPrefix) }

// ErrReservedType is the error for a producer's event in the reserved
// namespace.
func ErrReservedType(t string) error {
	return Errorf(CodeInvalidArgument, "type: %q is reserved: types starting with %q are hookrun's own operational events", t, OperationalPrefix)
}

// DeadLetterNoticeWindow is the rate limit of TypeDeliveryDeadLettered: at
// most one per endpoint per window (windows aligned on UTC multiples of
// it), for the window's first dead letter, so a flood of dead letters
// does not flood the tenant. The rest are listed by
// GET …/dead-letters?endpoint_id=…&since=<window_start>.
const DeadLetterNoticeWindow = 5 * time.Minute

// DisableCause is why an endpoint was disabled, in an endpoint.disabled
// notice (and the dispatcher's metric of disabled endpoints).
type DisableCause string

// Disable causes.
const (
	DisabledByDeadLetters DisableCause = "dead_letters" // too many dead letters in a row
	DisabledByGone        DisableCause = "gone"         // the endpoint answered 410 Gone
	DisabledByAPI         DisableCause = "api"          // PATCH {"enabled":false}
)

// EndpointDisabledNotice is the data of TypeEndpointDisabled.
type EndpointDisabledNotice struct {
	EndpointID string       `json:"endpoint_id"`
	URL        string       `json:"url"`
	Cause      DisableCause `json:"cause"`
	// Reason is the endpoint's disabled_reason, in words.
	Reason     string    `json:"reason"`
	DisabledAt time.Time `json:"disable_time"`
}

// EndpointEnabledNotice is the data of TypeEndpointEnabled: a disabled endpoint
// was enabled again through the API.
type EndpointEnabledNotice struct {
	EndpointID string    `json:"endpoint_id"`
	URL        string    `json:"url"`
	EnabledAt  time.Time `json:"enable_time"`
}

// DeliveryDeadLetteredNotice is the data of TypeDeliveryDeadLettered: the first
// dead letter of an endpoint in a window of DeadLetterNoticeWindow.
type DeliveryDeadLetteredNotice struct {
	EndpointID  string    `json:"endpoint_id"`
	WindowStart time.Time `json:"window_start_time"`
	WindowEnd   time.Time `json:"window_end_time"`
	EventID     string    `json:"event_id"`
	EventType   string    `json:"event_type"`
	WebhookID   string    `json:"webhook_id"`
	Reason      string    `json:"reason"`
	Attempts    int       `json:"attempts"`
	DeadAt      time.Time `json:"dead_time"`
}

// EndpointVerificationFailedNotice is the data of
// TypeEndpointVerificationFailed: the ownership challenge of a new or
// moved endpoint was not answered; the endpoint stays pending.
type EndpointVerificationFailedNotice struct {
	EndpointID string    `json:"endpoint_id"`
	URL        string    `json:"url"`
	Error      string    `json:"error"`
	FailedAt   time.Time `json:"fail_time"`
}

// SecretRotationEndedNotice is the data of TypeSecretRotationEnded: the grace
// period of a rotation is over and the previous signing secret no longer
// signs.
type SecretRotationEndedNotice struct {
	EndpointID string    `json:"endpoint_id"`
	EndedAt    time.Time `json:"end_time"`
}

// NewEndpointDisabled is the notice of ep's disabling at at. Its ID
// derives from the endpoint and at, so emitting it again for the same
// disabling (the dispatcher passes the stored time the endpoint stopped
// being active) is deduplicated like any redelivered event.
func NewEndpointDisabled(ep Endpoint, cause DisableCause, at time.Time) Event {
	return operationalEvent(ep.TenantID, TypeEndpointDisabled, at, EndpointDisabledNotice{
		EndpointID: ep.ID, URL: ep.URL, Cause: cause, Reason: ep.DisabledReason, DisabledAt: at.UTC(),
	}, ep.ID, at.UTC().Format(time.RFC3339Nano))
}

// NewEndpointEnabled is the notice that ep was enabled again at at.
func NewEndpointEnabled(ep Endpoint, at time.Time) Event {
	return operationalEvent(ep.TenantID, TypeEndpointEnabled, at, EndpointEnabledNotice{
		EndpointID: ep.ID, URL: ep.URL, EnabledAt: at.UTC(),
	}, ep.ID, at.UTC().Format(time.RFC3339Nano))
}

// NewDeliveryDeadLettered is the notice of dead letter d for its window:
// every dead letter of one endpoint in one window gives the same event ID,
// so only the first is delivered (the dispatcher's fan-out skips an event
// it already delivered). Its timestamp is the window's start, so that
// every candidate of a window signs the same body.
func NewDeliveryDeadLettered(d Delivery) Event {
	start := d.DeadAt.UTC().Truncate(DeadLetterNoticeWindow)
	return operationalEvent(d.TenantID, TypeDeliveryDeadLettered, start, DeliveryDeadLetteredNotice{
		EndpointID: d.EndpointID, WindowStart: start, WindowEnd: start.Add(DeadLetterNoticeWindow),
		EventID: d.EventID, EventType: d.EventType, WebhookID: d.WebhookID,
		Reason: d.DeadReason, Attempts: d.ChainAttempts, DeadAt: d.DeadAt.UTC(),
	}, d.EndpointID, start.Format(time.RFC3339))
}

// NewEndpointVerificationFailed is the notice that ep's ownership
// challenge failed at at with err.
func NewEndpointVerificationFailed(ep Endpoint, err string, at time.Time) Event {
	return operationalEvent(ep.TenantID, TypeEndpointVerificationFailed, at, EndpointVerificationFailedNotice{
		EndpointID: ep.ID, URL: ep.URL, Error: err, FailedAt: at.UTC(),
	}, ep.ID, at.UTC().Format(time.RFC3339Nano))
}

// NewSecretRotationEnded is the notice that the rotation which made
// previousVersion the endpoint's previous secret ended at at; the ID
// derives from the retired version, so a retried retirement is one notice.
func NewSecretRotationEnded(tenantID, endpointID, previousVersion string, at time.Time) Event {
	return operationalEvent(tenantID, TypeSecretRotationEnded, at, SecretRotationEndedNotice{
		EndpointID: endpointID, EndedAt: at.UTC(),
	}, endpointID, previousVersion)
}

// operationalEvent builds an operational event whose ID is derived from
// its type and idParts: the same occurrence always gets the same ID.
func operationalEvent(tenantID, eventType string, at time.Time, data any, idParts ...string) Event {
	body, err := json.Marshal(data)
	if err != nil {
		panic("hookrun: operational event data: " + err.Error()) // plain structs: cannot fail
	}
	h := sha256.New()
	h.Write([]byte(eventType))
	for _, p := range idParts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return Event{
		ID:         "hookrun_" + idEncoding.EncodeToString(h.Sum(sum[:0])[:16]),
		TenantID:   tenantID,
		Type:       eventType,
		Data:       body,
		Source:     SourceHookrun,
		ReceivedAt: at.UTC().Truncate(time.Microsecond),
	}
}

// WithheldFrom returns the endpoint that must not receive e, whatever its
// filter and status: the subject of an endpoint.disabled notice, which
// never receives the notice of its own disabling (not even as a dead
// letter to replay after re-enabling). Empty for every other event.
func (e Event) WithheldFrom() string {
	if e.Type != TypeEndpointDisabled {
		return ""
	}
	var d struct {
		EndpointID string `json:"endpoint_id"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	return d.EndpointID
}
