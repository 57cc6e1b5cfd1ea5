package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/oidc/oidctest"
)

const (
	sa       = "push@proj.iam.gserviceaccount.com"
	audience = "https://dispatcher.example"
)

func TestCheckClaims(t *testing.T) {
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr bool
	}{
		{"expected identity", map[string]any{"iss": "https://accounts.google.com", "email": sa, "email_verified": true}, false},
		{"issuer without scheme", map[string]any{"iss": "accounts.google.com", "email": sa, "email_verified": true}, false},
		{"other issuer", map[string]any{"iss": "https://cloud.google.com/iap", "email": sa, "email_verified": true}, true},
		{"other identity", map[string]any{"iss": "https://accounts.google.com", "email": "evil@proj.iam.gserviceaccount.com", "email_verified": true}, true},
		{"unverified email", map[string]any{"iss": "https://accounts.google.com", "email": sa, "email_verified": false}, true},
		{"no email", map[string]any{"iss": "https://accounts.google.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email, err := checkClaims(tt.claims, []string{"other@proj.iam.gserviceaccount.com", sa})
			if (err != nil) != tt.wantErr || (err == nil && email != sa) {
				t.Errorf("checkClaims = %q, %v, wantErr %v", email, err, tt.wantErr)
			}
		})
	}
}

// Malformed tokens are refused before any key is fetched, so this runs
// without network.
func TestVerifyRefusesMalformedTokens(t *testing.T) {
	v, err := NewVerifier(context.Background(), Config{Audience: audience, ServiceAccounts: []string{sa}})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	for _, h := range []string{"", "Basic abc", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c"} {
		if err := v.Verify(context.Background(), h); err == nil {
			t.Errorf("Verify(%q) succeeded", h)
		}
	}
	for _, cfg := range []Config{{ServiceAccounts: []string{sa}}, {Audience: audience}, {Audience: audience, ServiceAccounts: []string{""}}} {
		if _, err := NewVerifier(context.Background(), cfg); err == nil {
			t.Errorf("NewVerifier(%+v) succeeded", cfg)
		}
	}
}

// Tokens signed by a local issuer, whose keys the verifier fetches from a
// loopback URL instead of Google's.
func TestServiceAccountWithLocalKeys(t *testing.T) {
	iss, err := oidctest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	v, err := NewVerifier(t.Context(), Config{Audience: audience, ServiceAccounts: []string{sa}, CertsURL: iss.CertsURL()})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if email, err := v.ServiceAccount(t.Context(), iss.Token(sa, audience)); err != nil || email != sa {
		t.Errorf("ServiceAccount(good token) = %q, %v; want %q", email, err, sa)
	}
	if err := v.Verify(t.Context(), "Bearer "+iss.Token(sa, audience)); err != nil {
		t.Errorf("Verify(good token) = %v", err)
	}
	other, err := oidctest.NewIssuer() // same key ID, another key
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now()
	for name, token := range map[string]string{
		"other audience":    iss.Token(sa, "https://elsewhere.example"),
		"other account":     iss.Token("evil@proj.iam.gserviceaccount.com", audience),
		"other signer":      other.Token(sa, audience),
		"expired":           iss.Sign(map[string]any{"iss": "https://accounts.google.com", "aud": audience, "email": sa, "email_verified": true, "exp": now.Add(-time.Minute).Unix()}),
		"unverified":        iss.Sign(map[string]any{"iss": "https://accounts.google.com", "aud": audience, "email": sa, "email_verified": false, "exp": now.Add(time.Hour).Unix()}),
		"issuer not Google": iss.Sign(map[string]any{"iss": "https://evil.example", "aud": audience, "email": sa, "email_verified": true, "exp": now.Add(time.Hour).Unix()}),
	} {
		if email, err := v.ServiceAccount(t.Context(), token); err == nil || hookrun.ErrorCode(err) == hookrun.CodeUnavailable {
			t.Errorf("%s: ServiceAccount = %q, %v; want the token refused", name, email, err)
		}
	}
}

// A failed fetch of the keys is not a bad token: the caller is told to
// retry.
func TestServiceAccountKeysUnavailable(t *testing.T) {
	iss, err := oidctest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	v, err := NewVerifier(t.Context(), Config{Audience: audience, ServiceAccounts: []string{sa}, CertsURL: down.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ServiceAccount(t.Context(), iss.Token(sa, audience)); hookrun.ErrorCode(err) != hookrun.CodeUnavailable {
		t.Errorf("ServiceAccount with the keys unavailable = %v, want UNAVAILABLE", err)
	}
}

func TestCheckCertsURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:9000/certs":                true,
		"http://localhost:9000":                      true,
		"http://[::1]:9000":                          true,
		"https://www.googleapis.com/oauth2/v3/certs": false,
		"http://10.0.0.1/certs":                      false,
		"ftp://127.0.0.1/":                           false,
		"127.0.0.1:9000":                             false,
	} {
		if err := CheckCertsURL(u); (err == nil) != ok {
			t.Errorf("CheckCertsURL(%q) = %v, want ok %v", u, err, ok)
		}
	}
}
