package hookrun

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// A source binding routes messages that a Google service or a CloudEvents
// publisher puts on the events topic, without hookrun's tenant_id
// attribute, to a tenant: it matches the message (a CloudEvents source, a
// Cloud Storage bucket, or the service of an audit-log event) and says how
// the event type is made. Each source belongs to one tenant at most: its
// claim (SourceMatch.Claim) is held by the tenant that bound it first,
// so that one tenant cannot siphon another's bucket.

// SourceBindingIDPrefix starts the ID of a source binding.
const SourceBindingIDPrefix = "src_"

// MaxSourceBindings bounds the source bindings of one tenant, so that its
// list is read at once.
const MaxSourceBindings = 50

// SourceMatch says which messages a binding takes. Exactly one of its
// fields is set.
type SourceMatch struct {
	CloudEvents *CloudEventsMatch `json:"cloudevents,omitempty"`
	Storage     *StorageMatch     `json:"storage,omitempty"`
	AuditLog    *AuditLogMatch    `json:"audit_log,omitempty"`
}

// CloudEventsMatch matches CloudEvents, binary or structured, by source
// and optionally by type (exact) or type prefix.
type CloudEventsMatch struct {
	Source     string `json:"source"`
	Type       string `json:"type,omitempty"`
	TypePrefix string `json:"type_prefix,omitempty"`
}

// StorageMatch matches the events of a Cloud Storage bucket: its Pub/Sub
// notifications and the CloudEvents Eventarc makes of them.
type StorageMatch struct {
	Bucket string `json:"bucket"`
}

// AuditLogMatch matches Cloud Audit Logs events delivered by Eventarc
// (google.cloud.audit.log.v1.written) by the service that wrote them and
// optionally the method.
type AuditLogMatch struct {
	ServiceName string `json:"service_name"`
	MethodName  string `json:"method_name,omitempty"`
}

// EventTypeRule says how a binding makes an event type of a message.
type EventTypeRule string

// The event-type rules.
const (
	// TypeFromCloudEvents takes the CloudEvents type as it is; it must be a
	// valid event type (ValidateEventType), or the message is rejected.
	TypeFromCloudEvents EventTypeRule = "cloudevents_type"
	// TypeDerived makes the type of what happened: a Cloud Storage
	// OBJECT_FINALIZE is "storage.object.finalize" (from a notification
	// or its CloudEvent alike), an audit log of service s and method m is
	// "audit.<first label of s>.<m lowercased>" (DerivedEventType).
	TypeDerived EventTypeRule = "derived"
	// TypeFixed gives every matched message the binding's EventType.
	TypeFixed EventTypeRule = "fixed"
)

// SourceBinding routes the messages its Match takes to its tenant.
type SourceBinding struct {
	ID       string      `json:"id"`
	TenantID string      `json:"tenant_id"`
	Match    SourceMatch `json:"match"`
	// TypeRule is how the event type is made; EventType is the type of
	// TypeFixed, empty otherwise.
	TypeRule  EventTypeRule `json:"event_type_rule"`
	EventType string        `json:"event_type,omitempty"`
	CreatedAt time.Time     `json:"create_time"`
}

var (
	sourceBindingIDPattern = regexp.MustCompile(`^src_[a-z2-7]{26}$`)
	// Bucket names: lowercase letters, digits, '-', '_' and '.', 3 to 222
	// characters, starting and ending with a letter or digit.
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
	// Service names are host names: "storage.googleapis.com".
	serviceNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
)

// googleSources are the CloudEvents sources of the services that have a
// match of their own, which takes their events by bucket or service
// rather than by source: a cloudevents match may not name them, so that
// a bucket's events are bound once, by its storage match.
var googleSources = []struct{ prefix, match string }{
	{"//storage.googleapis.com/", "storage"},
	{"//cloudaudit.googleapis.com/", "audit_log"},
}

