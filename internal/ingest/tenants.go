package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

func (s *Service) tenantRoutes() []route {
	return []route{
		{"POST /v1/tenants", s.createTenant},
		{"GET /v1/tenants", s.listTenants},
		{"GET /v1/tenants/{tenant}", s.getTenant},
		{"PATCH /v1/tenants/{tenant}", s.updateTenant},
		{"DELETE /v1/tenants/{tenant}", s.deleteTenant},
		{"GET /v1/tenants/{tenant}/deletion", s.getTenantDeletion},
		{"POST /v1/tenants/{tenant}/api-keys", s.createAPIKey},
		{"GET /v1/tenants/{tenant}/api-keys", s.listAPIKeys},
		{"DELETE /v1/tenants/{tenant}/api-keys/{key}", s.revokeAPIKey},
	}
}

// TenantStore keeps tenants and their API keys.
type TenantStore interface {
	// CreateTenantWithKey stores t and its first API key together, or
	// neither.
	CreateTenantWithKey(ctx context.Context, t hookrun.Tenant, k hookrun.APIKey) error
	// GetTenant returns a tenant whatever its status.
	GetTenant(ctx context.Context, id string) (hookrun.Tenant, error)
	// ListTenants returns a page of tenants in ID order and the next
	// page's token ("" at the end).
	ListTenants(ctx context.Context, pageSize int, token string) ([]hookrun.Tenant, string, error)
	// UpdateTenant stores what apply makes of tenant id, atomically (read,
	// apply, write), and returns it. apply may run more than once and
	// its error is returned as it is.
	UpdateTenant(ctx context.Context, id string, apply func(hookrun.Tenant) (hookrun.Tenant, error)) (hookrun.Tenant, error)
	// DeleteTenantData deletes the records of a tenant marked deleting,
	// its document last, stopping after about limit documents (limit <= 0:
	// no bound), and returns how many it deleted. done reports that
	// nothing is left; calling it again continues where it stopped. A
	// tenant that is not deleting is CodeFailedPrecondition, one that is
	// gone is done.
	DeleteTenantData(ctx context.Context, tenantID string, limit int) (deleted int, done bool, err error)
	// GetTenantDeletion returns the record of a tenant's deletion, which
	// outlives the tenant (CodeNotFound: never deleted).
	GetTenantDeletion(ctx context.Context, tenantID string) (hookrun.TenantDeletion, error)
	// UpdateTenantDeletion stores what apply makes of the record of a
	// tenant's deletion (the zero record when there is none), atomically.
	UpdateTenantDeletion(ctx context.Context, tenantID string, apply func(hookrun.TenantDeletion) hookrun.TenantDeletion) (hookrun.TenantDeletion, error)

	// CountEndpoints returns how many endpoints a tenant has, for its
	// max_endpoints limit.
	CountEndpoints(ctx context.Context, tenantID string) (int, error)

	// TenantForKey returns the tenant an API key hash belongs to; an
	// unknown or revoked key is CodeNotFound.
	TenantForKey(ctx context.Context, keyHash string) (string, error)
	// CreateAPIKey stores a new key of an existing tenant that is not being
	// deleted (CodeFailedPrecondition).
	CreateAPIKey(ctx context.Context, k hookrun.APIKey) error
	// ListAPIKeys returns a tenant's keys, revoked ones included, oldest
	// first.
	ListAPIKeys(ctx context.Context, tenantID string) ([]hookrun.APIKey, error)
	// RevokeAPIKey marks a tenant's key revoked (once; a revoked key keeps
	// its revoke time) and returns it with its hash.
	RevokeAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) (hookrun.APIKey, error)
}

type createTenantRequest struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	RetryPolicy hookrun.RetryPolicy  `json:"retry_policy"`
	Limits      hookrun.TenantLimits `json:"limits"`
}

type createTenantResponse struct {
	hookrun.Tenant
	// APIKey is shown once: only its hash is stored.
	APIKey string `json:"api_key"`
	// APIKeyID names the key in …/api-keys, to revoke it.
	APIKeyID string `json:"api_key_id"`
}

