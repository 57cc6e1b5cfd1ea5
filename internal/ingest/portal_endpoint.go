package ingest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// One endpoint's page in the portal: its settings, a form to edit them,
// and its actions (run the ownership challenge again, rotate the signing
// secret, send a test event). Each action calls what the API's handler
// calls (changeEndpoint, reverify, rotate, accept), so the portal cannot
// follow other rules than the API.

// endpointView is an endpoint page's data.
type endpointView struct {
	Title    string
	Tenant   hookrun.Tenant
	CSRF     string
	Endpoint hookrun.Endpoint
	// Catalogue is the tenant's event types, offered as checkboxes in the
	// edit form and as the test event's type.
	Catalogue []string
	Form      endpointForm
	// Error is why the last action failed, shown above the forms.
	Error string
	// Rotated is the answer of a rotation, its new secret shown once.
	Rotated *rotateResponse
	// Test is the test event asked for by ?test_event=, with this
	// endpoint's delivery of it once the dispatcher made one.
	Test *testEventView
	// TestType and TestData fill the test event form.
	TestType, TestData string
	// Saved says the edit form was just saved (?saved=1).
	Saved bool
}

// testEventView is a test event and this endpoint's delivery of it.
type testEventView struct {
	Event hookrun.Event
	// Delivery is nil until the dispatcher attempted it.
	Delivery *hookrun.Delivery
}

// LastAttempt is the delivery's latest attempt, nil before the first.
func (v testEventView) LastAttempt() *hookrun.Attempt {
	if v.Delivery == nil || len(v.Delivery.AttemptLog) == 0 {
		return nil
	}
	return &v.Delivery.AttemptLog[len(v.Delivery.AttemptLog)-1]
}

// testEventData is the test event's payload until the tenant writes its
// own: it says what it is, for a receiver that logs it.
const testEventData = `{"test": true, "message": "a test event sent from the webhooks portal"}`

// endpointPath is the page of an endpoint.
func endpointPath(tenantID, endpointID string) string {
	return "/portal/tenants/" + tenantID + "/endpoints/" + url.PathEscape(endpointID)
}

// formOf fills the edit form with ep's settings: its types that the
// catalogue lists are ticked, the others typed.
func formOf(ep hookrun.Endpoint, catalogue []string) endpointForm {
	f := endpointForm{URL: ep.URL, Description: ep.Description, RateLimit: strconv.Itoa(ep.RateLimit)}
	if ep.Timeout != 0 {
		f.Timeout = time.Duration(ep.Timeout).String()
	}
	var typed []string
	for _, t := range ep.EventTypes {
		if slices.Contains(catalogue, t) {
			f.Types = append(f.Types, t)
		} else {
			typed = append(typed, t)
		}
	}
	f.Patterns = strings.Join(typed, ", ")
	return f
}

// update is the PATCH the edit form asks for: every field of the form is
// set, so an emptied one (the timeout) goes back to its default.
func (f endpointForm) update() (patchEndpointRequest, error) {
	var timeout hookrun.Duration
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil {
			return patchEndpointRequest{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "timeout: %q is not a duration like \"10s\"", f.Timeout)
		}
		timeout = hookrun.Duration(d)
	}
	rate := 0
	if f.RateLimit != "" {
		n, err := strconv.Atoi(f.RateLimit)
		if err != nil {
			return patchEndpointRequest{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "rate limit: %q is not a whole number of deliveries per second", f.RateLimit)
		}
		rate = n
	}
	types := f.eventTypes()
	return patchEndpointRequest{EndpointUpdate: hookrun.EndpointUpdate{
		URL: &f.URL, Description: &f.Description, EventTypes: &types, Timeout: &timeout, RateLimit: &rate,
	}}, nil
}