// ValidSourceBindingID reports whether id has the shape of a source
// binding's ID, so a malformed one is not found without a lookup.
func ValidSourceBindingID(id string) bool { return sourceBindingIDPattern.MatchString(id) }

// NewSourceBinding validates a binding of tenantID and returns it with a
// new ID, created now. An empty rule is the match's default:
// TypeFromCloudEvents for a CloudEvents match, TypeDerived otherwise.
func NewSourceBinding(tenantID string, m SourceMatch, rule EventTypeRule, eventType string, now time.Time) (SourceBinding, error) {
	if err := m.validate(); err != nil {
		return SourceBinding{}, err
	}
	if rule == "" {
		rule = TypeDerived
		if m.CloudEvents != nil {
			rule = TypeFromCloudEvents
		}
	}
	switch rule {
	case TypeFixed:
		if err := ValidateEventType(eventType); err != nil {
			return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type: %s", strings.TrimPrefix(ErrorMessage(err), "type: "))
		}
		if IsOperational(eventType) {
			return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type: %s", ErrorMessage(ErrReservedType(eventType)))
		}
	case TypeFromCloudEvents, TypeDerived:
		if eventType != "" {
			return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type: only with event_type_rule %q", TypeFixed)
		}
		if rule == TypeFromCloudEvents && m.Storage != nil {
			return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type_rule: a storage match takes %q or %q: a bucket's notifications have no CloudEvents type", TypeDerived, TypeFixed)
		}
		if rule == TypeDerived && m.CloudEvents != nil {
			return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type_rule: a cloudevents match takes %q or %q", TypeFromCloudEvents, TypeFixed)
		}
	default:
		return SourceBinding{}, Errorf(CodeInvalidArgument, "event_type_rule: %q is not one of %q, %q, %q", rule, TypeFromCloudEvents, TypeDerived, TypeFixed)
	}
	return SourceBinding{
		ID:        NewID(SourceBindingIDPrefix),
		TenantID:  tenantID,
		Match:     m,
		TypeRule:  rule,
		EventType: eventType,
		CreatedAt: now.UTC(),
	}, nil
}

// attributeText checks a value that is matched against a message
// attribute: required or not, at most max bytes, printable, no spaces.
func attributeText(field, s string, required bool, max int) error {
	switch {
	case s == "" && required:
		return Errorf(CodeInvalidArgument, "%s: required", field)
	case len(s) > max:
		return Errorf(CodeInvalidArgument, "%s: at most %d characters", field, max)
	case strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }):
		return Errorf(CodeInvalidArgument, "%s: %q has spaces or unprintable characters", field, s)
	}
	return nil
}

func (m SourceMatch) validate() error {
	set := 0
	for _, b := range []bool{m.CloudEvents != nil, m.Storage != nil, m.AuditLog != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return Errorf(CodeInvalidArgument, "match: set exactly one of cloudevents, storage, audit_log")
	}
	switch {
	case m.CloudEvents != nil:
		c := m.CloudEvents
		if err := attributeText("match.cloudevents.source", c.Source, true, 1024); err != nil {
			return err
		}
		for _, g := range googleSources {
			if strings.HasPrefix(c.Source, g.prefix) {
				return Errorf(CodeInvalidArgument, "match.cloudevents.source: %q is a Google service's source: bind it with a %s match", c.Source, g.match)
			}
		}
		if c.Type != "" && c.TypePrefix != "" {
			return Errorf(CodeInvalidArgument, "match.cloudevents: set type or type_prefix, not both")
		}
		if err := attributeText("match.cloudevents.type", c.Type, false, 256); err != nil {
			return err
		}
		return attributeText("match.cloudevents.type_prefix", c.TypePrefix, false, 256)
	case m.Storage != nil:
		if !bucketPattern.MatchString(m.Storage.Bucket) || strings.Contains(m.Storage.Bucket, "..") {
			return Errorf(CodeInvalidArgument, "match.storage.bucket: %q is not a Cloud Storage bucket name", m.Storage.Bucket)
		}
	default:
		if !serviceNamePattern.MatchString(m.AuditLog.ServiceName) {
			return Errorf(CodeInvalidArgument, "match.audit_log.service_name: %q is not a service name like \"storage.googleapis.com\"", m.AuditLog.ServiceName)
		}
		return attributeText("match.audit_log.method_name", m.AuditLog.MethodName, false, 256)
	}
	return nil
}

