package receiver

import (
	"container/list"
	"sync"
	"time"
)

// claim is what recentIDs.begin found for an ID.
type claim int

const (
	// claimed: the ID is new (or its window ended); the caller owns it
	// until finish.
	claimed claim = iota
	// duplicate: the ID was handled within the window.
	duplicate
	// inFlight: another request is handling the ID right now.
	inFlight
)

// recentIDs remembers the webhook IDs handled within a window, so a
// sender's retry of a webhook already handed off is acknowledged without a
// second hand-off. It is bounded (the oldest IDs go first when full) and
// per process: instances of a scaled-out service do not share it, which is
// why handlers must still tolerate the occasional duplicate.
//
// An ID counts only once finish reports success: a failed hand-off is
// forgotten, so the sender's retry tries again. It is safe for concurrent
// use.
type recentIDs struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	order *list.List // of *recentID, most recently claimed or finished first
	byID  map[string]*list.Element
}

type recentID struct {
	id       string
	inFlight bool
	expires  time.Time // when not in flight
}

func newRecentIDs(window time.Duration, max int) *recentIDs {
	return &recentIDs{window: window, max: max, order: list.New(), byID: make(map[string]*list.Element)}
}

// begin claims id at now unless it is a duplicate or in flight. A claimed
// id must be finished.
func (r *recentIDs) begin(id string, now time.Time) claim {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byID[id]; ok {
		v := e.Value.(*recentID)
		switch {
		case v.inFlight:
			return inFlight
		case now.Before(v.expires):
			return duplicate
		}
		v.inFlight = true
		r.order.MoveToFront(e)
		return claimed
	}
	r.byID[id] = r.order.PushFront(&recentID{id: id, inFlight: true})
	r.prune(now)
	return claimed
}

// finish ends the claim on id: handled records it for the window,
// otherwise it is forgotten.
func (r *recentIDs) finish(id string, handled bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !handled {
		if ok {
			r.remove(e)
		}
		return
	}
	if !ok { // pushed out while in flight by a flood of new IDs
		e = r.order.PushFront(&recentID{id: id})
		r.byID[id] = e
	}
	v := e.Value.(*recentID)
	v.inFlight, v.expires = false, now.Add(r.window)
	r.order.MoveToFront(e)
	r.prune(now)
}

// prune drops expired IDs from the back, where the oldest are, and the
// oldest beyond max. Finished IDs move to the front with the same window,
// so the back expires first; an ID still in flight there stops the
// expiry sweep but not the size bound.
func (r *recentIDs) prune(now time.Time) {
	for r.order.Len() > 0 {
		e := r.order.Back()
		v := e.Value.(*recentID)
		if r.order.Len() <= r.max && (v.inFlight || now.Before(v.expires)) {
			return
		}
		r.remove(e)
	}
}

func (r *recentIDs) remove(e *list.Element) {
	delete(r.byID, e.Value.(*recentID).id)
	r.order.Remove(e)
}

// len is the number of IDs remembered or in flight.
func (r *recentIDs) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.order.Len()
}
