package ingest

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The portal's Events pages: the list, a page at a time, filtered as the
// API's list is (eventsPage reads the same query parameters), and one
// event with its payload and every attempt of every delivery, with a
// Redeliver button that calls what the API's :redeliver does.

// eventsView is the Events list page's data.
type eventsView struct {
	Title  string
	Tenant hookrun.Tenant
	// Filter is the form as asked, shown again; States are its choices.
	Filter    eventsFilter
	States    []hookrun.DeliveryState
	Catalogue []string
	Events    []hookrun.EventSummary
	// Older and Newer link the next and previous pages ("": none), Newest
	// the first page when this one is not it.
	Older, Newer, Newest string
	Error                string
}

// eventsFilter is the list's query as the page's form sends it.
type eventsFilter struct {
	EventType, State, Since, Until string
}

// Any reports whether the filter selects anything, to tell "no events
// yet" from "none match".
func (f eventsFilter) Any() bool { return f.EventType+f.State+f.Since+f.Until != "" }

// pageTrail is the query parameter that carries the tokens of the pages
// before this one, oldest first, so that "Newer" can go back: the store
// pages forwards only.
const pageTrail = "prev"

// portalEvents handles GET /portal/tenants/{tenant}/events. With ?id= it
// is the "find by id" box, and goes to that event's page.
func (s *Service) portalEvents(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	q := r.URL.Query()
	base := "/portal/tenants/" + pr.tenant.ID + "/events"
	if id := q.Get("id"); id != "" {
		http.Redirect(w, r, base+"/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	v := eventsView{Title: "Events", Tenant: pr.tenant,
		Filter: eventsFilter{EventType: q.Get("event_type"), State: q.Get("delivery_state"), Since: q.Get("since"), Until: q.Get("until")},
		States: []hookrun.DeliveryState{hookrun.DeliveryPending, hookrun.DeliverySucceeded, hookrun.DeliveryRetrying, hookrun.DeliveryDead},
	}
	cat, err := s.catalogue(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	v.Catalogue = cat
	// The form's datetime-local fields have no zone; the page says they
	// are UTC, and the API's parameters want RFC 3339.
	api := url.Values{"event_type": {v.Filter.EventType}, "delivery_state": {v.Filter.State},
		"since": {formTime(v.Filter.Since)}, "until": {formTime(v.Filter.Until)}, "page_size": {q.Get("page_size")}, "page_token": {q.Get("page_token")}}
	es, next, err := s.eventsPage(r.Context(), pr.tenant.ID, api)
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 {
		v.Error = hookrun.ErrorMessage(err)
		s.renderPortal(w, r, status, "events", v)
		return nil
	}
	if err != nil {
		return err
	}
	v.Events = es
	v.Older, v.Newer, v.Newest = pageLinks(base, q, next)
	s.renderPortal(w, r, http.StatusOK, "events", v)
	return nil
}

// pageLinks are the links to the next (older) page, the previous (newer)
// one and the first, keeping the filter of q and the trail of tokens.
func pageLinks(base string, q url.Values, next string) (older, newer, newest string) {
	token, trail := q.Get("page_token"), q[pageTrail]
	link := func(token string, trail []string) string {
		l := url.Values{}
		for _, k := range []string{"event_type", "delivery_state", "since", "until", "page_size"} {
			if v := q.Get(k); v != "" {
				l.Set(k, v)
			}
		}
		if token != "" {
			l.Set("page_token", token)
			l[pageTrail] = trail
		}
		if len(l) == 0 {
			return base
		}
		return base + "?" + l.Encode()
	}
	if next != "" {
		older = link(next, append(trail[:len(trail):len(trail)], token))
	}
	if token != "" {
		newest = link("", nil)
		if len(trail) > 0 {
			newer = link(trail[len(trail)-1], trail[:len(trail)-1])
		}
	}
	return older, newer, newest
}

// formTime turns a datetime-local value ("2026-05-01T10:00", in UTC as the
// form says) into RFC 3339; anything else goes on as it is, for the API's
// check to refuse with its message.
func formTime(v string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// eventView is one event's page data.
type eventView struct {
	Title  string
	Tenant hookrun.Tenant
	CSRF   string
	Event  eventResponse
	// Endpoints names each delivery's endpoint by its URL ("": it was
	// deleted).
	Endpoints map[string]string
	// Redelivered is the outcome of a Redeliver button, Error its refusal.
	Redelivered *replayResponse
	Error       string
}

// renderEvent renders the event page as it stands now.
func (s *Service) renderEvent(w http.ResponseWriter, r *http.Request, pr portalRequest, status int, v eventView) error {
	e, err := s.eventWithDeliveries(r.Context(), pr.tenant.ID, r.PathValue("event"))
	if err != nil {
		return err
	}
	eps, err := s.store.ListEndpoints(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	v.Endpoints = make(map[string]string, len(eps))
	for _, ep := range eps {
		v.Endpoints[ep.ID] = ep.URL
	}
	v.Title, v.Tenant, v.CSRF, v.Event = "Event "+e.ID, pr.tenant, pr.csrf, e
	s.renderPortal(w, r, status, "event", v)
	return nil
}

// portalEvent handles GET /portal/tenants/{tenant}/events/{event}.
func (s *Service) portalEvent(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	return s.renderEvent(w, r, pr, http.StatusOK, eventView{})
}

// portalRedeliver handles the Redeliver buttons (endpoint_id: one
// endpoint, empty: every matching one) and shows the event again with
// the outcome: the replay started, or why it was refused.
func (s *Service) portalRedeliver(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	resp, err := s.redeliver(r, t.ID, r.PathValue("event"), r.PostFormValue("endpoint_id"))
	if status := httpapi.Status(hookrun.ErrorCode(err)); err != nil && status < 500 && hookrun.ErrorCode(err) != hookrun.CodeNotFound {
		return s.renderEvent(w, r, pr, status, eventView{Error: hookrun.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("endpoint_id", resp.EndpointID))
	return s.renderEvent(w, r, pr, http.StatusAccepted, eventView{Redelivered: &resp})
}
