package hookrun

import "strings"

// Event types are lowercase dot-separated segments ("invoice.paid",
// "google.cloud.storage.object.v1.finalized"). Each segment starts with a
// letter or digit and continues with letters, digits, '_' or '-'.
const maxEventTypeLen = 128

// ValidateEventType checks the syntax of an event type.
func ValidateEventType(t string) error {
	if t == "" {
		return Errorf(CodeInvalidArgument, "type: required")
	}
	if len(t) > maxEventTypeLen {
		return Errorf(CodeInvalidArgument, "type: at most %d characters", maxEventTypeLen)
	}
	for seg := range strings.SplitSeq(t, ".") {
		if !validSegment(seg) {
			return Errorf(CodeInvalidArgument, "type: %q is not a valid event type: use lowercase dot-separated segments of a-z, 0-9, '_' or '-', like \"invoice.paid\"", t)
		}
	}
	return nil
}

func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Pattern is a parsed event-type filter. "*" matches every type. A "*"
// segment matches exactly one segment, except in last position, where it
// matches one or more: "user.*" matches "user.created" and
// "user.profile.updated" but not "user"; "*.created" matches "user.created".
// Operational types (OperationalPrefix) are the exception: only a pattern
// whose first segment is literally "hookrun" matches them, so "*" means
// every type of the tenant's own.
type Pattern struct {
	raw  string
	segs []string
}

// ParsePattern parses and validates an event-type pattern.
func ParsePattern(p string) (Pattern, error) {
	if p == "" {
		return Pattern{}, Errorf(CodeInvalidArgument, "event_types: a pattern must not be empty")
	}
	if len(p) > maxEventTypeLen {
		return Pattern{}, Errorf(CodeInvalidArgument, "event_types: %q is longer than %d characters", p, maxEventTypeLen)
	}
	segs := strings.Split(p, ".")
	for _, s := range segs {
		if s != "*" && !validSegment(s) {
			return Pattern{}, Errorf(CodeInvalidArgument, "event_types: %q is not a valid pattern: use event types with optional '*' segments, like \"user.*\" or \"*\"", p)
		}
	}
	return Pattern{raw: p, segs: segs}, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Match reports whether eventType matches the pattern. It does not allocate:
// the dispatcher runs it for every endpoint of a tenant on every event.
func (p Pattern) Match(eventType string) bool {
	if IsOperational(eventType) && p.segs[0] != operationalSegment {
		return false
	}
	rest := eventType
	for i, seg := range p.segs {
		if rest == "" {
			return false
		}
		last := i == len(p.segs)-1
		if seg == "*" && last {
			return true // one or more remaining segments
		}
		var cur string
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			cur, rest = rest[:j], rest[j+1:]
			if rest == "" {
				return false // trailing dot: not a valid type
			}
		} else {
			cur, rest = rest, ""
		}
		if seg != "*" && seg != cur {
			return false
		}
	}
	return rest == ""
}

// Patterns is an endpoint's list of filters; it matches when any does.
type Patterns []Pattern

// ParsePatterns parses a list of patterns, rejecting an empty list and
// dropping exact duplicates.
func ParsePatterns(raw []string) (Patterns, error) {
	if len(raw) == 0 {
		return nil, Errorf(CodeInvalidArgument, "event_types: at least one pattern is required (\"*\" for every type)")
	}
	if len(raw) > 50 {
		return nil, Errorf(CodeInvalidArgument, "event_types: at most 50 patterns")
	}
	seen := make(map[string]bool, len(raw))
	ps := make(Patterns, 0, len(raw))
	for _, r := range raw {
		if seen[r] {
			continue
		}
		seen[r] = true
		p, err := ParsePattern(r)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Match reports whether any pattern matches eventType.
func (ps Patterns) Match(eventType string) bool {
	for _, p := range ps {
		if p.Match(eventType) {
			return true
		}
	}
	return false
}

// Strings returns the patterns as written.
func (ps Patterns) Strings() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.raw
	}
	return out
}
