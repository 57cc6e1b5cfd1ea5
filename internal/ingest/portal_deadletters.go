package ingest

import (
	"net/http"
	"net/url"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// The portal's Dead letters page: the tenant's dead letters, filtered and
// paged as GET …/dead-letters does (filterFromQuery, pageSize, the same
// store call), a Replay button per row and "Replay all matching", which
// call what the API's replay routes call (replayDeadLetter,
// replayMatching). Both lead to the replay's page, which reloads itself
// until the replay is done.

// deadLettersView is the Dead letters page's data.
type deadLettersView struct {
	Title  string
	Tenant hookrun.Tenant
	CSRF   string
	// Filter is the filter as the form sent it, to show it again and to
	// carry it into "Replay all matching" and the next page's link.
	Filter    deadLetterForm
	Endpoints []hookrun.Endpoint
	Catalogue []string
	Rows      []deadLetterRow
	// NextURL is the next page's link, "" on the last page.
	NextURL string
	// Error is why the filter was refused, shown above the form.
	Error string
}

// deadLetterForm is the filter form's fields, named as the API's query
// parameters. Since and Until are what a datetime-local field sends, read
// as UTC (formTime), or RFC 3339.
type deadLetterForm struct {
	EndpointID, EventType, Since, Until string
}

// Any reports whether the form filters anything.
func (f deadLetterForm) Any() bool { return f != deadLetterForm{} }

func deadLetterFormOf(v url.Values) deadLetterForm {
	return deadLetterForm{EndpointID: v.Get("endpoint_id"), EventType: v.Get("event_type"), Since: v.Get("since"), Until: v.Get("until")}
}

// filter is the form as the API's filter, with the API's rules.
func (f deadLetterForm) filter() (hookrun.DeadLetterFilter, error) {
	return filterFromQuery(f.EndpointID, f.EventType, formTime(f.Since), formTime(f.Until))
}

// query is the form as query parameters, empty ones left out.
func (f deadLetterForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"endpoint_id": f.EndpointID, "event_type": f.EventType, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// deadLetterRow is one dead letter as the page lists it.
type deadLetterRow struct {
	// ID names the dead letter for replay: {event}:{endpoint}.
	ID, EventID, EventType, EndpointID, EndpointURL string
	DeadAt                                          time.Time
	DeadReason                                      string
	Attempts                                        int
}

// portalDeadLetters handles GET /portal/tenants/{tenant}/dead-letters. A
// filter the API would refuse is shown as the API's reason, with the
// form kept.
func (s *Service) portalDeadLetters(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	q := r.URL.Query()
	v := deadLettersView{Title: "Dead letters", Tenant: pr.tenant, CSRF: pr.csrf, Filter: deadLetterFormOf(q)}
	var err error
	if v.Endpoints, err = s.store.ListEndpoints(r.Context(), pr.tenant.ID); err != nil {
		return err
	}
	if v.Catalogue, err = s.catalogue(r.Context(), pr.tenant.ID); err != nil {
		return err
	}
	f, err := v.Filter.filter()
	size, serr := pageSize(q.Get("page_size"))
	if err == nil {
		err = serr
	}
	if err != nil {
		v.Error = hookrun.ErrorMessage(err)
		s.renderPortal(w, r, http.StatusBadRequest, "deadletters", v)
		return nil
	}
	ds, next, err := s.store.ListDeadLetters(r.Context(), pr.tenant.ID, f, size, q.Get("page_token"))
	if err != nil {
		return err
	}
	urls := map[string]string{}
	for _, ep := range v.Endpoints {
		urls[ep.ID] = ep.URL
	}
	for _, d := range ds {
		v.Rows = append(v.Rows, deadLetterRow{
			ID: hookrun.DeliveryID(d.EventID, d.EndpointID), EventID: d.EventID, EventType: d.EventType,
			EndpointID: d.EndpointID, EndpointURL: urls[d.EndpointID], DeadAt: d.DeadAt,
			DeadReason: d.DeadReason, Attempts: d.Attempts,
		})
	}
	if next != "" {
		nq := v.Filter.query()
		nq.Set("page_token", next)
		v.NextURL = "/portal/tenants/" + pr.tenant.ID + "/dead-letters?" + nq.Encode()
	}
	s.renderPortal(w, r, http.StatusOK, "deadletters", v)
	return nil
}

// portalReplayDeadLetter handles a row's Replay button.
func (s *Service) portalReplayDeadLetter(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	resp, err := s.replayDeadLetter(r, t, r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/tenants/"+t.ID+"/replays/"+resp.ReplayID, http.StatusSeeOther)
	return nil
}

// portalReplayMatching handles "Replay all matching": the form carries
// the page's filter.
func (s *Service) portalReplayMatching(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	t, err := s.tenantMayChange(r.Context(), pr.tenant.ID)
	if err != nil {
		return err
	}
	f, err := deadLetterFormOf(r.PostForm).filter()
	if err != nil {
		return err
	}
	resp, err := s.replayMatching(r, t, f)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/tenants/"+t.ID+"/replays/"+resp.ReplayID, http.StatusSeeOther)
	return nil
}

// replayView is the replay page's data.
type replayView struct {
	Title   string
	Tenant  hookrun.Tenant
	Replay  hookrun.Replay
	Created time.Time
	Ended   time.Time
}

// portalReplay handles GET /portal/tenants/{tenant}/replays/{replay}: the
// replay's state and counts, as GET …/replays/{replay} reads them. While
// it runs the page reloads itself every 2 s (a meta refresh: no script).
func (s *Service) portalReplay(w http.ResponseWriter, r *http.Request, pr portalRequest) error {
	rp, err := s.store.GetReplay(r.Context(), pr.tenant.ID, r.PathValue("replay"))
	if err != nil {
		return err
	}
	s.renderPortal(w, r, http.StatusOK, "replay", replayView{Title: "Replay", Tenant: pr.tenant, Replay: rp,
		Created: rp.CreatedAt, Ended: rp.EndedAt})
	return nil
}
