package oidc

import (
	"context"
	"testing"
)

func TestCheckClaims(t *testing.T) {
	const sa = "push@proj.iam.gserviceaccount.com"
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr bool
	}{
		{"expected identity", map[string]any{"email": sa, "email_verified": true}, false},
		{"other identity", map[string]any{"email": "evil@proj.iam.gserviceaccount.com", "email_verified": true}, true},
		{"unverified email", map[string]any{"email": sa, "email_verified": false}, true},
		{"no email", map[string]any{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkClaims(tt.claims, sa); (err != nil) != tt.wantErr {
				t.Errorf("checkClaims = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// Malformed tokens are refused before any key is fetched, so this runs
// without network.
func TestVerifyRefusesMalformedTokens(t *testing.T) {
	v, err := NewVerifier(context.Background(), "https://dispatcher.example", "push@proj.iam.gserviceaccount.com")
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	for _, h := range []string{"", "Basic abc", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c"} {
		if err := v.Verify(context.Background(), h); err == nil {
			t.Errorf("Verify(%q) succeeded", h)
		}
	}
	if _, err := NewVerifier(context.Background(), "", "x"); err == nil {
		t.Error("NewVerifier without audience succeeded")
	}
}
