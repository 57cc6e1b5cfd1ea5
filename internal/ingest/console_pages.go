package ingest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The console's pages: tenants (list, create, disable or enable, limits,
// open their portal), rejected messages, and a system view. Each action
// calls what the admin API's handler for it calls (newTenant,
// changeTenant, newPortalLink, the store's ListRejected).

// consolePageSize is how many tenants or rejected messages a page lists.
const consolePageSize = 50

// tenantsView is the Tenants page's data.
type tenantsView struct {
	consoleView
	Tenants []hookrun.Tenant
	// Next is the next page's token ("" on the last page).
	Next string
	// Created is the tenant just created, with its API key shown once.
	Created *createTenantResponse
	// ID and Name are what the create form was given, kept on a refusal.
	ID, Name string
}

// consoleTenants handles GET /console/tenants?page_token=….
func (s *Service) consoleTenants(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	return s.renderTenants(w, r, cr, http.StatusOK, tenantsView{})
}

func (s *Service) renderTenants(w http.ResponseWriter, r *http.Request, cr consoleRequest, status int, v tenantsView) error {
	ts, next, err := s.store.ListTenants(r.Context(), consolePageSize, r.URL.Query().Get("page_token"))
	if err != nil {
		return err
	}
	v.Title, v.CSRF, v.Tenants, v.Next = "Tenants", cr.csrf, ts, next
	s.renderConsole(w, r, status, "tenants", v)
	return nil
}

// consoleCreateTenant handles the create form. The answer is the page
// itself, not a redirect, so the new API key shows once and in no URL.
func (s *Service) consoleCreateTenant(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	req := createTenantRequest{ID: strings.TrimSpace(r.PostFormValue("id")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	created, err := s.newTenant(r.Context(), req)
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		v := tenantsView{ID: req.ID, Name: req.Name}
		v.Error = hookrun.ErrorMessage(err)
		return s.renderTenants(w, r, cr, status, v)
	}
	if err != nil {
		return err
	}
	return s.renderTenants(w, r, cr, http.StatusCreated, tenantsView{Created: &created})
}

// tenantView is one tenant's page: its status and limits, with forms.
type tenantView struct {
	consoleView
	Tenant hookrun.Tenant
}

// consoleTenant handles GET /console/tenants/{tenant}.
func (s *Service) consoleTenant(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	t, err := s.consoleTenantOf(r)
	if err != nil {
		return err
	}
	s.renderConsole(w, r, http.StatusOK, "tenant", tenantView{consoleView{Title: "Tenant " + t.ID, CSRF: cr.csrf}, t})
	return nil
}

// consoleTenantOf reads the tenant of the URL from the store (not the
// cache: the operator sees what was just changed).
func (s *Service) consoleTenantOf(r *http.Request) (hookrun.Tenant, error) {
	id := r.PathValue("tenant")
	if hookrun.ValidateTenantID(id) != nil {
		return hookrun.Tenant{}, errTenantNotFound(id)
	}
	return s.store.GetTenant(r.Context(), id)
}

// consoleSetStatus handles the disable (with a reason) and enable forms.
func (s *Service) consoleSetStatus(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	status := hookrun.TenantStatus(r.PostFormValue("status"))
	u := hookrun.TenantUpdate{Status: &status}
	if status == hookrun.TenantDisabled {
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		u.DisabledReason = &reason
	}
	return s.consoleUpdate(w, r, cr, u)
}

// consoleSetLimits handles the limits form; an empty field is no limit.
func (s *Service) consoleSetLimits(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	var l hookrun.TenantLimits
	for _, f := range []struct {
		name string
		dst  *int
	}{{"max_endpoints", &l.MaxEndpoints}, {"max_events_per_second", &l.MaxEventsPerSecond}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return s.renderTenantRefusal(w, r, cr, hookrun.Errorf(hookrun.CodeInvalidArgument, "limits.%s: a whole number", f.name))
		}
		*f.dst = n
	}
	return s.consoleUpdate(w, r, cr, hookrun.TenantUpdate{Limits: &l})
}

// consoleUpdate applies u, then shows the tenant again (a redirect, so a
// reload does not post twice); a refusal shows the page with its reason.
func (s *Service) consoleUpdate(w http.ResponseWriter, r *http.Request, cr consoleRequest, u hookrun.TenantUpdate) error {
	id := r.PathValue("tenant")
	if hookrun.ValidateTenantID(id) != nil {
		return errTenantNotFound(id)
	}
	if _, err := s.changeTenant(r.Context(), id, u); err != nil {
		return s.renderTenantRefusal(w, r, cr, err)
	}
	http.Redirect(w, r, "/console/tenants/"+id, http.StatusSeeOther)
	return nil
}

// renderTenantRefusal shows the tenant's page with why an action was
// refused; a server-side failure stays an error page.
func (s *Service) renderTenantRefusal(w http.ResponseWriter, r *http.Request, cr consoleRequest, refused error) error {
	status := httpapi.Status(hookrun.ErrorCode(refused))
	if status >= 500 {
		return refused
	}
	t, err := s.consoleTenantOf(r)
	if err != nil {
		return err
	}
	s.renderConsole(w, r, status, "tenant", tenantView{consoleView{Title: "Tenant " + t.ID, CSRF: cr.csrf, Error: hookrun.ErrorMessage(refused)}, t})
	return nil
}

