package hookrun

import (
	"strings"
	"testing"
	"time"
)

func TestNewPortalLink(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		ttl        Duration
		wantErr    bool
		wantExpire time.Time
	}{
		{"default", 0, false, now.Add(DefaultPortalLinkTTL)},
		{"the most", Duration(24 * time.Hour), false, now.Add(24 * time.Hour)},
		{"the least", Duration(time.Minute), false, now.Add(time.Minute)},
		{"too long", Duration(24*time.Hour + time.Second), true, time.Time{}},
		{"too short", Duration(time.Second), true, time.Time{}},
		{"negative", Duration(-time.Hour), true, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, l, err := NewPortalLink("acme", tt.ttl, now)
			if tt.wantErr {
				if ErrorCode(err) != CodeInvalidArgument {
					t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(token, PortalTokenPrefix) || l.TokenHash != HashPortalToken(token) || l.TokenHash == token {
				t.Errorf("token %q, hash %q: want a prefixed token stored only as its hash", token, l.TokenHash)
			}
			if !l.ExpireTime.Equal(tt.wantExpire) || l.TenantID != "acme" || l.Used {
				t.Errorf("link = %v, want tenant acme expiring %v unused", l, tt.wantExpire)
			}
		})
	}
	a, _, _ := NewPortalLink("acme", 0, now)
	b, _, _ := NewPortalLink("acme", 0, now)
	if a == b {
		t.Error("two links have the same token")
	}
}

func TestPortalLinkOpen(t *testing.T) {
	exp := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		link PortalLink
		at   time.Time
		ok   bool
	}{
		{"fresh", PortalLink{ExpireTime: exp}, exp.Add(-time.Second), true},
		{"used", PortalLink{ExpireTime: exp, Used: true}, exp.Add(-time.Second), false},
		{"at expiry", PortalLink{ExpireTime: exp}, exp, false},
		{"after expiry", PortalLink{ExpireTime: exp}, exp.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.link.Open(tt.at)
			if tt.ok != (err == nil) || (err != nil && ErrorCode(err) != CodeFailedPrecondition) {
				t.Errorf("Open = %v, want ok %t (else FAILED_PRECONDITION)", err, tt.ok)
			}
		})
	}
}