func (s *Service) createTenant(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "create tenants"); err != nil {
		return err
	}
	var req createTenantRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	created, err := s.newTenant(r.Context(), req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

// newTenant validates req and stores the tenant with its first API key:
// what POST /v1/tenants and the console's create form both do.
func (s *Service) newTenant(ctx context.Context, req createTenantRequest) (createTenantResponse, error) {
	t, err := hookrun.NewTenant(req.ID, req.Name, s.now())
	if err != nil {
		return createTenantResponse{}, err
	}
	if err := req.RetryPolicy.Validate(); err != nil {
		return createTenantResponse{}, err
	}
	t.RetryPolicy = req.RetryPolicy
	if err := req.Limits.Validate(); err != nil {
		return createTenantResponse{}, err
	}
	t.Limits = req.Limits
	key, k, err := hookrun.NewTenantAPIKey(t.ID, "created with the tenant", t.CreatedAt)
	if err != nil {
		return createTenantResponse{}, err
	}
	if err := s.store.CreateTenantWithKey(ctx, t, k); err != nil {
		return createTenantResponse{}, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("tenant_id", t.ID), slog.String("api_key_id", k.ID))
	return createTenantResponse{Tenant: t, APIKey: key, APIKeyID: k.ID}, nil
}

type listTenantsResponse struct {
	Tenants       []hookrun.Tenant `json:"tenants"`
	NextPageToken string           `json:"next_page_token,omitempty"`
}

// listTenants handles GET /v1/tenants (admin): every tenant, deleting ones
// included, in ID order, paged.
func (s *Service) listTenants(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeAdmin(r, "list tenants"); err != nil {
		return err
	}
	q := r.URL.Query()
	size, err := pageSize(q.Get("page_size"))
	if err != nil {
		return err
	}
	ts, next, err := s.store.ListTenants(r.Context(), size, q.Get("page_token"))
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []hookrun.Tenant{}
	}
	httpapi.WriteJSON(w, http.StatusOK, listTenantsResponse{Tenants: ts, NextPageToken: next})
	return nil
}

// getTenant handles GET /v1/tenants/{tenant}. It reads the store, not the
// cache, so a deletion in progress shows as status "deleting" until the
// tenant is gone (then 404).
func (s *Service) getTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	if err := s.authorizeTenant(r, id); err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", id))
	if hookrun.ValidateTenantID(id) != nil {
		return errTenantNotFound(id)
	}
	t, err := s.store.GetTenant(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

// updateTenant handles PATCH /v1/tenants/{tenant}: absent fields stay as
// they are. A tenant's own key may change its name and default retry
// policy; status, disabled_reason and limits are the operator's (admin
// token).
func (s *Service) updateTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	c, err := s.authorizeTenantCaller(r, id)
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", id))
	if hookrun.ValidateTenantID(id) != nil {
		return errTenantNotFound(id)
	}
	var u hookrun.TenantUpdate
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &u); err != nil {
		return err
	}
	if !c.admin {
		switch {
		case u.Status != nil:
			return hookrun.Errorf(hookrun.CodePermissionDenied, "status: only the admin token may enable or disable a tenant")
		case u.DisabledReason != nil:
			return hookrun.Errorf(hookrun.CodePermissionDenied, "disabled_reason: only the admin token may set it")
		case u.Limits != nil:
			return hookrun.Errorf(hookrun.CodePermissionDenied, "limits: only the admin token may set a tenant's limits")
		}
	}
	t, err := s.changeTenant(r.Context(), id, u)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

// changeTenant applies u to tenant id (hookrun.Tenant.Apply holds the
// rules): what PATCH /v1/tenants/{tenant} and the console's forms do once
// the caller may make the change.
func (s *Service) changeTenant(ctx context.Context, id string, u hookrun.TenantUpdate) (hookrun.Tenant, error) {
	now := s.now()
	t, err := s.store.UpdateTenant(ctx, id, func(t hookrun.Tenant) (hookrun.Tenant, error) { return t.Apply(u, now) })
	if err != nil {
		return hookrun.Tenant{}, err
	}
	// This instance sees the change at once, new limits included (the
	// next event rebuilds the tenant's rate limiter); others within
	// KeyCacheTTL.
	s.tenants.Delete(id)
	if u.Status != nil {
		httpapi.AddLogAttrs(ctx, slog.String("tenant_status", string(t.Status)))
	}
	if u.Limits != nil {
		httpapi.AddLogAttrs(ctx, slog.Int("max_endpoints", t.Limits.MaxEndpoints), slog.Int("max_events_per_second", t.Limits.MaxEventsPerSecond))
	}
	return t, nil
}

