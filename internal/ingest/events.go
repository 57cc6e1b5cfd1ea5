package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/wire"
)

func (s *Service) eventRoutes() []route {
	return []route{
		{"POST /v1/events", s.publishEvent},
		{"POST /v1/tenants/{tenant}/events", s.publishEvent},
		{"GET /v1/tenants/{tenant}/events", s.listEvents},
		{"GET /v1/tenants/{tenant}/events/{event}", s.getEvent},
		{"POST /v1/tenants/{tenant}/events/{event}", s.eventAction},
	}
}

// EventStore keeps events, for idempotency and replay.
type EventStore interface {
	// ClaimEvent records e as being accepted, for lease, so that a duplicate
	// request cannot publish it a second time meanwhile. When an event with
	// the same ID was already accepted, it returns that event and
	// hookrun.ClaimedDuplicate. While another request's lease runs it
	// returns CodeAborted with RetryAfter what is left of that lease; an
	// expired or released claim is taken over (hookrun.ClaimedTakenOver).
	ClaimEvent(ctx context.Context, e hookrun.Event, lease time.Duration) (stored hookrun.Event, claim hookrun.EventClaim, err error)
	// RecordEvents records events Pub/Sub has as accepted, in as few
	// round trips as the store can: a claimed one's claim is completed,
	// an unclaimed one created unless a record exists (the dispatcher's
	// SaveEvent may come first). Each is recorded or fails on its own;
	// it returns nil when all were, else one error per event.
	RecordEvents(ctx context.Context, evs []hookrun.AcceptedEvent) []error
	// ReleaseEvent ends the lease of a claim whose publish failed, so the
	// producer's retry with the same ID takes it over at once, knowing
	// that the failed publish may have gone through after all.
	ReleaseEvent(ctx context.Context, tenantID, eventID string) error
	GetEvent(ctx context.Context, tenantID, eventID string) (hookrun.Event, error)
	// ListEvents returns a page of a tenant's accepted events that match
	// f, newest first by receive time, each with its deliveries counted
	// by state, and the next page's token ("" at the end). A page may
	// hold fewer than pageSize events and still have a next one.
	ListEvents(ctx context.Context, tenantID string, f hookrun.EventFilter, pageSize int, token string) ([]hookrun.EventSummary, string, error)
}

type publishEventRequest struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type publishEventResponse struct {
	ID string `json:"id"`
}

// publishEvent handles POST /v1/events (a tenant's key sends its own
// events) and POST /v1/tenants/{tenant}/events (a producer credential or
// the tenant's key sends the path's tenant's events), and counts what it answered: an
// event accepted (a duplicate's 202 accepts nothing new) or refused, by
// the error's status.
func (s *Service) publishEvent(w http.ResponseWriter, r *http.Request) error {
	fresh, err := s.acceptEvent(w, r)
	switch {
	case err != nil:
		s.opMetrics.EventRefused(r.Context(), err)
	case fresh:
		s.opMetrics.EventAccepted(r.Context(), metrics.SourceAPI)
	}
	return err
}

// acceptEvent answers 202 once Pub/Sub has the event; fresh is false when
// the event had been accepted before (a producer's retry).
func (s *Service) acceptEvent(w http.ResponseWriter, r *http.Request) (fresh bool, err error) {
	t, err := s.sendingTenant(r)
	if err != nil {
		return false, err
	}
	// Before the body is read: an event over the limit costs nothing more.
	if err := s.mayAccept(t); err != nil {
		return false, err
	}
	var req publishEventRequest
	if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return false, err
	}
	e, duplicate, err := s.accept(r, t, req, "")
	if err != nil {
		return false, err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, publishEventResponse{ID: e.ID})
	return !duplicate, nil
}

