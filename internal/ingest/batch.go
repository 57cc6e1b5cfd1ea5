package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/metrics"
)

// A batch is up to maxBatchEvents events in one request of at most
// maxBatchBytes, each shaped and judged like the body of POST /v1/events,
// and answered one by one, in order: one bad event refuses only itself.
const (
	maxBatchEvents = 500
	maxBatchBytes  = 5 << 20
	// batchStoreCalls bounds the store calls one batch makes at a time
	// (claims, then the accepts and releases after the publish): enough
	// that a batch takes a few store round trips, not hundreds, and few
	// enough that one batch does not crowd out the instance's other
	// requests.
	batchStoreCalls = 50
	// maxBatchBytesInFlight bounds the batch bodies an instance holds at
	// once. A batch holds its body several times over while it runs (as
	// read, as events, in its Firestore and Pub/Sub messages), so 64 MiB
	// of bodies keeps an instance of infra's 512 MiB clear of its limit
	// even with 80 requests of 5 MiB at once.
	maxBatchBytesInFlight = 64 << 20
	// batchWait is how long a batch waits for room among them before it
	// is refused with UNAVAILABLE, to retry.
	batchWait = 2 * time.Second
)

// batchRoom is the room an instance has for batch bodies.
type batchRoom struct {
	bytes *semaphore.Weighted
	wait  time.Duration
}

func newBatchRoom() batchRoom {
	return batchRoom{bytes: semaphore.NewWeighted(maxBatchBytesInFlight), wait: batchWait}
}

// take takes room for the body of r, by its Content-Length or, unknown,
// the most a batch may be, and returns what gives it back.
func (b batchRoom) take(r *http.Request) (release func(), err error) {
	n := int64(maxBatchBytes)
	if r.ContentLength > 0 {
		n = min(r.ContentLength, n)
	}
	ctx, cancel := context.WithTimeout(r.Context(), b.wait)
	defer cancel()
	if err := b.bytes.Acquire(ctx, n); err != nil {
		return nil, &hookrun.Error{Code: hookrun.CodeUnavailable, Err: err, RetryAfter: time.Second,
			Message: "this instance holds as many batches as it can: retry"}
	}
	return func() { b.bytes.Release(n) }, nil
}

func (s *Service) batchRoutes() []route {
	return []route{
		{"POST /v1/events:batch", s.publishBatch},
		{"POST /v1/tenants/{tenant}/events:batch", s.publishBatch},
	}
}

// What a batch answers for one event.
const (
	resultAccepted  = "accepted"
	resultDuplicate = "duplicate"
	resultRefused   = "refused"
)

// batchRequest is a batch as sent: its events are decoded one by one.
type batchRequest struct {
	Events []json.RawMessage `json:"events"`
}

type batchResponse struct {
	// Results answers the request's events in their order.
	Results    []batchResult `json:"results"`
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Refused    int           `json:"refused"`
}

type batchResult struct {
	// ID is the event's; a refused event without one has none.
	ID     string             `json:"id,omitempty"`
	Result string             `json:"result"`
	Error  *httpapi.ItemError `json:"error,omitempty"`
}

// batchItem is one event of a batch on its way.
type batchItem struct {
	id string // as the event gave it, or as made for it
	e  hookrun.Event
	// first is the index of an earlier event of the batch with the same
	// ID, whose answer this one shares; -1 when none.
	first int
	c     claimed
	msgID string
	err   error // why the event is refused
}

// publishBatch handles POST /v1/events:batch and
// POST /v1/tenants/{tenant}/events:batch, and counts each event as
// POST /v1/events counts one; a request refused whole counts once.
func (s *Service) publishBatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	items, err := s.acceptBatch(w, r)
	if err != nil {
		s.opMetrics.EventRefused(ctx, err)
		return err
	}
	res := batchResponse{Results: make([]batchResult, len(items))}
	for i, it := range items {
		switch {
		case it.err != nil:
			res.Refused++
			s.opMetrics.EventRefused(ctx, it.err)
			ierr := httpapi.ErrorOf(r, it.err)
			res.Results[i] = batchResult{ID: it.id, Result: resultRefused, Error: &ierr}
		case it.first >= 0 || it.c.duplicate:
			res.Duplicates++
			res.Results[i] = batchResult{ID: it.id, Result: resultDuplicate}
		default:
			res.Accepted++
			s.opMetrics.EventAccepted(ctx, metrics.SourceAPI)
			res.Results[i] = batchResult{ID: it.id, Result: resultAccepted}
		}
	}
	httpapi.AddLogAttrs(ctx, slog.Int("events", len(items)), slog.Int("accepted", res.Accepted),
		slog.Int("duplicates", res.Duplicates), slog.Int("refused", res.Refused))
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

