package hookrun_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The documented syntax of tenant and event IDs, as regular expressions,
// to check the hand-written validators against.
var (
	tenantIDSyntax = regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)
	eventIDSyntax  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

// FuzzIDs checks ValidateTenantID and ValidateEventID against their
// syntax: each accepts exactly what its regular expression matches.
func FuzzIDs(f *testing.F) {
	for _, s := range []string{
		"", "a", "ab", "abc", "acme", "acme-", "-acme", "1acme", "Acme", "ac_me", "acme-2",
		strings.Repeat("a", 40), strings.Repeat("a", 41), strings.Repeat("a", 39) + "-",
		"evt_1", "E.v:t-1_", ".evt", "_evt", "evt/1", "évt", "evt 1", "evt\x00", "@", "[", "`", "{",
		strings.Repeat("e", 128), strings.Repeat("e", 129), "__x__",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := hookrun.ValidateTenantID(id) == nil, tenantIDSyntax.MatchString(id); got != want {
			t.Errorf("ValidateTenantID(%q) accepts: %v, the syntax: %v", id, got, want)
		}
		if got, want := hookrun.ValidateEventID(id) == nil, eventIDSyntax.MatchString(id); got != want {
			t.Errorf("ValidateEventID(%q) accepts: %v, the syntax: %v", id, got, want)
		}
	})
}

func BenchmarkValidateIDs(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if hookrun.ValidateTenantID("bench-ingest") != nil || hookrun.ValidateEventID("evt_01jf6k2x9m4q8r7t5v3w1y0z2a") != nil {
			b.Fatal("valid IDs refused")
		}
	}
}
