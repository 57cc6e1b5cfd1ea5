package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/signature"
)

func (s *Service) endpointRoutes() []route {
	return []route{
		{"POST /v1/tenants/{tenant}/endpoints", s.createEndpoint},
		{"GET /v1/tenants/{tenant}/endpoints", s.listEndpoints},
		{"GET /v1/tenants/{tenant}/endpoints/{endpoint}", s.getEndpoint},
		{"DELETE /v1/tenants/{tenant}/endpoints/{endpoint}", s.deleteEndpoint},
		{"PATCH /v1/tenants/{tenant}/endpoints/{endpoint}", s.patchEndpoint},
		{"POST /v1/tenants/{tenant}/endpoints/{endpoint}", s.endpointAction},
		{"POST /v1/tenants/{tenant}/endpoints/{endpoint}/secret:rotate", s.rotateSecret},
	}
}

// EndpointStore keeps endpoints.
type EndpointStore interface {
	CreateEndpoint(ctx context.Context, e hookrun.Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, endpointID string) (hookrun.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string) ([]hookrun.Endpoint, error)
	DeleteEndpoint(ctx context.Context, tenantID, endpointID string) error
	// UpdateEndpoint replaces a stored endpoint; a missing one is
	// CodeNotFound.
	UpdateEndpoint(ctx context.Context, e hookrun.Endpoint) error
}

type createEndpointRequest struct {
	URL           string                    `json:"url"`
	EventTypes    []string                  `json:"event_types"`
	Description   string                    `json:"description"`
	RetryPolicy   hookrun.RetryPolicy       `json:"retry_policy"`
	OnClientError hookrun.ClientErrorAction `json:"on_client_error"`
	Timeout       hookrun.Duration          `json:"timeout"`
	RateLimit     int                       `json:"rate_limit"`
	// PropagateTrace: see hookrun.Endpoint.PropagateTrace.
	PropagateTrace bool                 `json:"propagate_trace"`
	Auth           hookrun.EndpointAuth `json:"auth"`
	Headers        map[string]string    `json:"headers"`
}

type createEndpointResponse struct {
	hookrun.Endpoint
	// Secret is the signing secret, shown once.
	Secret string `json:"secret"`
}

// endpointSecretID names the Secret Manager secret of an endpoint. Both
// parts are validated IDs, so the name is within Secret Manager's alphabet.
func endpointSecretID(tenantID, endpointID string) string {
	return "hookrun-" + tenantID + "-" + endpointID
}

// secretsFailure is a failed Secrets call as the caller sees it. Only an
// outage is worth retrying: it is a 503 with msg. An error the adapter
// coded (Secret Manager refusing the request, which no retry changes) is
// answered as it is.
func secretsFailure(err error, msg string) error {
	var coded *hookrun.Error
	if errors.As(err, &coded) {
		return err
	}
	return hookrun.WrapError(hookrun.CodeUnavailable, err, msg)
}

// tenantRoute authorizes the caller for the {tenant} of the path and checks
// that the tenant exists.
func (s *Service) tenantRoute(r *http.Request) (hookrun.Tenant, error) {
	id := r.PathValue("tenant")
	if err := s.authorizeTenant(r, id); err != nil {
		return hookrun.Tenant{}, err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", id))
	return s.tenant(r.Context(), id)
}

func (s *Service) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req createEndpointRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	created, err := s.addEndpoint(r.Context(), t, req)
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("endpoint_id", created.ID))
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

// addEndpoint creates an endpoint of tenant t, for the API and the portal
// alike: it stores its secret, then runs the ownership challenge. The
// endpoint is pending until it answers; a failed challenge is not an error
// (:verify retries it).
func (s *Service) addEndpoint(ctx context.Context, t hookrun.Tenant, req createEndpointRequest) (createEndpointResponse, error) {
	ep, err := hookrun.NewEndpoint(t.ID, hookrun.EndpointInput{
		URL: req.URL, EventTypes: req.EventTypes, Description: req.Description,
		RetryPolicy: req.RetryPolicy, OnClientError: req.OnClientError, Timeout: req.Timeout, RateLimit: req.RateLimit,
		PropagateTrace: req.PropagateTrace,
	},
		hookrun.URLPolicy{AllowHTTP: s.cfg.AllowHTTPEndpoints}, s.now())
	if err != nil {
		return createEndpointResponse{}, err
	}
	if err := s.checkSubscription(ctx, t.ID, ep.EventTypes); err != nil {
		return createEndpointResponse{}, err
	}
	if err := s.checkEndpointLimit(ctx, t); err != nil {
		return createEndpointResponse{}, err
	}
	sec := hookrun.EndpointSecret{SigningSecret: signature.NewSecret(), Auth: req.Auth, Headers: req.Headers}
	if err := sec.Validate(); err != nil {
		return createEndpointResponse{}, err
	}
	describeCredentials(&ep, sec)
	ep.Status = hookrun.EndpointPending
	payload, err := sec.Payload()
	if err != nil {
		return createEndpointResponse{}, err
	}
	secretID := endpointSecretID(t.ID, ep.ID)
	if ep.SecretVersion, err = s.secrets.Create(ctx, secretID, payload); err != nil {
		return createEndpointResponse{}, secretsFailure(err, "could not store the endpoint's secret; retry")
	}
	if err := s.store.CreateEndpoint(ctx, ep); err != nil {
		// The cleanup must not depend on the client still waiting.
		if derr := s.secrets.Delete(context.WithoutCancel(ctx), secretID); derr != nil {
			slog.ErrorContext(ctx, "delete secret of endpoint that was not created", "secret_id", secretID, "error", derr.Error())
		}
		return createEndpointResponse{}, err
	}
	if err := s.verify(ctx, &ep, sec); err != nil {
		return createEndpointResponse{}, err
	}
	return createEndpointResponse{Endpoint: ep, Secret: sec.SigningSecret}, nil
}

type listEndpointsResponse struct {
	Endpoints []hookrun.Endpoint `json:"endpoints"`
}

func (s *Service) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	eps, err := s.store.ListEndpoints(r.Context(), t.ID)
	if err != nil {
		return err
	}
	if eps == nil {
		eps = []hookrun.Endpoint{}
	}
	httpapi.WriteJSON(w, http.StatusOK, listEndpointsResponse{Endpoints: eps})
	return nil
}

func (s *Service) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	ep, err := s.store.GetEndpoint(r.Context(), t.ID, r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, ep)
	return nil
}

func (s *Service) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id := r.PathValue("endpoint")
	if err := s.store.DeleteEndpoint(r.Context(), t.ID, id); err != nil {
		return err
	}
	// The endpoint is gone for the dispatcher once its document is; a secret
	// left behind by a failure here is unreferenced and harmless, so the
	// delete still succeeds for the caller.
	if err := s.secrets.Delete(context.WithoutCancel(r.Context()), endpointSecretID(t.ID, id)); err != nil {
		slog.ErrorContext(r.Context(), "delete endpoint secret", "endpoint_id", id, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
