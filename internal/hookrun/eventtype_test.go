package hookrun

import (
	"fmt"
	"testing"
)

func TestValidateEventType(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"invoice.paid", true},
		{"user", true},
		{"user.profile.updated", true},
		{"google.cloud.storage.object.v1.finalized", true},
		{"order_item.re-sent", true},
		{"", false},
		{"User.created", false},
		{"user..created", false},
		{".user", false},
		{"user.", false},
		{"user.*", false},
		{"user created", false},
		{"user._x", false},
		{"ü.x", false},
		{string(make([]byte, 129)), false},
	}
	for _, tt := range tests {
		err := ValidateEventType(tt.in)
		if got := err == nil; got != tt.valid {
			t.Errorf("ValidateEventType(%q) = %v, want valid=%v", tt.in, err, tt.valid)
		}
		if err != nil && ErrorCode(err) != CodeInvalidArgument {
			t.Errorf("ValidateEventType(%q) code = %s, want INVALID_ARGUMENT", tt.in, ErrorCode(err))
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, eventType string
		want               bool
	}{
		{"*", "user.created", true},
		{"*", "user", true},
		{"user.*", "user.created", true},
		{"user.*", "user.profile.updated", true},
		{"user.*", "user", false},
		{"user.*", "users.created", false},
		{"user.*", "invoice.paid", false},
		{"user.created", "user.created", true},
		{"user.created", "user.created.v2", false},
		{"user.created", "user.create", false},
		{"*.created", "user.created", true},
		{"*.created", "user.profile.created", false},
		{"*.created", "user.deleted", false},
		{"user.*.updated", "user.profile.updated", true},
		{"user.*.updated", "user.updated", false},
		{"invoice", "invoice.paid", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.eventType); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.eventType, got, tt.want)
		}
	}
}

func TestParsePatternsRejects(t *testing.T) {
	for _, in := range [][]string{nil, {}, {""}, {"User.*"}, {"user.**"}, {"user*"}, {"user.*", "a b"}} {
		if _, err := ParsePatterns(in); err == nil {
			t.Errorf("ParsePatterns(%q) succeeded, want error", in)
		}
	}
	ps, err := ParsePatterns([]string{"user.*", "user.*", "*"})
	if err != nil {
		t.Fatalf("ParsePatterns: %v", err)
	}
	if got := len(ps); got != 2 {
		t.Errorf("duplicates kept: got %d patterns, want 2", got)
	}
}

// BenchmarkMatch1000Endpoints is the dispatcher's per-event filter over a
// large tenant: 1,000 endpoints, of which 1 in 10 subscribe to the type.
func BenchmarkMatch1000Endpoints(b *testing.B) {
	eps := make([]Endpoint, 1000)
	for i := range eps {
		types := []string{fmt.Sprintf("invoice.v%d.*", i), "order.created"}
		if i%10 == 0 {
			types = append(types, "user.*")
		}
		eps[i] = Endpoint{ID: fmt.Sprint(i), Status: EndpointActive, EventTypes: types}
		if err := eps[i].Compile(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for i := range eps {
			if eps[i].Matches("user.profile.updated") {
				n++
			}
		}
		if n != 100 {
			b.Fatalf("matched %d endpoints, want 100", n)
		}
	}
}