// sendingTenant returns the tenant whose events the request may send: the
// path's {tenant}, for a producer credential allowed that tenant or the
// tenant's own API key; without {tenant} in the route, the tenant of the
// API key. The admin token sends no events: the operator gives producers a
// producer key instead.
func (s *Service) sendingTenant(r *http.Request) (hookrun.Tenant, error) {
	ctx := r.Context()
	c, err := s.identify(r)
	if err != nil {
		return hookrun.Tenant{}, err
	}
	id := r.PathValue("tenant")
	switch {
	case c.admin:
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodePermissionDenied, "send events with a producer key (POST /v1/producer-keys) or the tenant's API key, not the admin token")
	case id == "" && c.producer != nil:
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodePermissionDenied, "a producer credential names the tenant in the path: POST /v1/tenants/{tenant}/events (or …/events:batch)")
	case id == "":
		id = c.tenantID
	case c.producer != nil && !hookrun.MayProduce(c.producer.tenants, id):
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodePermissionDenied, "this producer credential may not send events of tenant %q", id)
	case c.producer == nil && c.tenantID != id:
		return hookrun.Tenant{}, hookrun.Errorf(hookrun.CodePermissionDenied, "this API key may not send events of tenant %q", id)
	}
	if hookrun.ValidateTenantID(id) != nil {
		return hookrun.Tenant{}, errTenantNotFound(id)
	}
	t, err := s.tenant(ctx, id)
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound && c.producer == nil {
		return hookrun.Tenant{}, errUnauthenticated // the key outlived its tenant
	}
	if err != nil {
		return hookrun.Tenant{}, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("tenant_id", t.ID))
	return t, nil
}

// mayAccept checks that tenant t may send an event now: it is active and
// within its rate limit.
func (s *Service) mayAccept(t hookrun.Tenant) error {
	if err := maySend(t); err != nil {
		return err
	}
	return s.allowEvent(t)
}

// maySend checks that tenant t's events are accepted at all.
func maySend(t hookrun.Tenant) error {
	if !t.Active() {
		return hookrun.Errorf(hookrun.CodePermissionDenied, "tenant %q is disabled: its events are not accepted", t.ID)
	}
	return nil
}

// accept makes an event of tenant t from req and hands it to Pub/Sub,
// for POST /v1/events and the portal's test event alike: every event rule
// (type, catalogue, data, idempotency by id) holds for both. With only
// set, the event goes to that one endpoint, in a chain of its own
// (wire.Event.RedeliveryAttributes), whatever the endpoint subscribes to;
// otherwise to every subscribed endpoint. duplicate is true when an event
// with the same id was accepted before: e is that event, nothing is
// published again. A batch takes the same steps, each for all its events
// at once (batch.go).
func (s *Service) accept(r *http.Request, t hookrun.Tenant, req publishEventRequest, only string) (e hookrun.Event, duplicate bool, err error) {
	ctx := r.Context()
	cat, err := s.catalogue(ctx, t.ID)
	if err != nil {
		return hookrun.Event{}, false, err
	}
	if e, err = s.checkEvent(t, cat, req); err != nil {
		return hookrun.Event{}, false, err
	}
	httpapi.AddLogAttrs(ctx, slog.String("event_id", e.ID), slog.String("event_type", e.Type))
	c := s.claim(ctx, e, req.ID == "")
	if c.err != nil {
		return hookrun.Event{}, false, c.err
	}
	if c.duplicate {
		// Same answer as the first time; nothing is published again.
		httpapi.AddLogAttrs(ctx, slog.Bool("duplicate", true))
		return c.stored, true, nil
	}
	var attrs map[string]string
	if only == "" {
		attrs = c.attributes()
	} else {
		attrs = wire.Event(e).RedeliveryAttributes(hookrun.NewID("test_"), only)
	}
	msgID, err := s.publishClaimed(r, c, attrs)
	s.settle(ctx, c, msgID, err)
	if err != nil {
		return hookrun.Event{}, false, err
	}
	return e, false, nil
}

// checkEvent makes an event of tenant t from req, by every rule an event
// must meet before it is claimed: the event's own (newEvent) and the
// tenant's catalogue, cat.
func (s *Service) checkEvent(t hookrun.Tenant, cat hookrun.Catalogue, req publishEventRequest) (hookrun.Event, error) {
	e, err := s.newEvent(t.ID, req)
	if err != nil {
		return hookrun.Event{}, err
	}
	if !cat.AllowsType(e.Type) {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "type: %q is not in the tenant's event catalogue (GET /v1/tenants/%s/event-types)", e.Type, t.ID)
	}
	return e, nil
}

// claimed is an event's claim (EventStore.ClaimEvent): err, or a
// duplicate and the event accepted before (stored), or the claim to
// publish e, taken no earlier than at; takenOver when an earlier
// request's publish of e may have gone through. An event whose ID ingest
// made (made) claims nothing: its ID is new by construction.
type claimed struct {
	e         hookrun.Event
	at        time.Time
	made      bool
	stored    hookrun.Event
	duplicate bool
	takenOver bool
	err       error
}

// attributes returns the Pub/Sub attributes of the claimed event's
// message: its own (wire.Event.Attributes), marked for the dispatcher to
// look for an earlier delivery when an earlier publish may have gone
// through.
func (c claimed) attributes() map[string]string {
	a := wire.Event(c.e).Attributes()
	if c.takenOver {
		a[wire.AttrCheckDeliveries] = "true"
	}
	return a
}