// consoleOpenPortal handles "Open portal": a one-time portal link, as
// POST …/portal-sessions makes, which this browser then opens.
func (s *Service) consoleOpenPortal(w http.ResponseWriter, r *http.Request, _ consoleRequest) error {
	t, err := s.consoleTenantOf(r)
	if err != nil {
		return err
	}
	path, _, err := s.newPortalLink(r.Context(), t, 0)
	if err != nil {
		return err
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// rejectedView is the Rejected messages page's data.
type rejectedView struct {
	consoleView
	Messages []hookrun.RejectedMessage
	// TenantID narrows the list; Next is the next page's link.
	TenantID, Next string
}

// consoleRejected handles GET /console/rejected-messages?tenant_id=…:
// what GET /v1/rejected-messages lists, paged.
func (s *Service) consoleRejected(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	q := r.URL.Query()
	ms, next, err := s.store.ListRejected(r.Context(), q.Get("tenant_id"), consolePageSize, q.Get("page_token"))
	if err != nil {
		return err
	}
	v := rejectedView{consoleView: consoleView{Title: "Rejected messages", CSRF: cr.csrf}, Messages: ms, TenantID: q.Get("tenant_id")}
	if next != "" {
		v.Next = "?" + url.Values{"tenant_id": {v.TenantID}, "page_token": {next}}.Encode()
	}
	s.renderConsole(w, r, http.StatusOK, "rejected", v)
	return nil
}

// systemTenantBound is how many tenants the system view adds up: it reads
// each one's metrics, so it stays cheap however many there are, and says
// when it left some out.
const systemTenantBound = 50

// systemView is the system page's data: deliveries across tenants.
type systemView struct {
	consoleView
	Hour, Day hookrun.Metrics
	// EventsPerSecond is the last hour's mean rate.
	EventsPerSecond                 float64
	Tenants, DisabledEndpoints      int
	Partial                         bool
	HourSuccessRate, DaySuccessRate string
}

// consoleSystem handles GET /console/system. It adds up the store's
// per-tenant metrics (the same query as GET …/metrics) and endpoints of up
// to systemTenantBound tenants: the store holds what every instance did,
// where this process's own metrics recorder knows only its own share of
// the traffic (Cloud Run runs many), and no new cross-tenant store query
// is needed.
func (s *Service) consoleSystem(w http.ResponseWriter, r *http.Request, cr consoleRequest) error {
	ctx := r.Context()
	ts, next, err := s.store.ListTenants(ctx, systemTenantBound, "")
	if err != nil {
		return err
	}
	now := s.now().UTC()
	v := systemView{consoleView: consoleView{Title: "System", CSRF: cr.csrf}, Tenants: len(ts), Partial: next != ""}
	v.Hour.Since, v.Hour.Until, v.Day.Since, v.Day.Until = now.Add(-time.Hour), now, now.Add(-24*time.Hour), now
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, t := range ts {
		if t.Deleting() {
			continue
		}
		g.Go(func() error { return s.addTenantFigures(gctx, t.ID, &v, &mu) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	v.EventsPerSecond = float64(v.Hour.EventsReceived) / time.Hour.Seconds()
	v.HourSuccessRate, v.DaySuccessRate = successRate(v.Hour), successRate(v.Day)
	s.renderConsole(w, r, http.StatusOK, "system", v)
	return nil
}

// addTenantFigures adds one tenant's last hour, last day and disabled
// endpoints to v.
func (s *Service) addTenantFigures(ctx context.Context, tenantID string, v *systemView, mu *sync.Mutex) error {
	hour, err := s.store.Metrics(ctx, tenantID, "", v.Hour.Since, v.Hour.Until)
	if err != nil {
		return err
	}
	day, err := s.store.Metrics(ctx, tenantID, "", v.Day.Since, v.Day.Until)
	if err != nil {
		return err
	}
	eps, err := s.store.ListEndpoints(ctx, tenantID)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []struct{ sum, add *hookrun.Metrics }{{&v.Hour, &hour}, {&v.Day, &day}} {
		m.sum.EventsReceived += m.add.EventsReceived
		m.sum.Deliveries += m.add.Deliveries
		m.sum.Succeeded += m.add.Succeeded
		m.sum.Retrying += m.add.Retrying
		m.sum.Dead += m.add.Dead
	}
	for _, ep := range eps {
		if ep.Status == hookrun.EndpointDisabled {
			v.DisabledEndpoints++
		}
	}
	return nil
}

// successRate shows succeeded / (succeeded + dead), the rule
// hookrun.Metrics.Derive states, as a percentage.
func successRate(m hookrun.Metrics) string {
	m.Derive(0, nil)
	if m.SuccessRate == nil {
		return "–"
	}
	return strconv.FormatFloat(*m.SuccessRate*100, 'f', 1, 64) + " %"
}
