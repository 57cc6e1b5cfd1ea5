package hookrun_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// eventTypeSyntax is the documented event-type syntax as a regular
// expression (plus the 128-character bound), to check ValidateEventType's
// hand-written scanner against.
var eventTypeSyntax = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$`)

// refMatch is Pattern.Match written the obvious way, comparing segment
// lists, for valid event types: the allocation-free Match must agree.
func refMatch(pattern, eventType string) bool {
	ps, ts := strings.Split(pattern, "."), strings.Split(eventType, ".")
	if ps[len(ps)-1] == "*" {
		// A last "*" stands for one or more segments.
		if len(ts) < len(ps) {
			return false
		}
		ps, ts = ps[:len(ps)-1], ts[:len(ps)-1]
	} else if len(ts) != len(ps) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != ts[i] {
			return false
		}
	}
	return true
}

// FuzzEventTypePatterns feeds endpoint filters (comma-separated, as a list)
// and an event type to the parsers and matchers every event goes through.
func FuzzEventTypePatterns(f *testing.F) {
	for _, s := range [][2]string{
		{"user.*", "user.created"},
		{"user.*", "user.profile.updated"},
		{"user.*", "user"},
		{"*", "invoice.paid"},
		{"*.created", "user.created"},
		{"user.*.done", "user.export.done"},
		{"invoice.paid", "invoice.paid"},
		{"invoice.paid,user.*,invoice.paid", "user.x"},
		{"google.cloud.storage.object.v1.finalized", "google.cloud.storage.object.v1.finalized"},
		{"a-b_c.9", "a-b_c.9"},
		{"a..b", "a..b"},
		{"Invoice.paid", "Invoice.paid"},
		{"*.*", "a"},
		{"", ""},
		{"user.", "user."},
		{"-a", "_a"},
		{"a.*", "a.b."},
		{"**", "é"},
		{strings.Repeat("a", 129), strings.Repeat("a", 128)},
	} {
		f.Add(s[0], s[1])
	}
	star, err := hookrun.ParsePattern("*")
	if err != nil {
		f.Fatalf(`ParsePattern("*"): %v`, err)
	}
	f.Fuzz(func(t *testing.T, patterns, eventType string) {
		typeErr := hookrun.ValidateEventType(eventType)
		if want := len(eventType) <= 128 && eventTypeSyntax.MatchString(eventType); (typeErr == nil) != want {
			t.Fatalf("ValidateEventType(%q) = %v, want valid %v", eventType, typeErr, want)
		}
		if typeErr != nil && hookrun.ErrorCode(typeErr) != hookrun.CodeInvalidArgument {
			t.Fatalf("ValidateEventType(%q) = %v, want INVALID_ARGUMENT", eventType, typeErr)
		}
		if typeErr == nil && !star.Match(eventType) {
			t.Fatalf(`"*" does not match valid type %q`, eventType)
		}

		raw := strings.Split(patterns, ",")
		for _, r := range raw {
			checkPattern(t, r, eventType, typeErr == nil)
		}
		ps, err := hookrun.ParsePatterns(raw)
		if err != nil {
			if hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument {
				t.Fatalf("ParsePatterns(%q) = %v, want INVALID_ARGUMENT", raw, err)
			}
			return
		}
		got := ps.Strings()
		// The list as written, first occurrences kept in order.
		var want []string
		seen := map[string]bool{}
		for _, r := range raw {
			if !seen[r] {
				seen[r] = true
				want = append(want, r)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ParsePatterns(%q).Strings() = %q, want %q", raw, got, want)
		}
		again, err := hookrun.ParsePatterns(got)
		if err != nil || !slices.Equal(again.Strings(), got) {
			t.Fatalf("ParsePatterns(%q) does not round-trip: %q, %v", got, again.Strings(), err)
		}
		if typeErr == nil {
			if m, want := ps.Match(eventType), slices.ContainsFunc(got, func(p string) bool { return refMatch(p, eventType) }); m != want {
				t.Fatalf("Patterns %q Match(%q) = %v, want %v", got, eventType, m, want)
			}
		}
	})
}

// checkPattern checks one pattern against eventType (validType says
// whether it is a valid event type).
func checkPattern(t *testing.T, pattern, eventType string, validType bool) {
	t.Helper()
	p, err := hookrun.ParsePattern(pattern)
	exact := hookrun.ValidateEventType(pattern) == nil
	if err != nil {
		if exact {
			t.Fatalf("ParsePattern(%q) = %v, but a valid event type is a valid pattern", pattern, err)
		}
		if hookrun.ErrorCode(err) != hookrun.CodeInvalidArgument {
			t.Fatalf("ParsePattern(%q) = %v, want INVALID_ARGUMENT", pattern, err)
		}
		return
	}
	if p.String() != pattern {
		t.Fatalf("ParsePattern(%q).String() = %q", pattern, p.String())
	}
	// An exact pattern matches exactly itself, whatever else it is given.
	if exact && p.Match(eventType) != (eventType == pattern) {
		t.Fatalf("exact pattern %q Match(%q) = %v", pattern, eventType, p.Match(eventType))
	}
	if exact && !p.Match(pattern) {
		t.Fatalf("exact pattern %q does not match itself", pattern)
	}
	if validType {
		if got, want := p.Match(eventType), refMatch(pattern, eventType); got != want {
			t.Fatalf("pattern %q Match(%q) = %v, want %v", pattern, eventType, got, want)
		}
	}
}