// claim claims e's ID, so that no other request publishes it meanwhile.
// An ID ingest made for e (made) needs no claim, and costs no store call.
// A producer's ID this instance accepted moments ago, its record not yet
// written, is a duplicate without one either.
func (s *Service) claim(ctx context.Context, e hookrun.Event, made bool) claimed {
	c := claimed{e: e, at: time.Now(), made: made}
	if made {
		return c
	}
	if stored, ok := s.unrecorded(e.TenantID, e.ID); ok {
		c.stored, c.duplicate = stored, true
		return c
	}
	if at, ok := hookrun.MadeEventTime(e.ID); ok {
		if now := s.now(); at.After(now.Add(-madeIDWindow)) && at.Before(now.Add(time.Minute)) {
			c.stored, c.duplicate, c.err = s.recentlyMade(ctx, e.TenantID, e.ID, at.Add(madeIDWindow).Sub(now))
			return c
		}
	}
	var how hookrun.EventClaim
	c.stored, how, c.err = s.store.ClaimEvent(ctx, e, s.cfg.ClaimLease)
	c.duplicate, c.takenOver = how == hookrun.ClaimedDuplicate, how == hookrun.ClaimedTakenOver
	var held *hookrun.Error
	if errors.As(c.err, &held) && held.Code == hookrun.CodeAborted {
		// No lease is longer than ours, whatever a clock that is off says.
		c.err = &hookrun.Error{Code: held.Code, Message: held.Message, Err: c.err, RetryAfter: min(held.RetryAfter, s.cfg.ClaimLease)}
	}
	return c
}

// recentlyMade answers a producer that sends as its own an ID that ingest
// made less than madeIDWindow ago (left is what remains of it): the event
// it was made for is a duplicate once recorded, but until then another
// instance may still be writing its record, and a claim now would publish
// it a second time. So the producer waits for the window to pass.
func (s *Service) recentlyMade(ctx context.Context, tenantID, eventID string, left time.Duration) (stored hookrun.Event, duplicate bool, err error) {
	stored, err = s.store.GetEvent(ctx, tenantID, eventID)
	switch {
	case err == nil:
		return stored, true, nil
	case hookrun.ErrorCode(err) == hookrun.CodeNotFound:
		return hookrun.Event{}, false, &hookrun.Error{Code: hookrun.CodeAborted, RetryAfter: max(left, time.Second),
			Message: fmt.Sprintf("event id %q was made by hookrun moments ago and its event is still being recorded; retry after the seconds in Retry-After", eventID)}
	default:
		return hookrun.Event{}, false, err
	}
}

// publishClaimed publishes the event of claim c with attrs, marked for
// the dispatcher to read the tenant's endpoint list afresh when this
// instance changed it moments ago (endpoint_recent.go). The publish
// ends before the lease does, which began no earlier than c.at: past it,
// a retry may take the claim over and publish too.
func (s *Service) publishClaimed(r *http.Request, c claimed, attrs map[string]string) (string, error) {
	return s.startClaimed(r, c, attrs)()
}

// startClaimed is publishClaimed, started: wait returns what
// publishClaimed would, and must be called.
func (s *Service) startClaimed(r *http.Request, c claimed, attrs map[string]string) (wait func() (string, error)) {
	if s.endpointsChangedHere(c.e.TenantID) {
		attrs[wire.AttrEndpointsChanged] = "true"
	}
	ctx, cancel := context.WithDeadline(r.Context(), c.at.Add(s.cfg.ClaimLease-claimMargin))
	failMsg := "could not hand the event to Pub/Sub; retry with the same id"
	if c.made {
		// The producer never saw the id ingest made: a retry is a new
		// event, so one that went through after all is sent twice.
		failMsg = "could not hand the event to Pub/Sub; retry, with an id of your own to make the retry safe"
	}
	published := s.startPublish(ctx, c.e.Data, attrs, failMsg)
	return func() (string, error) {
		defer cancel()
		return published()
	}
}

