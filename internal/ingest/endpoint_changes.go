package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// patchEndpointRequest is a PATCH of an endpoint: the endpoint's settings,
// which the domain applies (hookrun.Endpoint.Apply), and its credentials,
// which go to Secret Manager. Absent (nil) fields stay as they are.
type patchEndpointRequest struct {
	hookrun.EndpointUpdate
	Auth    *hookrun.EndpointAuth `json:"auth"`
	Headers *map[string]string    `json:"headers"`
}

// describeCredentials records on ep what kind of credentials it sends,
// never their values.
func describeCredentials(ep *hookrun.Endpoint, sec hookrun.EndpointSecret) {
	ep.AuthKind = sec.Auth.Kind
	if ep.AuthKind == "" {
		ep.AuthKind = hookrun.AuthNone
	}
	ep.HeaderNames = ep.HeaderNames[:0]
	for name := range sec.Headers {
		ep.HeaderNames = append(ep.HeaderNames, http.CanonicalHeaderKey(name))
	}
	slices.Sort(ep.HeaderNames)
}

// verify runs the ownership challenge and stores the outcome: active when
// it was answered, pending with the reason otherwise. Only a storage
// failure is an error.
func (s *Service) verify(ctx context.Context, ep *hookrun.Endpoint, sec hookrun.EndpointSecret) error {
	now := s.now()
	failed := s.challenge.Challenge(ctx, *ep, sec)
	if failed != nil {
		ep.SetStatus(hookrun.EndpointPending, now)
		ep.VerificationError = failed.Error()
	} else {
		ep.SetStatus(hookrun.EndpointActive, now)
		ep.VerificationError, ep.DisabledReason = "", ""
	}
	httpapi.AddLogAttrs(ctx, slog.String("endpoint_status", string(ep.Status)))
	if err := s.store.UpdateEndpoint(context.WithoutCancel(ctx), *ep); err != nil {
		return err
	}
	if failed != nil {
		s.notify(ctx, hookrun.NewEndpointVerificationFailed(*ep, ep.VerificationError, now))
	}
	return nil
}

// currentSecret reads an endpoint's current secret payload.
func (s *Service) currentSecret(ctx context.Context, ep hookrun.Endpoint) (hookrun.EndpointSecret, error) {
	payload, err := s.secrets.Access(ctx, ep.SecretVersion)
	if err != nil {
		return hookrun.EndpointSecret{}, secretsFailure(err, "could not read the endpoint's secret; retry")
	}
	sec, err := hookrun.ParseEndpointSecret(payload)
	if err != nil {
		return hookrun.EndpointSecret{}, fmt.Errorf("endpoint %s: %w", ep.ID, err)
	}
	return sec, nil
}

// saveSecret stores sec as the endpoint's new current version.
func (s *Service) saveSecret(ctx context.Context, ep *hookrun.Endpoint, sec hookrun.EndpointSecret) error {
	payload, err := sec.Payload()
	if err != nil {
		return err
	}
	v, err := s.secrets.AddVersion(ctx, endpointSecretID(ep.TenantID, ep.ID), payload)
	if err != nil {
		return secretsFailure(err, "could not store the endpoint's secret; retry")
	}
	ep.SecretVersion = v
	return nil
}

// retirePrevious disables the previous secret version once its grace
// period is over (or when a new rotation supersedes it).
func (s *Service) retirePrevious(ctx context.Context, ep *hookrun.Endpoint, force bool) {
	if ep.PreviousSecretVersion == "" || (!force && s.now().Before(ep.PreviousSecretUntil)) {
		return
	}
	if err := s.secrets.DisableVersion(ctx, ep.PreviousSecretVersion); err != nil {
		slog.ErrorContext(ctx, "disable previous secret version; it no longer signs anyway", "endpoint_id", ep.ID, "error", err.Error())
		return
	}
	ep.PreviousSecretVersion, ep.PreviousSecretUntil = "", time.Time{}
}