// tenant returns a tenant's record, cached briefly, for the routes that
// act on it. A tenant being deleted is refused: its events and API calls
// stop as soon as DELETE is called (on other instances within
// KeyCacheTTL).
func (s *Service) tenant(ctx context.Context, id string) (hookrun.Tenant, error) {
	t, err := s.tenants.Get(ctx, id, func(ctx context.Context) (hookrun.Tenant, error) {
		return s.store.GetTenant(ctx, id)
	})
	if err != nil {
		return hookrun.Tenant{}, err
	}
	if t.Deleting() {
		return hookrun.Tenant{}, errTenantDeleting(id)
	}
	return t, nil
}

// errTenantNotFound answers for a path ID that cannot be a tenant's, the
// way the store answers for one that is not.
func errTenantNotFound(id string) error {
	return hookrun.Errorf(hookrun.CodeNotFound, "tenant %q not found", id)
}

func errTenantDeleting(id string) error {
	return hookrun.Errorf(hookrun.CodeFailedPrecondition, "tenant %q is being deleted: GET /v1/tenants/%s says when it is gone", id, id)
}

// syncDeleteBudget is how many documents DELETE /v1/tenants/{tenant}
// deletes before it answers. A tenant that small is gone when DELETE
// returns 204; a larger one is answered 202 while the rest goes on.
const syncDeleteBudget = 500

// backgroundDeleteTimeout bounds a deletion that goes on after its
// answer; what is left after it is finished by DELETE again.
const backgroundDeleteTimeout = time.Hour

// deleteTenant handles DELETE /v1/tenants/{tenant} (admin): the tenant,
// its API keys, endpoints with their secrets, events, deliveries and
// rejected messages.
//
// On Cloud Run an instance has CPU only while it serves a request (unless
// CPU is always allocated) and may be stopped at any time, so work after
// the answer is slow at best and may never finish. Hence:
//   - The tenant is first marked "deleting", durably: its events and API
//     calls are refused from then on (on other instances within
//     KeyCacheTTL), and GET /v1/tenants/{tenant} says "deleting".
//   - Each DELETE deletes up to syncDeleteBudget documents before it
//     answers: a small tenant is gone at 204, and a client that repeats
//     DELETE makes progress with every call while it holds the CPU.
//   - What is left goes on in a goroutine (not tied to the request) and
//     the answer is 202 with the tenant, status "deleting".
//   - Every step is idempotent, so DELETE again resumes a deletion that
//     an instance shutdown or an error interrupted. GET answers 404 once
//     the tenant is gone; DELETE does too.
//   - GET /v1/tenants/{tenant}/deletion follows it: running, then done
//     (or failed, until DELETE again), with the documents deleted so far.
func (s *Service) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("tenant")
	if err := s.authorizeAdmin(r, "delete tenants"); err != nil {
		return err
	}
	httpapi.AddLogAttrs(ctx, slog.String("tenant_id", id))
	if hookrun.ValidateTenantID(id) != nil {
		return errTenantNotFound(id)
	}
	now := s.now()
	t, err := s.store.UpdateTenant(ctx, id, func(t hookrun.Tenant) (hookrun.Tenant, error) { return t.MarkDeleting(now), nil })
	if err != nil {
		return err
	}
	s.tenants.Delete(id)
	s.eventRates.forget(id)
	if _, err := s.store.UpdateTenantDeletion(ctx, id, func(d hookrun.TenantDeletion) hookrun.TenantDeletion { return d.Resumed(id, now) }); err != nil {
		return err
	}
	if _, running := s.purges.Load(id); !running {
		// Bounded by the budget, the work is not cut short by a client
		// that stops waiting.
		done, err := s.purgeTenant(context.WithoutCancel(ctx), id, syncDeleteBudget)
		if err != nil {
			return err
		}
		if done {
			slog.InfoContext(ctx, "tenant deleted", "tenant_id", id)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		s.purgeInBackground(ctx, id)
	}
	httpapi.WriteJSON(w, http.StatusAccepted, t)
	return nil
}

