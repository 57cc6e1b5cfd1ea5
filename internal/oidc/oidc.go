// Package oidc verifies the Google-signed OIDC tokens that Pub/Sub push
// subscriptions and Cloud Tasks HTTP tasks attach to their requests, so only
// they can call the dispatcher even if its URL leaks. It wraps
// google.golang.org/api/idtoken, which fetches and caches Google's keys.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/api/idtoken"
)

// Verifier checks tokens for one audience, issued to one service account.
type Verifier struct {
	audience       string
	serviceAccount string
	v              *idtoken.Validator
}

// NewVerifier returns a Verifier. audience is what the push subscription
// sets as its OIDC audience (usually the dispatcher's URL); serviceAccount
// is the email of the identity Pub/Sub signs as.
func NewVerifier(ctx context.Context, audience, serviceAccount string) (*Verifier, error) {
	if audience == "" || serviceAccount == "" {
		return nil, errors.New("oidc: audience and service account are required")
	}
	v, err := idtoken.NewValidator(ctx)
	if err != nil {
		return nil, fmt.Errorf("idtoken.NewValidator: %w", err)
	}
	return &Verifier{audience: audience, serviceAccount: serviceAccount, v: v}, nil
}

// Verify implements dispatch.PushVerifier. Errors describe the failure
// without repeating the token.
func (vr *Verifier) Verify(ctx context.Context, authorization string) error {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return errors.New("no bearer token")
	}
	p, err := vr.v.Validate(ctx, token, vr.audience)
	if err != nil {
		return fmt.Errorf("invalid token: %w", err)
	}
	return checkClaims(p.Claims, vr.serviceAccount)
}

// checkClaims requires the token to name the expected service account with
// a verified email: any Google-signed token for the audience is not enough.
func checkClaims(claims map[string]any, serviceAccount string) error {
	email, _ := claims["email"].(string)
	if email != serviceAccount {
		return fmt.Errorf("token is for %q, not the push service account", email)
	}
	if verified, _ := claims["email_verified"].(bool); !verified {
		return errors.New("token email is not verified")
	}
	return nil
}