// Claim is the source a match takes messages of, which belongs to one
// tenant at most: a CloudEvents source, a bucket, or an audit-log service.
// Every binding with the same claim is one tenant's.
func (m SourceMatch) Claim() string {
	switch {
	case m.CloudEvents != nil:
		return "cloudevents source " + m.CloudEvents.Source
	case m.Storage != nil:
		return storageClaim(m.Storage.Bucket)
	case m.AuditLog != nil:
		return auditLogClaim(m.AuditLog.ServiceName)
	}
	return ""
}

func storageClaim(bucket string) string   { return "storage bucket " + bucket }
func auditLogClaim(service string) string { return "audit-log service " + service }

// CheckNewSourceBinding decides whether b may join held, the bindings
// that hold b's claim: not when they are another tenant's, nor when one
// overlaps b. Both are CodeAlreadyExists; the other tenant is not named.
func CheckNewSourceBinding(held []SourceBinding, b SourceBinding) error {
	for _, h := range held {
		if h.TenantID != b.TenantID {
			return Errorf(CodeAlreadyExists, "%s is bound to another tenant", b.Match.Claim())
		}
		if h.Match.Overlaps(b.Match) {
			return Errorf(CodeAlreadyExists, "source binding %s already takes these messages: delete it first", h.ID)
		}
	}
	return nil
}

// Overlaps reports whether a message could match both m and o: one
// message must not have two bindings, so a binding that overlaps another
// is refused.
func (m SourceMatch) Overlaps(o SourceMatch) bool {
	if m.Claim() != o.Claim() {
		return false
	}
	switch {
	case m.CloudEvents != nil:
		return typesOverlap(m.CloudEvents.Type, m.CloudEvents.TypePrefix, o.CloudEvents.Type, o.CloudEvents.TypePrefix)
	case m.AuditLog != nil:
		a, b := m.AuditLog.MethodName, o.AuditLog.MethodName
		return a == "" || b == "" || a == b
	}
	return true // one bucket
}

// typesOverlap reports whether a type could be matched by both (exact,
// prefix) pairs; empty ones match every type.
func typesOverlap(t1, p1, t2, p2 string) bool {
	switch {
	case t1 != "" && t2 != "":
		return t1 == t2
	case t1 != "":
		return strings.HasPrefix(t1, p2)
	case t2 != "":
		return strings.HasPrefix(t2, p1)
	}
	return strings.HasPrefix(p1, p2) || strings.HasPrefix(p2, p1)
}

// SourceMessage is what bindings are matched against: a message on the
// events topic without a tenant_id attribute, as the dispatcher read it
// (a CloudEvent of either mode, or a Cloud Storage notification).
type SourceMessage struct {
	// CloudEvents source and type, when the message is a CloudEvent.
	CESource, CEType string
	// Bucket and StorageEvent ("OBJECT_FINALIZE"…) when the message is
	// about a Cloud Storage object: a notification, or its CloudEvent.
	Bucket, StorageEvent string
	// AuditService and AuditMethod when the message is an audit-log
	// CloudEvent.
	AuditService, AuditMethod string
}

// Claims returns the claims that bindings for m hold, most specific
// first: the bucket or audit-log service, then the CloudEvents source.
func (m SourceMessage) Claims() []string {
	var out []string
	if m.Bucket != "" {
		out = append(out, storageClaim(m.Bucket))
	}
	if m.AuditService != "" {
		out = append(out, auditLogClaim(m.AuditService))
	}
	if m.CESource != "" {
		out = append(out, "cloudevents source "+m.CESource)
	}
	return out
}

