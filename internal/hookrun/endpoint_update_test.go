package hookrun

import (
	"strings"
	"testing"
	"time"
)

func TestEndpointApply(t *testing.T) {
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	ptr := func(s string) *string { return &s }
	yes, no := true, false
	base, err := NewEndpoint("acme", EndpointInput{URL: "https://a.example/h", EventTypes: []string{"*"}}, URLPolicy{}, created)
	if err != nil {
		t.Fatal(err)
	}
	disabled := base
	disabled.SetStatus(EndpointDisabled, created)
	disabled.DisabledReason = "too many dead letters"

	tests := []struct {
		name    string
		from    Endpoint
		u       EndpointUpdate
		check   func(t *testing.T, got Endpoint)
		wantErr string
	}{
		{"description trimmed as on create", base, EndpointUpdate{Description: ptr("  crm  ")}, func(t *testing.T, got Endpoint) {
			if got.Description != "crm" {
				t.Errorf("description = %q, want %q", got.Description, "crm")
			}
		}, ""},
		{"event types normalised and compiled", base, EndpointUpdate{EventTypes: &[]string{"user.*", "user.*"}}, func(t *testing.T, got Endpoint) {
			if len(got.EventTypes) != 1 || !got.Matches("user.created") || got.Matches("invoice.paid") {
				t.Errorf("event types = %v, want [user.*] matching", got.EventTypes)
			}
		}, ""},
		{"new URL awaits the challenge", base, EndpointUpdate{URL: ptr("https://b.example/h")}, func(t *testing.T, got Endpoint) {
			if got.Status != EndpointPending || got.URL != "https://b.example/h" {
				t.Errorf("status %s url %s, want pending at the new URL", got.Status, got.URL)
			}
		}, ""},
		{"same URL stays active", base, EndpointUpdate{URL: ptr(base.URL)}, func(t *testing.T, got Endpoint) {
			if got.Status != EndpointActive {
				t.Errorf("status = %s, want active", got.Status)
			}
		}, ""},
		{"new URL of a disabled endpoint stays disabled", disabled, EndpointUpdate{URL: ptr("https://b.example/h")}, func(t *testing.T, got Endpoint) {
			if got.Status != EndpointDisabled {
				t.Errorf("status = %s, want disabled", got.Status)
			}
		}, ""},
		{"disabling records who", base, EndpointUpdate{Enabled: &no, DisabledBy: "the admin"}, func(t *testing.T, got Endpoint) {
			if got.Status != EndpointDisabled || got.DisabledReason != "disabled through the API by the admin" || !got.InactiveSince.Equal(now) {
				t.Errorf("got %s %q inactive since %v", got.Status, got.DisabledReason, got.InactiveSince)
			}
		}, ""},
		{"re-enabling clears the reason", disabled, EndpointUpdate{Enabled: &yes}, func(t *testing.T, got Endpoint) {
			if got.Status != EndpointActive || got.DisabledReason != "" || !got.ActiveSince.Equal(now) {
				t.Errorf("got %s %q active since %v", got.Status, got.DisabledReason, got.ActiveSince)
			}
		}, ""},
		{"timeout too short", base, EndpointUpdate{Timeout: new(Duration(500 * time.Millisecond))}, nil, "timeout: between 1s and 60s"},
		{"timeout too long", base, EndpointUpdate{Timeout: new(Duration(61 * time.Second))}, nil, "timeout: between 1s and 60s"},
		{"rate limit", base, EndpointUpdate{RateLimit: new(-1)}, nil, "rate_limit:"},
		{"description too long", base, EndpointUpdate{Description: ptr(strings.Repeat("d", 513))}, nil, "description: at most 512"},
		{"plain http", base, EndpointUpdate{URL: ptr("http://a.example/h")}, nil, "url: must use https"},
		{"no event types", base, EndpointUpdate{EventTypes: &[]string{}}, nil, "event_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.from.Apply(tt.u, URLPolicy{}, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(ErrorMessage(err), tt.wantErr) {
					t.Fatalf("Apply = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			tt.check(t, got)
		})
	}
}

func TestValidateGracePeriod(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want bool
	}{
		{0, true}, {time.Hour, true}, {MaxGracePeriod, true},
		{-time.Second, false}, {MaxGracePeriod + time.Nanosecond, false},
	} {
		err := ValidateGracePeriod(Duration(tt.d))
		if (err == nil) != tt.want {
			t.Errorf("ValidateGracePeriod(%v) = %v, want ok: %v", tt.d, err, tt.want)
		}
		if err != nil && ErrorMessage(err) != "grace_period: between 0s and 168h" {
			t.Errorf("message %q", ErrorMessage(err))
		}
	}
}