// acceptBatch takes a batch through the steps accept takes one event
// through, each step for every event at once: check each, take each from
// the tenant's rate limit, claim them (batchStoreCalls at a time), publish
// them all, so that the Pub/Sub client sends them in a few batches, then
// settle each. An event whose ID an earlier event of the batch has shares
// that event's answer: a duplicate, or the same refusal.
func (s *Service) acceptBatch(w http.ResponseWriter, r *http.Request) ([]batchItem, error) {
	ctx := r.Context()
	t, err := s.sendingTenant(r)
	if err != nil {
		return nil, err
	}
	if err := maySend(t); err != nil {
		return nil, err
	}
	release, err := s.batches.take(r)
	if err != nil {
		return nil, err
	}
	defer release()
	var req batchRequest
	if err := httpapi.DecodeJSONParts(w, r, maxBatchBytes, &req); err != nil {
		return nil, err
	}
	raws := req.Events
	if len(raws) == 0 || len(raws) > maxBatchEvents {
		return nil, hookrun.Errorf(hookrun.CodeInvalidArgument, "events: 1 to %d events, not %d", maxBatchEvents, len(raws))
	}

	cat, err := s.catalogue(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	items, claims := s.checkBatch(t, cat, raws)
	s.sendBatch(r, items, claims)
	return items, nil
}

// checkBatch checks each event of a batch and takes it from the tenant's
// rate limit; claims are the events to claim, the first of each ID.
func (s *Service) checkBatch(t hookrun.Tenant, cat hookrun.Catalogue, raws []json.RawMessage) (items []batchItem, claims []int) {
	items = make([]batchItem, len(raws))
	firsts := make(map[string]int, len(raws))
	for i, raw := range raws {
		it := &items[i]
		it.first = -1
		it.id, it.e, it.err = s.checkBatchEvent(t, cat, raw)
		if it.err != nil {
			continue
		}
		if j, ok := firsts[it.id]; ok {
			it.first = j
			continue
		}
		firsts[it.id] = i
		if it.err = s.allowEvent(t); it.err == nil {
			claims = append(claims, i)
		}
	}
	return items, claims
}

// sendBatch claims, publishes and settles the events of items at claims,
// and gives each later event with the ID of an earlier one that one's
// refusal, if any.
func (s *Service) sendBatch(r *http.Request, items []batchItem, claims []int) {
	ctx := r.Context()
	each(claims, batchStoreCalls, func(i int) {
		it := &items[i]
		it.c = s.claim(ctx, it.e)
		it.err = it.c.err
	})
	var fresh []int
	for _, i := range claims {
		if items[i].err == nil && !items[i].c.duplicate {
			fresh = append(fresh, i)
		}
	}
	each(fresh, len(fresh), func(i int) {
		it := &items[i]
		it.msgID, it.err = s.publishClaimed(r, it.c, it.c.attributes())
	})
	each(fresh, batchStoreCalls, func(i int) {
		s.settle(ctx, items[i].e, items[i].msgID, items[i].err)
	})
	for i := range items {
		if j := items[i].first; j >= 0 {
			items[i].err = items[j].err
		}
	}
}

// checkBatchEvent decodes one event of a batch and checks it as
// POST /v1/events checks its body; id is the event's ID, as given or
// made, or what it gave when refused.
func (s *Service) checkBatchEvent(t hookrun.Tenant, cat hookrun.Catalogue, raw []byte) (id string, e hookrun.Event, err error) {
	if int64(len(raw)) > s.cfg.MaxBodyBytes {
		return "", hookrun.Event{}, hookrun.Errorf(hookrun.CodePayloadTooLarge,
			"event is larger than %d bytes, the limit of one event (HOOKRUN_MAX_BODY_BYTES)", s.cfg.MaxBodyBytes)
	}
	var req publishEventRequest
	if err := httpapi.UnmarshalJSON(raw, &req); err != nil {
		return req.ID, hookrun.Event{}, err
	}
	if e, err = s.checkEvent(t, cat, req); err != nil {
		return req.ID, hookrun.Event{}, err
	}
	return e.ID, e, nil
}

// each calls fn with every index of is, on at most limit goroutines at a
// time, and returns once every call has returned.
func each(is []int, limit int, fn func(i int)) {
	if len(is) == 0 {
		return
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for _, i := range is {
		g.Go(func() error {
			fn(i)
			return nil
		})
	}
	_ = g.Wait() // fn returns no error
}
