package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/run/ingest/client"
)

// userAgent names the CLI in the API's request logs.
const userAgent = "hookrun-cli"

// session is a command's connection to the API: the client of the
// resolved login, and that login.
type session struct {
	*client.Client
	creds credentials
}

// connect resolves the login and makes its client. Each call has the
// --timeout deadline per attempt; the client retries retryable failures.
func (a *app) connect() (*session, error) {
	creds, err := a.resolve()
	if err != nil {
		return nil, err
	}
	return a.connectAs(creds)
}

func (a *app) connectAs(creds credentials) (*session, error) {
	opts := []client.Option{
		client.WithAPIKey(creds.Key),
		client.WithTimeout(a.flags.timeout),
		client.WithUserAgent(userAgent),
	}
	if a.env.HTTPClient != nil {
		opts = append(opts, client.WithHTTPClient(a.env.HTTPClient))
	}
	c, err := client.New(creds.URL, opts...)
	if err != nil {
		return nil, usageErrorf("profile %q: %v", creds.Profile, err)
	}
	return &session{Client: c, creds: creds}, nil
}

// tenant is the tenant a command acts on: --tenant, HOOKRUN_TENANT or the
// profile's.
func (s *session) tenant() (string, error) {
	if s.creds.Tenant == "" {
		return "", usageErrorf("no tenant: pass --tenant, set %s, or log in with --tenant", envTenant)
	}
	return s.creds.Tenant, nil
}

// verifyLogin checks a key before login saves it, with a call the
// credential may make: the tenant when one is named, else the tenants list
// (the admin token's). A producer key may only send, so the API refusing
// it these calls (403, where an unknown key is 401) shows that it knows
// the key; a tenant's key refused its tenant names the wrong one.
func (a *app) verifyLogin(ctx context.Context, p Profile) error {
	s, err := a.connectAs(credentials{URL: p.URL, Key: p.Key, Tenant: p.Tenant})
	if err != nil {
		return err
	}
	if p.Tenant != "" {
		_, err = s.GetTenant(ctx, p.Tenant)
	} else {
		_, err = s.ListTenants(ctx, 1, "")
	}
	tenantKey := strings.HasPrefix(p.Key, hookrun.APIKeyPrefix)
	switch {
	case !client.IsCode(err, client.CodePermissionDenied):
		return err
	case !tenantKey:
		return nil
	case p.Tenant == "":
		return fmt.Errorf("%w (a tenant's key needs --tenant)", err)
	}
	return err
}

// apiExitCode is the exit code of a call the API refused or that got no
// answer.
func apiExitCode(err error) (int, bool) {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		switch {
		case client.IsRetryable(err):
			return ExitTemporary, true
		case apiErr.StatusCode == http.StatusNotFound:
			return ExitNotFound, true
		case apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden:
			return ExitAuth, true
		case apiErr.Code == client.CodeAlreadyExists:
			return ExitConflict, true
		}
		return ExitError, true
	}
	var te *client.TransportError
	if errors.As(err, &te) {
		return ExitTemporary, true
	}
	return 0, false
}

// collect reads the items of seq, at most limit of them (0: all).
func collect[T any](seq iter.Seq2[T, error], limit int) ([]T, error) {
	var items []T
	for it, err := range seq {
		if err != nil {
			return items, err
		}
		items = append(items, it)
		if limit > 0 && len(items) == limit {
			break
		}
	}
	return items, nil
}

// str is *p, or "" for nil: the API's optional text fields.
func str[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}