// renderEndpoint renders an endpoint's page as it is now, with v's form,
// error and results.
func (s *Service) renderEndpoint(w http.ResponseWriter, r *http.Request, pr portalRequest, status int, v endpointView) error {
	ctx := r.Context()
	ep, err := s.store.GetEndpoint(ctx, pr.tenant.ID, r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(ctx, slog.String("endpoint_id", ep.ID))
	cat, err := s.catalogue(ctx, pr.tenant.ID)
	if err != nil {
		return err
	}
	if v.Form.URL == "" {
		v.Form = formOf(ep, cat)
	}
	if v.TestData == "" {
		v.TestData = testEventData
	}
	if id := r.URL.Query().Get("test_event"); id != "" && v.Test == nil {
		if v.Test, err = s.testEvent(r, pr.tenant.ID, id, ep.ID); err != nil {
			return err
		}
	}
	v.Saved = r.Method == http.MethodGet && r.URL.Query().Has("saved")
	v.Title, v.Tenant, v.CSRF, v.Endpoint, v.Catalogue = ep.URL, pr.tenant, pr.csrf, ep, cat
	s.renderPortal(w, r, status, "endpoint", v)
	return nil
}

// testEvent reads an event of the tenant and the endpoint's delivery of it.
func (s *Service) testEvent(r *http.Request, tenantID, eventID, endpointID string) (*testEventView, error) {
	e, err := s.event(r.Context(), tenantID, eventID)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.ListEventDeliveries(r.Context(), tenantID, eventID)
	if err != nil {
		return nil, err
	}
	v := &testEventView{Event: e}
	for i := range ds {
		if ds[i].EndpointID == endpointID {
			v.Delivery = &ds[i]
		}
	}
	return v, nil
}

// portalEndpoint handles GET …/endpoints/{endpoint}.
func (s *Service) portalEndpoint(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	return s.renderEndpoint(w, r, pr, http.StatusOK, endpointView{})
}

// refusedOr shows the endpoint page again with err's message when the
// user can do something about it (a 4xx), and answers err otherwise.
func (s *Service) refusedOr(w http.ResponseWriter, r *http.Request, pr portalRequest, err error, v endpointView) error {
	status := httpapi.Status(hookrun.ErrorCode(err))
	if status >= 500 || status == http.StatusNotFound {
		return err
	}
	v.Error = hookrun.ErrorMessage(err)
	return s.renderEndpoint(w, r, pr, status, v)
}

// portalEditEndpoint handles the edit form: the settings through
// changeEndpoint, as PATCH does. A new URL runs the ownership challenge.
func (s *Service) portalEditEndpoint(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	f := endpointForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: r.PostFormValue("description"),
		Patterns: r.PostFormValue("patterns"), Types: r.PostForm["event_type"],
		Timeout: strings.TrimSpace(r.PostFormValue("timeout")), RateLimit: strings.TrimSpace(r.PostFormValue("rate_limit"))}
	req, err := f.update()
	if err == nil {
		_, err = s.changeEndpoint(r.Context(), t, r.PathValue("endpoint"), req, "the tenant in the portal")
	}
	if err != nil {
		return s.refusedOr(w, r, pr, err, endpointView{Form: f})
	}
	http.Redirect(w, r, endpointPath(t.ID, r.PathValue("endpoint"))+"?saved=1", http.StatusSeeOther)
	return nil
}

// portalVerifyEndpoint handles "Run the ownership challenge again", as
// :verify does; the page then shows the outcome in the endpoint's status.
func (s *Service) portalVerifyEndpoint(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	if _, err := s.reverify(r.Context(), t, r.PathValue("endpoint")); err != nil {
		return s.refusedOr(w, r, pr, err, endpointView{})
	}
	http.Redirect(w, r, endpointPath(t.ID, r.PathValue("endpoint")), http.StatusSeeOther)
	return nil
}

// portalRotateSecret handles "Rotate signing secret", as secret:rotate
// does with the configured grace period. The answer is the page itself,
// not a redirect: the new secret is shown this once and never in a URL.
func (s *Service) portalRotateSecret(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	rotated, err := s.rotate(r.Context(), t, r.PathValue("endpoint"), nil)
	if err != nil {
		return s.refusedOr(w, r, pr, err, endpointView{})
	}
	return s.renderEndpoint(w, r, pr, http.StatusOK, endpointView{Rotated: &rotated})
}

// portalTestEvent handles "Send a test event": an event of a type the
// tenant picks, with the data it writes, accepted as POST /v1/events
// accepts one (the same rules, catalogue and rate limit; it is a real
// event, listed with the others) but sent to this endpoint only, whatever
// it subscribes to. The page then shows its delivery here.
func (s *Service) portalTestEvent(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	ctx := r.Context()
	t, err := s.tenantMayChange(ctx, pr.tenant.ID)
	if err != nil {
		return err
	}
	typ, data := strings.TrimSpace(r.PostFormValue("type")), strings.TrimSpace(r.PostFormValue("data"))
	v := endpointView{TestType: typ, TestData: data}
	ep, err := s.store.GetEndpoint(ctx, t.ID, r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	if ep.Status != hookrun.EndpointActive {
		// The dispatcher sends nothing to an inactive endpoint: the event
		// would only become a dead letter.
		return s.refusedOr(w, r, pr, hookrun.Errorf(hookrun.CodeFailedPrecondition, "the endpoint is %s: a test event reaches active endpoints only", ep.Status), v)
	}
	if !json.Valid([]byte(data)) {
		return s.refusedOr(w, r, pr, hookrun.Errorf(hookrun.CodeInvalidArgument, "data: not valid JSON; write a JSON object such as {\"test\": true}"), v)
	}
	if err := s.mayAccept(t); err != nil {
		return s.refusedOr(w, r, pr, err, v)
	}
	e, _, err := s.accept(r, t, publishEventRequest{Type: typ, Data: json.RawMessage(data)}, ep.ID)
	if err != nil {
		return s.refusedOr(w, r, pr, err, v)
	}
	http.Redirect(w, r, endpointPath(t.ID, ep.ID)+"?test_event="+url.QueryEscape(e.ID), http.StatusSeeOther)
	return nil
}
