// Package oidc verifies Google-signed OIDC ID tokens: those Pub/Sub push
// subscriptions and Cloud Tasks HTTP tasks attach to their requests, so
// only they can call the dispatcher even if its URL leaks, and those
// producers' GCP workloads send ingest instead of a stored key. It wraps
// google.golang.org/api/idtoken, which fetches and caches Google's keys.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// googleCertsURL is where idtoken fetches the keys Google signs RS256 ID
// tokens with.
const googleCertsURL = "https://www.googleapis.com/oauth2/v3/certs"

// Bounds of a fetch of Google's keys: a few KB that Google serves in
// milliseconds. A request that waits for them also ends with its own
// context.
const (
	fetchTimeout  = 10 * time.Second
	maxCertsBytes = 1 << 20
)

// googleIssuers are the iss claims of Google-signed ID tokens; idtoken
// checks the signature, expiry and audience but not the issuer.
var googleIssuers = []string{"https://accounts.google.com", "accounts.google.com"}

// Config says which tokens a Verifier accepts.
type Config struct {
	// Audience is the aud claim tokens must carry: what the caller asked
	// its token for (usually the receiving service's URL).
	Audience string
	// ServiceAccounts are the emails tokens may be issued to; a token of
	// any other identity is refused, Google-signed or not.
	ServiceAccounts []string
	// CertsURL, when set, replaces Google's key URL
	// (https://www.googleapis.com/oauth2/v3/certs) and is then the only
	// URL fetched: for the local stack and tests, which sign their own
	// tokens. Only a loopback URL is accepted (CheckCertsURL).
	CertsURL string
}

// Verifier checks tokens for one audience, issued to a set of service
// accounts. It is safe for concurrent use.
type Verifier struct {
	audience string
	accounts []string
	v        *idtoken.Validator
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Audience == "" || len(cfg.ServiceAccounts) == 0 || slices.Contains(cfg.ServiceAccounts, "") {
		return nil, errors.New("oidc: audience and service accounts are required")
	}
	rt := &certsTransport{base: http.DefaultTransport}
	if cfg.CertsURL != "" {
		if err := CheckCertsURL(cfg.CertsURL); err != nil {
			return nil, err
		}
		rt.certsURL = cfg.CertsURL
	}
	v, err := idtoken.NewValidator(ctx, option.WithHTTPClient(&http.Client{Transport: rt, Timeout: fetchTimeout}))
	if err != nil {
		return nil, fmt.Errorf("idtoken.NewValidator: %w", err)
	}
	return &Verifier{audience: cfg.Audience, accounts: slices.Clone(cfg.ServiceAccounts), v: v}, nil
}

// CheckCertsURL accepts a replacement of Google's key URL only on a
// loopback address: whoever serves the keys can sign any token, so they
// must never come from anywhere but Google in production.
func CheckCertsURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("oidc: certs URL %q is not an http(s) URL", s)
	}
	if h := u.Hostname(); h != "localhost" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("oidc: certs URL %q is not on a loopback address: it is for the local stack only", s)
		}
	}
	return nil
}

// Verify implements dispatch.PushVerifier. Errors describe the failure
// without repeating the token.
func (vr *Verifier) Verify(ctx context.Context, authorization string) error {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return errors.New("no bearer token")
	}
	_, err := vr.ServiceAccount(ctx, token)
	return err
}

// ServiceAccount verifies token (signature, expiry, issuer, audience,
// verified email of one of the service accounts) and returns its email.
// When Google's keys cannot be fetched the error is
// hookrun.CodeUnavailable: the token may be fine, the caller should retry.
// Errors describe the failure without repeating the token.
func (vr *Verifier) ServiceAccount(ctx context.Context, token string) (string, error) {
	p, err := vr.v.Validate(ctx, token, vr.audience)
	if errors.Is(err, errCertsUnavailable) {
		return "", hookrun.WrapError(hookrun.CodeUnavailable, err, "Google's token signing keys could not be fetched; retry")
	}
	if err != nil {
		return "", fmt.Errorf("invalid token: %w", err)
	}
	return checkClaims(p.Claims, vr.accounts)
}

// checkClaims requires a Google issuer and one of the expected service
// accounts with a verified email: any Google-signed token for the
// audience is not enough.
func checkClaims(claims map[string]any, accounts []string) (string, error) {
	if iss, _ := claims["iss"].(string); !slices.Contains(googleIssuers, iss) {
		return "", fmt.Errorf("token is issued by %q, not Google", iss)
	}
	email, _ := claims["email"].(string)
	if !slices.Contains(accounts, email) {
		return "", fmt.Errorf("token is for %q, not an allowed service account", email)
	}
	if verified, _ := claims["email_verified"].(bool); !verified {
		return "", errors.New("token email is not verified")
	}
	return email, nil
}

var errCertsUnavailable = errors.New("fetch token signing keys")

// certsTransport fetches the signing keys for idtoken: from certsURL
// instead of Google's when set (and then nothing else), bounded to
// maxCertsBytes, and with every failure marked errCertsUnavailable, so a
// key fetch that failed is not mistaken for a bad token.
type certsTransport struct {
	base     http.RoundTripper
	certsURL string
}

func (t *certsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.certsURL != "" {
		if req.URL.String() != googleCertsURL {
			return nil, fmt.Errorf("%w: only Google's RS256 keys are replaced by the local certs URL, not %s", errCertsUnavailable, req.URL.Redacted())
		}
		u, err := url.Parse(t.certsURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCertsUnavailable, err)
		}
		req = req.Clone(req.Context())
		req.URL, req.Host = u, u.Host
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCertsUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s answered %s", errCertsUnavailable, req.URL.Redacted(), resp.Status)
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxCertsBytes), resp.Body}
	return resp, nil
}