// String names what a binding was looked for, for a rejection's reason.
func (m SourceMessage) String() string {
	var parts []string
	if m.Bucket != "" {
		parts = append(parts, fmt.Sprintf("Cloud Storage bucket %q", m.Bucket))
	}
	if m.AuditService != "" {
		parts = append(parts, fmt.Sprintf("audit-log serviceName %q methodName %q", m.AuditService, m.AuditMethod))
	}
	if m.CESource != "" {
		parts = append(parts, fmt.Sprintf("ce-source %q ce-type %q", m.CESource, m.CEType))
	}
	if len(parts) == 0 {
		return "nothing (no CloudEvents source, bucket or audit-log service)"
	}
	return strings.Join(parts, ", ")
}

// Matches reports whether b takes message m.
func (b SourceBinding) Matches(m SourceMessage) bool {
	switch x := b.Match; {
	case x.CloudEvents != nil:
		c := x.CloudEvents
		return m.CESource != "" && m.CESource == c.Source &&
			(c.Type == "" || m.CEType == c.Type) && strings.HasPrefix(m.CEType, c.TypePrefix)
	case x.Storage != nil:
		return m.Bucket != "" && m.Bucket == x.Storage.Bucket
	case x.AuditLog != nil:
		a := x.AuditLog
		return m.AuditService != "" && m.AuditService == a.ServiceName && (a.MethodName == "" || m.AuditMethod == a.MethodName)
	}
	return false
}

// MatchSourceBinding returns the binding among bs that takes m; ok is
// false when none does.
func MatchSourceBinding(bs []SourceBinding, m SourceMessage) (b SourceBinding, ok bool) {
	for _, b := range bs {
		if b.Matches(m) {
			return b, true
		}
	}
	return SourceBinding{}, false
}

// EventTypeOf returns the event type of a message b matched, or an error
// saying why none could be made.
func (b SourceBinding) EventTypeOf(m SourceMessage) (string, error) {
	var t string
	switch b.TypeRule {
	case TypeFixed:
		return b.EventType, nil
	case TypeFromCloudEvents:
		if m.CEType == "" {
			return "", fmt.Errorf("source binding %s takes the CloudEvents type, and the message has none", b.ID)
		}
		t = m.CEType
	case TypeDerived:
		t = DerivedEventType(m)
		if t == "" {
			return "", fmt.Errorf("source binding %s derives the event type, and the message is neither a Cloud Storage object event nor an audit log", b.ID)
		}
	default:
		return "", fmt.Errorf("source binding %s has an unknown event_type_rule %q", b.ID, b.TypeRule)
	}
	if ValidateEventType(t) != nil || IsOperational(t) {
		return "", fmt.Errorf("source binding %s makes event type %q, which is not a valid event type: bind it with a fixed event type", b.ID, t)
	}
	return t, nil
}

// DerivedEventType returns the type TypeDerived makes of m: for a Cloud
// Storage event "storage.object.finalize" (OBJECT_FINALIZE),
// "storage.object.metadata_update" (OBJECT_METADATA_UPDATE) and so on;
// for an audit log "audit.<first label of the service>.<method>",
// lowercased, characters other than letters, digits, '.', '_' and '-'
// made '_' ("audit.storage.storage.buckets.create"); "" for anything else.
func DerivedEventType(m SourceMessage) string {
	switch {
	case m.StorageEvent != "":
		ev := strings.ToLower(m.StorageEvent)
		if rest, ok := strings.CutPrefix(ev, "object_"); ok {
			return "storage.object." + rest
		}
		return "storage." + ev
	case m.AuditService != "" && m.AuditMethod != "":
		label, _, _ := strings.Cut(m.AuditService, ".")
		method := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				return r
			case r >= 'A' && r <= 'Z':
				return unicode.ToLower(r)
			}
			return '_'
		}, m.AuditMethod)
		return "audit." + label + "." + method
	}
	return ""
}