// settle records how the publish of claimed event c ended: accepted with
// Pub/Sub's msgID (recorded after the answer, records.go), or, on pubErr,
// its claim released.
func (s *Service) settle(ctx context.Context, c claimed, msgID string, pubErr error) {
	e := c.e
	if pubErr == nil {
		// Pub/Sub has the event, so it is durable and the 202 is true.
		s.record(hookrun.AcceptedEvent{Event: e, MessageID: msgID, Claimed: !c.made})
		return
	}
	if c.made {
		return // nothing claimed, nothing recorded
	}
	// The claim must not outlive the failure: the producer's retry with
	// the same ID has to be able to publish. It takes the claim over and
	// marks its message, as the Pub/Sub client retries a publish itself
	// and a failure it reports may follow an attempt that went through.
	if err := s.store.ReleaseEvent(context.WithoutCancel(ctx), e.TenantID, e.ID); err != nil {
		slog.ErrorContext(ctx, "release event claim after failed publish; a retry can take over when the lease ends",
			"tenant_id", e.TenantID, "event_id", e.ID, "error", err.Error())
	}
}

func (s *Service) newEvent(tenantID string, req publishEventRequest) (hookrun.Event, error) {
	if err := hookrun.ValidateEventType(req.Type); err != nil {
		return hookrun.Event{}, err
	}
	if hookrun.IsOperational(req.Type) {
		return hookrun.Event{}, hookrun.ErrReservedType(req.Type)
	}
	if req.ID == "" {
		req.ID = hookrun.NewEventID(s.now())
	} else if err := hookrun.ValidateEventID(req.ID); err != nil {
		return hookrun.Event{}, err
	}
	if len(req.Data) == 0 || req.Data[0] != '{' {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "data: required, a JSON object")
	}
	if len(req.Data) > hookrun.MaxEventDataBytes {
		return hookrun.Event{}, hookrun.Errorf(hookrun.CodeInvalidArgument, "data: at most %d bytes (what one stored event holds), not %d", hookrun.MaxEventDataBytes, len(req.Data))
	}
	return hookrun.Event{
		ID:       req.ID,
		TenantID: tenantID,
		Type:     req.Type,
		Data:     req.Data,
		Source:   hookrun.SourceAPI,
		// To the microsecond, as the store keeps it: an attempt that reads
		// the event back (a retry of a large event, a replay) then signs
		// the same body as the first.
		ReceivedAt: s.now().UTC().Truncate(time.Microsecond),
	}, nil
}

// publish hands a message to Pub/Sub within the publish timeout; failing,
// it is CodeUnavailable (503) with failMsg, for the caller to retry.
func (s *Service) publish(r *http.Request, data []byte, attrs map[string]string, failMsg string) (string, error) {
	return s.startPublish(r.Context(), data, attrs, failMsg)()
}

// startPublish is publish, started: wait returns what publish would, and
// must be called.
func (s *Service) startPublish(ctx context.Context, data []byte, attrs map[string]string, failMsg string) (wait func() (string, error)) {
	ctx, cancel := gcpcall.Within(ctx, s.cfg.PublishTimeout)
	published := s.pub.Start(ctx, data, attrs)
	return func() (string, error) {
		defer cancel()
		id, err := published()
		if err != nil {
			return "", hookrun.WrapError(hookrun.CodeUnavailable, err, failMsg)
		}
		return id, nil
	}
}

type eventsResponse struct {
	Events        []hookrun.EventSummary `json:"events"`
	NextPageToken string                 `json:"next_page_token,omitempty"`
}

// listEvents handles GET /v1/tenants/{tenant}/events: a page of the
// tenant's events, newest first, without their data, each with its
// deliveries counted by state.
func (s *Service) listEvents(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	es, next, err := s.eventsPage(r.Context(), t.ID, r.URL.Query())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, eventsResponse{Events: es, NextPageToken: next})
	return nil
}

// eventsPage reads a page of a tenant's events as the query parameters
// event_type, delivery_state, since, until, page_size and page_token
// select it: the API's list and the portal's Events page both ask here,
// so they take the same parameters and refuse the same values.
func (s *Service) eventsPage(ctx context.Context, tenantID string, q url.Values) ([]hookrun.EventSummary, string, error) {
	f := hookrun.EventFilter{EventType: q.Get("event_type"), State: hookrun.DeliveryState(q.Get("delivery_state"))}
	var err error
	if f.Since, f.Until, err = timeRange(q.Get("since"), q.Get("until")); err != nil {
		return nil, "", err
	}
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	size, err := pageSize(q.Get("page_size"))
	if err != nil {
		return nil, "", err
	}
	es, next, err := s.store.ListEvents(ctx, tenantID, f, size, q.Get("page_token"))
	if err != nil {
		return nil, "", err
	}
	if es == nil {
		es = []hookrun.EventSummary{}
	}
	return es, next, nil
}
