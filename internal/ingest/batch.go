package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/metrics"
)

// A batch is up to hookrun.MaxBatchEvents events in one request of at most
// hookrun.MaxBatchBytes, each shaped and judged like the body of POST /v1/events,
// and answered one by one, in order: one bad event refuses only itself.
const (
	// batchStoreCalls bounds the store calls one batch makes at a time
	// (claims, then the accepts and releases after the publish): enough
	// that a batch takes a few store round trips, not hundreds, and few
	// enough that one batch does not crowd out the instance's other
	// requests.
	batchStoreCalls = 50
	// maxBatchesInFlight bounds the batches an instance runs at once. A
	// batch at its largest holds about 30 MiB while it runs: its 5 MiB
	// body several times over (as read, as events, in its Firestore and
	// Pub/Sub messages) and 500 events' calls with their goroutines. Eight
	// keep an instance of infra's 512 MiB clear of its limit beside its
	// other requests, and are more events in flight than one CPU can take.
	maxBatchesInFlight = 8
	// batchWait is how long a batch waits for one of them to end before
	// it is refused with UNAVAILABLE, to retry: its body is not read
	// meanwhile.
	batchWait = 10 * time.Second
)

// batchRoom is the room an instance has for batches.
type batchRoom struct {
	slots chan struct{}
	wait  time.Duration
}

func newBatchRoom() batchRoom {
	return batchRoom{slots: make(chan struct{}, maxBatchesInFlight), wait: batchWait}
}

// take takes room for one batch and returns what gives it back.
func (b batchRoom) take(ctx context.Context) (release func(), err error) {
	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	select {
	case b.slots <- struct{}{}:
		return func() { <-b.slots }, nil
	case <-timer.C:
		return nil, &hookrun.Error{Code: hookrun.CodeUnavailable, RetryAfter: time.Second,
			Message: "this instance runs as many batches as it can: retry"}
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for room for a batch: %w", ctx.Err())
	}
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
	id   string // as the event gave it, or as made for it
	made bool   // whether ingest made the ID
	e    hookrun.Event
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
	release, err := s.batches.take(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	reqs, errs, err := httpapi.DecodeJSONList[publishEventRequest](w, r, hookrun.MaxBatchBytes, s.cfg.MaxBodyBytes, "events")
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 || len(reqs) > hookrun.MaxBatchEvents {
		return nil, hookrun.Errorf(hookrun.CodeInvalidArgument, "events: 1 to %d events, not %d", hookrun.MaxBatchEvents, len(reqs))
	}

	cat, err := s.catalogue(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	items, claims := s.checkBatch(t, cat, reqs, errs)
	s.sendBatch(r, items, claims)
	return items, nil
}

// checkBatch checks each event of a batch, decoded (reqs) or not (errs),
// as POST /v1/events checks one, and takes it from the tenant's rate
// limit; claims are the events to claim, the first of each ID.
func (s *Service) checkBatch(t hookrun.Tenant, cat hookrun.Catalogue, reqs []publishEventRequest, errs []error) (items []batchItem, claims []int) {
	items = make([]batchItem, len(reqs))
	firsts := make(map[string]int, len(reqs))
	for i, req := range reqs {
		it := &items[i]
		it.first, it.id, it.made, it.err = -1, req.ID, req.ID == "", errs[i]
		if it.err == nil {
			it.e, it.err = s.checkEvent(t, cat, req)
			it.id = it.e.ID
		}
		if it.err != nil {
			it.id = req.ID
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
		it.c = s.claim(ctx, it.e, it.made)
		it.err = it.c.err
	})
	var fresh []int
	for _, i := range claims {
		if items[i].err == nil && !items[i].c.duplicate {
			fresh = append(fresh, i)
		}
	}
	// Every publish is started, then waited for: they share the
	// publisher's batches as concurrent ones would, without a goroutine
	// each (whose stack grew anew for every event).
	published := make([]func() (string, error), len(fresh))
	for k, i := range fresh {
		published[k] = s.startClaimed(r, items[i].c, items[i].c.attributes())
	}
	for k, i := range fresh {
		items[i].msgID, items[i].err = published[k]()
	}
	each(fresh, batchStoreCalls, func(i int) {
		s.settle(ctx, items[i].c, items[i].msgID, items[i].err)
	})
	for i := range items {
		if j := items[i].first; j >= 0 {
			items[i].err = items[j].err
		}
	}
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