// purgeTenant deletes the secrets of a deleting tenant's endpoints, then
// up to limit of its documents (limit <= 0: all), and reports whether the
// tenant is gone. Secrets go first: once an endpoint's document is gone
// nothing names its secret any more.
func (s *Service) purgeTenant(ctx context.Context, id string, limit int) (bool, error) {
	eps, err := s.store.ListEndpoints(ctx, id)
	if err != nil {
		s.recordDeletion(ctx, id, 0, false, err)
		return false, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, ep := range eps {
		g.Go(func() error { return s.secrets.Delete(gctx, endpointSecretID(id, ep.ID)) })
	}
	if err := g.Wait(); err != nil {
		s.recordDeletion(ctx, id, 0, false, err)
		return false, hookrun.WrapError(hookrun.CodeUnavailable, err, "could not delete the secrets of the tenant's endpoints; DELETE again to continue")
	}
	deleted, done, err := s.store.DeleteTenantData(ctx, id, limit)
	s.recordDeletion(ctx, id, deleted, done, err)
	return done, err
}

// deletionStopped is a failed deletion's error as its record shows it:
// the dependency's own error is logged, not shown.
const deletionStopped = "the deletion stopped on an error; DELETE the tenant again to resume it"

// recordDeletion adds a purge step's outcome to the record of the
// tenant's deletion: deleted more documents, and done or failed (err). A
// step that is neither leaves it running. Failing to record is logged:
// the deletion itself went on, and the next step records again.
func (s *Service) recordDeletion(ctx context.Context, id string, deleted int, done bool, stepErr error) {
	now := s.now()
	_, err := s.store.UpdateTenantDeletion(context.WithoutCancel(ctx), id, func(d hookrun.TenantDeletion) hookrun.TenantDeletion {
		d = d.Progressed(deleted)
		switch {
		case stepErr != nil:
			d = d.Finished(now, deletionStopped)
		case done:
			d = d.Finished(now, "")
		}
		return d
	})
	if err != nil {
		slog.ErrorContext(ctx, "record the progress of a tenant's deletion", "tenant_id", id, "error", err.Error())
	}
}

// tenantDeletionJSON is a deletion as GET …/deletion shows it, shaped
// like Google's long-running operations: a resource name, and done once
// it ended (failed: until DELETE again resumes it).
type tenantDeletionJSON struct {
	Name string `json:"name"`
	Done bool   `json:"done"`
	hookrun.TenantDeletion
}

// getTenantDeletion handles GET /v1/tenants/{tenant}/deletion (admin):
// the state of the tenant's deletion, also after the tenant is gone (for
// hookrun.TenantDeletionRetention). A tenant never deleted is not found.
func (s *Service) getTenantDeletion(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	if err := s.authorizeAdmin(r, "read tenant deletions"); err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", id))
	if hookrun.ValidateTenantID(id) != nil {
		return errTenantNotFound(id)
	}
	d, err := s.store.GetTenantDeletion(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, tenantDeletionJSON{Name: "tenants/" + id + "/deletion", Done: d.Done(), TenantDeletion: d})
	return nil
}

// purgeInBackground finishes a tenant's deletion after the answer, unless
// this process already is. Failing, the tenant stays "deleting" for a
// repeated DELETE to finish.
func (s *Service) purgeInBackground(ctx context.Context, id string) {
	key := id
	if _, running := s.purges.LoadOrStore(key, struct{}{}); running {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundDeleteTimeout)
	go func() {
		defer cancel()
		defer s.purges.Delete(key)
		done, err := s.purgeTenant(ctx, id, 0)
		switch {
		case err != nil:
			slog.ErrorContext(ctx, "delete tenant in the background; DELETE it again to resume", "tenant_id", id, "error", err.Error())
		case !done:
			slog.ErrorContext(ctx, "tenant deletion stopped before the end; DELETE it again to resume", "tenant_id", id)
		default:
			slog.InfoContext(ctx, "tenant deleted", "tenant_id", id)
		}
	}()
}
