package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

func (s *Service) deliveryRoutes() []route {
	return []route{
		{"GET /v1/tenants/{tenant}/dead-letters", s.listDeadLetters},
		{"POST /v1/tenants/{tenant}/dead-letters:replay", s.replayDeadLetters},
		{"POST /v1/tenants/{tenant}/dead-letters/{id}", s.deadLetterAction},
		{"GET /v1/tenants/{tenant}/replays/{replay}", s.getReplay},
		{"GET /v1/tenants/{tenant}/rejected-messages", s.listRejected},
		{"GET /v1/rejected-messages", s.listRejected},
	}
}

// DeliveryStore reads deliveries, dead letters and rejected messages, which
// the dispatcher writes.
type DeliveryStore interface {
	// ListEventDeliveries returns an event's deliveries with attempts.
	ListEventDeliveries(ctx context.Context, tenantID, eventID string) ([]hookrun.Delivery, error)
	GetDelivery(ctx context.Context, tenantID, eventID, endpointID string) (hookrun.Delivery, error)
	// ListDeadLetters returns a page of dead deliveries, newest first, and
	// the next page's token ("" at the end).
	ListDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, pageSize int, token string) ([]hookrun.Delivery, string, error)
	// ClaimDeadLetter claims one dead letter for the replay chain:
	// CodeFailedPrecondition when it is not a dead letter or another
	// replay holds it (hookrun.Delivery.ClaimableAt).
	ClaimDeadLetter(ctx context.Context, tenantID, eventID, endpointID, chain string) error
	// ClaimDeadLetters claims for the replay chain up to limit dead letters
	// of a tenant that match f and that eligible accepts, skipping and
	// counting the others.
	ClaimDeadLetters(ctx context.Context, tenantID string, f hookrun.DeadLetterFilter, chain string, limit int, eligible func(hookrun.Delivery) bool) (hookrun.ReplayClaims, error)
	// ReleaseReplay drops the claims of a replay that will not run.
	ReleaseReplay(ctx context.Context, tenantID, chain string) error
	// CreateReplay stores the record of a new replay; an ID taken is
	// CodeAlreadyExists.
	CreateReplay(ctx context.Context, r hookrun.Replay) error
	// GetReplay returns a tenant's replay (another tenant's is
	// CodeNotFound) with the delivered, retrying and dead deliveries of
	// its chain counted when read.
	GetReplay(ctx context.Context, tenantID, id string) (hookrun.Replay, error)
	// UpdateReplay stores what apply makes of a tenant's replay,
	// atomically, and returns it. apply may run more than once.
	UpdateReplay(ctx context.Context, tenantID, id string, apply func(hookrun.Replay) hookrun.Replay) (hookrun.Replay, error)
	// ListRejected returns a page of rejected messages of a tenant, or of
	// all tenants when tenantID is empty, newest first.
	ListRejected(ctx context.Context, tenantID string, pageSize int, token string) ([]hookrun.RejectedMessage, string, error)
}

// deliveryJSON is a delivery as the API shows it, with its ID, which names
// a dead letter for replay ("{event}:{endpoint}").
type deliveryJSON struct {
	ID string `json:"id"`
	hookrun.Delivery
}

func deliveriesJSON(ds []hookrun.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{ID: hookrun.DeliveryID(d.EventID, d.EndpointID), Delivery: d}
	}
	return out
}

type eventResponse struct {
	hookrun.Event
	Deliveries []deliveryJSON `json:"deliveries"`
}

// splitAction splits a path segment "name:action" (Google's custom method
// style) at its last colon; IDs may contain colons, actions may not.
func splitAction(seg string) (name, action string) {
	i := strings.LastIndexByte(seg, ':')
	if i < 0 {
		return seg, ""
	}
	return seg[:i], seg[i+1:]
}

