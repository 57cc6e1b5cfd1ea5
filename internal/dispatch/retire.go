package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

// retireSecret handles POST /tasks/retire-secret: once the grace period of
// a rotation is over, the old signing secret's version is disabled in
// Secret Manager and forgotten by the endpoint. A version that is no longer
// the endpoint's previous one (a later rotation retired it) is disabled
// all the same; an endpoint that is gone took its secret with it.
func (s *Service) retireSecret(w http.ResponseWriter, r *http.Request) {
	if !s.authenticated(w, r, s.deps.TaskVerifier) {
		return
	}
	var t wire.RetireSecretTask
	if err := httpapi.DecodeJSONLenient(w, r, 1<<16, &t); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if t.TenantID == "" || t.EndpointID == "" || t.Version == "" {
		httpapi.WriteError(w, r, hookrun.Errorf(hookrun.CodeInvalidArgument, "task needs tenant_id, endpoint_id and version"))
		return
	}
	if err := s.retire(r.Context(), t); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) retire(ctx context.Context, t wire.RetireSecretTask) error {
	if wait := t.At.Sub(s.now()); wait > 0 {
		// Early (clock skew or a manual run): Cloud Tasks retries 5xx.
		return hookrun.Errorf(hookrun.CodeUnavailable, "grace period ends in %v", wait.Round(time.Second))
	}
	ep, err := s.store.GetEndpoint(ctx, t.TenantID, t.EndpointID)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if t.Version == ep.SecretVersion {
		return nil // never disable the current secret
	}
	if ep.PreviousSecretVersion == t.Version && s.now().Before(ep.PreviousSecretUntil) {
		return nil // the grace period was extended by a later change; its own task retires it
	}
	if err := s.secrets.DisableVersion(ctx, t.Version); err != nil {
		return fmt.Errorf("disable secret version: %w", err)
	}
	if _, err := s.store.ClearPreviousSecret(ctx, t.TenantID, t.EndpointID, t.Version); err != nil {
		return err
	}
	s.endpoints.Delete(t.TenantID)
	slog.InfoContext(ctx, "previous signing secret retired", "tenant_id", t.TenantID, "endpoint_id", t.EndpointID)
	_ = s.notify(ctx, hookrun.NewSecretRotationEnded(t.TenantID, t.EndpointID, t.Version, t.At))
	return nil
}