// patchEndpoint handles PATCH /v1/tenants/{tenant}/endpoints/{endpoint}.
func (s *Service) patchEndpoint(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req patchEndpointRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	ep, err := s.changeEndpoint(r.Context(), t, r.PathValue("endpoint"), req, s.callerName(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, ep)
	return nil
}

// changeEndpoint applies req to an endpoint of tenant t, for the API and
// the portal alike; by names who asked, for the reason of a disable.
func (s *Service) changeEndpoint(ctx context.Context, t hookrun.Tenant, endpointID string, req patchEndpointRequest, by string) (hookrun.Endpoint, error) {
	ep, err := s.store.GetEndpoint(ctx, t.ID, endpointID)
	if err != nil {
		return hookrun.Endpoint{}, err
	}
	if req.Enabled != nil && !*req.Enabled {
		req.DisabledBy = by
	}
	was, changed := ep, s.now()
	next, err := ep.Apply(req.EndpointUpdate, hookrun.URLPolicy{AllowHTTP: s.cfg.AllowHTTPEndpoints}, changed)
	if err != nil {
		return hookrun.Endpoint{}, err
	}
	if req.EventTypes != nil {
		if err := s.checkSubscription(ctx, t.ID, next.EventTypes); err != nil {
			return hookrun.Endpoint{}, err
		}
	}
	urlChanged := next.URL != ep.URL
	ep = next
	var sec hookrun.EndpointSecret
	if req.Auth != nil || req.Headers != nil || urlChanged {
		if sec, err = s.currentSecret(ctx, ep); err != nil {
			return hookrun.Endpoint{}, err
		}
	}
	if req.Auth != nil || req.Headers != nil {
		if req.Auth != nil {
			sec.Auth = *req.Auth
		}
		if req.Headers != nil {
			sec.Headers = *req.Headers
		}
		if err := sec.Validate(); err != nil {
			return hookrun.Endpoint{}, err
		}
		if err := s.saveSecret(ctx, &ep, sec); err != nil {
			return hookrun.Endpoint{}, err
		}
		describeCredentials(&ep, sec)
	}
	s.retirePrevious(ctx, &ep, false)

	if urlChanged && ep.Status == hookrun.EndpointPending {
		// A new URL must prove its ownership again before it gets events.
		if err := s.verify(ctx, &ep, sec); err != nil {
			return hookrun.Endpoint{}, err
		}
	} else if err := s.store.UpdateEndpoint(ctx, ep); err != nil {
		return hookrun.Endpoint{}, err
	}
	s.statusChanged(ctx, was, ep, changed)
	httpapi.AddLogAttrs(ctx, slog.String("endpoint_id", ep.ID))
	return ep, nil
}

// endpointAction handles POST /v1/tenants/{tenant}/endpoints/{endpoint}:verify,
// which runs the ownership challenge again.
func (s *Service) endpointAction(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id, action := splitAction(r.PathValue("endpoint"))
	if action != "verify" {
		return hookrun.Errorf(hookrun.CodeNotFound, "no route for POST %s: the action is :verify", r.URL.Path)
	}
	ep, err := s.reverify(r.Context(), t, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, ep)
	return nil
}

// reverify runs an endpoint's ownership challenge again, for the API and
// the portal alike; a disabled endpoint must be enabled first.
func (s *Service) reverify(ctx context.Context, t hookrun.Tenant, endpointID string) (hookrun.Endpoint, error) {
	ep, err := s.store.GetEndpoint(ctx, t.ID, endpointID)
	if err != nil {
		return hookrun.Endpoint{}, err
	}
	if ep.Status == hookrun.EndpointDisabled {
		return hookrun.Endpoint{}, hookrun.Errorf(hookrun.CodeFailedPrecondition, "endpoint %q is disabled (%s): enable it with PATCH {\"enabled\":true}", ep.ID, ep.DisabledReason)
	}
	sec, err := s.currentSecret(ctx, ep)
	if err != nil {
		return hookrun.Endpoint{}, err
	}
	if err := s.verify(ctx, &ep, sec); err != nil {
		return hookrun.Endpoint{}, err
	}
	return ep, nil
}

type rotateRequest struct {
	// GracePeriod is how long the old secret keeps signing; default from
	// the configuration (24h), at most 7 days, 0s to stop it at once.
	GracePeriod *hookrun.Duration `json:"grace_period"`
}

type rotateResponse struct {
	hookrun.Endpoint
	// Secret is the new signing secret, shown once.
	Secret string `json:"secret"`
}

// rotateSecret handles POST …/endpoints/{endpoint}/secret:rotate: a new
// signing secret becomes current; the old one keeps signing beside it until
// the grace period ends, so receivers can switch without losing a webhook.
func (s *Service) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req rotateRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	resp, err := s.rotate(r.Context(), t, r.PathValue("endpoint"), req.GracePeriod)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// rotate makes a new signing secret current, for the API and the portal
// alike; the old one keeps signing for grace (nil: Config.RotationGrace).
func (s *Service) rotate(ctx context.Context, t hookrun.Tenant, endpointID string, gracePeriod *hookrun.Duration) (rotateResponse, error) {
	grace := s.cfg.RotationGrace
	if gracePeriod != nil {
		if err := hookrun.ValidateGracePeriod(*gracePeriod); err != nil {
			return rotateResponse{}, err
		}
		grace = time.Duration(*gracePeriod)
	}
	ep, err := s.store.GetEndpoint(ctx, t.ID, endpointID)
	if err != nil {
		return rotateResponse{}, err
	}
	sec, err := s.currentSecret(ctx, ep)
	if err != nil {
		return rotateResponse{}, err
	}
	// A rotation during another's grace period retires the oldest secret.
	s.retirePrevious(ctx, &ep, true)
	old := ep.SecretVersion
	sec.SigningSecret = signature.NewSecret()
	if err := s.saveSecret(ctx, &ep, sec); err != nil {
		return rotateResponse{}, err
	}
	ep.PreviousSecretVersion, ep.PreviousSecretUntil = old, s.now().Add(grace).UTC()
	if grace == 0 {
		s.retirePrevious(ctx, &ep, true)
	} else if err := s.scheduleRetirement(ctx, ep); err != nil {
		// Before the endpoint is saved: a retry rotates afresh, and the
		// task of a rotation that was never saved finds its version still
		// current and leaves it alone.
		return rotateResponse{}, err
	}
	if err := s.store.UpdateEndpoint(ctx, ep); err != nil {
		return rotateResponse{}, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("endpoint_id", ep.ID))
	return rotateResponse{Endpoint: ep, Secret: sec.SigningSecret}, nil
}

// scheduleRetirement asks for the endpoint's previous secret version to be
// disabled when its grace period ends.
func (s *Service) scheduleRetirement(ctx context.Context, ep hookrun.Endpoint) error {
	if s.retirer == nil {
		return nil
	}
	body, err := json.Marshal(wire.RetireSecretTask{TenantID: ep.TenantID, EndpointID: ep.ID, Version: ep.PreviousSecretVersion, At: ep.PreviousSecretUntil})
	if err != nil {
		return err
	}
	if err := s.retirer.Schedule(ctx, hookrun.RetireTaskID(ep.PreviousSecretVersion), ep.PreviousSecretUntil, body); err != nil {
		return hookrun.WrapError(hookrun.CodeUnavailable, err, "could not schedule the end of the grace period; retry the rotation")
	}
	return nil
}

// callerName says who made an authenticated request, for the record of
// who disabled what: the operator's admin token, or the tenant's API key
// (never the key itself).
func (s *Service) callerName(r *http.Request) string {
	if c, err := s.authenticate(r); err == nil && c.admin {
		return "the admin"
	}
	return "the tenant"
}