// getEvent handles GET /v1/tenants/{tenant}/events/{event}: the event with
// its deliveries and their attempts.
func (s *Service) getEvent(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	e, err := s.eventWithDeliveries(r.Context(), t.ID, r.PathValue("event"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, e)
	return nil
}

// eventWithDeliveries reads a tenant's event with its deliveries and their
// attempts, for the API's read and the portal's event page.
func (s *Service) eventWithDeliveries(ctx context.Context, tenantID, eventID string) (eventResponse, error) {
	e, err := s.event(ctx, tenantID, eventID)
	if err != nil {
		return eventResponse{}, err
	}
	ds, err := s.store.ListEventDeliveries(ctx, tenantID, e.ID)
	if err != nil {
		return eventResponse{}, err
	}
	return eventResponse{Event: e, Deliveries: deliveriesJSON(ds)}, nil
}

type redeliverRequest struct {
	EndpointID string `json:"endpoint_id"`
}

type replayResponse struct {
	ReplayID   string `json:"replay_id"`
	EventID    string `json:"event_id,omitempty"`
	EndpointID string `json:"endpoint_id,omitempty"`
	// Count, Skipped and More answer a bulk replay: the dead letters it
	// claimed and will send, those that matched but another replay holds
	// or whose endpoint is not active, and whether more match than one
	// call claims (maxReplayClaims).
	Count   *int64 `json:"count,omitempty"`
	Skipped *int64 `json:"skipped,omitempty"`
	More    bool   `json:"more,omitempty"`
}

// maxReplayClaims bounds the dead letters one bulk replay claims, so that
// the request answers in bounded time; "more" in the answer says to call
// again for the rest.
const maxReplayClaims = 5000

// eventAction handles POST /v1/tenants/{tenant}/events/{event}:redeliver:
// the event goes again to its matching endpoints (or one), in a fresh
// attempt chain, even where it was delivered.
func (s *Service) eventAction(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id, action := splitAction(r.PathValue("event"))
	if action != "redeliver" {
		return hookrun.Errorf(hookrun.CodeNotFound, "no route for POST %s: the action is :redeliver", r.URL.Path)
	}
	var req redeliverRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	resp, err := s.redeliver(r, t.ID, id, req.EndpointID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, resp)
	return nil
}

// redeliver sends a tenant's event again to endpointID, or to every
// matching endpoint when it is "": the API's :redeliver and the portal's
// Redeliver button.
func (s *Service) redeliver(r *http.Request, tenantID, eventID, endpointID string) (replayResponse, error) {
	if endpointID != "" {
		ep, err := s.store.GetEndpoint(r.Context(), tenantID, endpointID)
		if err != nil {
			return replayResponse{}, err
		}
		// The dispatcher sends nothing to a disabled endpoint: a 202 here
		// would promise a delivery that never happens.
		if ep.Status != hookrun.EndpointActive {
			return replayResponse{}, hookrun.Errorf(hookrun.CodeFailedPrecondition, "endpoint %q is disabled (%s): enable it before redelivering", ep.ID, ep.DisabledReason)
		}
	}
	e, err := s.event(r.Context(), tenantID, eventID)
	if err != nil {
		return replayResponse{}, err
	}
	return s.replay(r, e, endpointID)
}

// replay publishes e again with a fresh chain ID, for every matching
// endpoint or only endpointID. The dispatcher makes the first attempt at
// once and retries on the endpoint's schedule; the webhook-id stays.
func (s *Service) replay(r *http.Request, e hookrun.Event, endpointID string) (replayResponse, error) {
	chain := hookrun.NewID("rp_")
	attrs := wire.Event(e).RedeliveryAttributes(chain, endpointID)
	if _, err := s.publish(r, e.Data, attrs, "could not hand the redelivery to Pub/Sub; retry"); err != nil {
		return replayResponse{}, err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("replay_id", chain), slog.String("event_id", e.ID))
	return replayResponse{ReplayID: chain, EventID: e.ID, EndpointID: endpointID}, nil
}

type deadLettersResponse struct {
	DeadLetters   []deliveryJSON `json:"dead_letters"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// listDeadLetters handles GET /v1/tenants/{tenant}/dead-letters.
func (s *Service) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := filterFromQuery(q.Get("endpoint_id"), q.Get("event_type"), q.Get("since"), q.Get("until"))
	if err != nil {
		return err
	}
	size, err := pageSize(q.Get("page_size"))
	if err != nil {
		return err
	}
	ds, next, err := s.store.ListDeadLetters(r.Context(), t.ID, f, size, q.Get("page_token"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, deadLettersResponse{DeadLetters: deliveriesJSON(ds), NextPageToken: next})
	return nil
}

// pageSize reads the page_size parameter of list routes: 1 to 500,
// default 50.
func pageSize(v string) (int, error) {
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, hookrun.Errorf(hookrun.CodeInvalidArgument, "page_size: a number from 1 to 500")
	}
	return n, nil
}

func filterFromQuery(endpointID, eventType, since, until string) (hookrun.DeadLetterFilter, error) {
	f := hookrun.DeadLetterFilter{EndpointID: endpointID, EventType: eventType}
	var err error
	if f.Since, f.Until, err = timeRange(since, until); err != nil {
		return f, err
	}
	return f, f.Validate()
}

// timeRange reads the since and until parameters of list routes: RFC 3339
// times, either or both empty.
func timeRange(since, until string) (time.Time, time.Time, error) {
	var out [2]time.Time
	for i, p := range []struct{ name, v string }{{"since", since}, {"until", until}} {
		if p.v == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			return time.Time{}, time.Time{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "%s: an RFC 3339 time like 2026-11-23T10:00:00Z", p.name)
		}
		out[i] = ts
	}
	return out[0], out[1], nil
}

// deadLetterAction handles POST /v1/tenants/{tenant}/dead-letters/{id}:replay.
func (s *Service) deadLetterAction(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id, action := splitAction(r.PathValue("id"))
	if action != "replay" {
		return hookrun.Errorf(hookrun.CodeNotFound, "no route for POST %s: the action is :replay", r.URL.Path)
	}
	resp, err := s.replayDeadLetter(r, t, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, resp)
	return nil
}

// replayDeadLetter replays the dead letter id ("{event}:{endpoint}") of
// tenant t in a replay of its own, for the API and the portal alike.
func (s *Service) replayDeadLetter(r *http.Request, t hookrun.Tenant, id string) (replayResponse, error) {
	eventID, endpointID := splitAction(id)
	if endpointID == "" {
		return replayResponse{}, hookrun.Errorf(hookrun.CodeNotFound, "dead letter %q not found: ids look like {event}:{endpoint}", id)
	}
	ep, err := s.store.GetEndpoint(r.Context(), t.ID, endpointID)
	if err != nil {
		return replayResponse{}, err
	}
	if ep.Status != hookrun.EndpointActive {
		return replayResponse{}, hookrun.Errorf(hookrun.CodeFailedPrecondition, "endpoint %q is %s (%s): enable it before replaying", ep.ID, ep.Status, ep.InactiveReason())
	}
	chain := hookrun.NewID("rp_")
	// The claim is what makes concurrent replays of one dead letter send
	// it once: the first claims it, the others are refused here.
	if err := s.store.ClaimDeadLetter(r.Context(), t.ID, eventID, endpointID, chain); err != nil {
		return replayResponse{}, err
	}
	one := hookrun.NewReplay(t.ID, chain, hookrun.DeadLetterFilter{EndpointID: endpointID}, hookrun.ReplayClaims{Claimed: 1}, s.now())
	if err := s.startReplay(r, one); err != nil {
		return replayResponse{}, err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("replay_id", chain), slog.String("event_id", eventID))
	return replayResponse{ReplayID: chain, EventID: eventID, EndpointID: endpointID}, nil
}

// startReplay records the replay rp, whose claims are made, and hands
// the dispatcher the job of sending what it claimed (nothing to send: no
// job). The record comes first, so that the job always finds it. When
// either fails, the claims are dropped so that the caller's retry can
// claim the dead letters again (if even that fails, they lapse after
// hookrun.ReplayClaimTTL), and a record made says the replay failed.
func (s *Service) startReplay(r *http.Request, rp hookrun.Replay) error {
	if err := s.store.CreateReplay(r.Context(), rp); err != nil {
		s.releaseReplay(r, rp.TenantID, rp.ID)
		return err
	}
	if rp.Done() {
		return nil
	}
	_, err := s.publish(r, nil, wire.ReplayClaimedAttributes(rp.TenantID, rp.ID), "could not hand the replay to Pub/Sub; retry")
	if err != nil {
		s.releaseReplay(r, rp.TenantID, rp.ID)
		s.failReplay(r, rp, "the replay could not be handed to the dispatcher; its dead letters were released: replay them again")
	}
	return err
}

// releaseReplay drops the claims of a replay that will not run, whatever
// happens to the request.
func (s *Service) releaseReplay(r *http.Request, tenantID, chain string) {
	if err := s.store.ReleaseReplay(context.WithoutCancel(r.Context()), tenantID, chain); err != nil {
		slog.ErrorContext(r.Context(), "release the claims of a replay that will not run; they lapse on their own",
			"tenant_id", tenantID, "replay_id", chain, "error", err.Error())
	}
}

// replayDeadLetters handles POST /v1/tenants/{tenant}/dead-letters:replay:
// it claims the matching dead letters of active endpoints that no other
// replay holds and hands the replay to the dispatcher as one job message,
// so it runs after the answer without relying on CPU after the response
// (Cloud Run throttles it).
func (s *Service) replayDeadLetters(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var f hookrun.DeadLetterFilter
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &f); err != nil {
			return err
		}
	}
	resp, err := s.replayMatching(r, t, f)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, resp)
	return nil
}

// replayMatching replays the dead letters of tenant t that f matches, in
// one replay, for the API and the portal alike.
func (s *Service) replayMatching(r *http.Request, t hookrun.Tenant, f hookrun.DeadLetterFilter) (replayResponse, error) {
	if f.Until.IsZero() {
		// Pin the set: the replay claims what is dead now, not dead
		// letters that die while it runs.
		f.Until = s.now().UTC()
	}
	if err := f.Validate(); err != nil {
		return replayResponse{}, err
	}
	eps, err := s.store.ListEndpoints(r.Context(), t.ID)
	if err != nil {
		return replayResponse{}, err
	}
	active := map[string]bool{}
	for _, ep := range eps {
		active[ep.ID] = ep.Status == hookrun.EndpointActive
	}
	if _, known := active[f.EndpointID]; f.EndpointID != "" && !known {
		return replayResponse{}, hookrun.Errorf(hookrun.CodeNotFound, "endpoint %q not found", f.EndpointID)
	}
	chain := hookrun.NewID("rp_")
	claims, err := s.store.ClaimDeadLetters(r.Context(), t.ID, f, chain, maxReplayClaims,
		func(d hookrun.Delivery) bool { return active[d.EndpointID] })
	if err != nil {
		s.releaseReplay(r, t.ID, chain)
		return replayResponse{}, err
	}
	if err := s.startReplay(r, hookrun.NewReplay(t.ID, chain, f, claims, s.now())); err != nil {
		return replayResponse{}, err
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("replay_id", chain), slog.Int64("count", claims.Claimed), slog.Int64("skipped", claims.Skipped))
	return replayResponse{ReplayID: chain, Count: &claims.Claimed, Skipped: &claims.Skipped, More: claims.More}, nil
}
