package receiver

import (
	"hash/maphash"
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
//
// It keeps a 128-bit keyed hash of each ID, not the ID, in nodes of one
// slice linked by index: about 115 bytes an ID with the map, and nothing for
// the garbage collector to scan, where the strings in a container/list took
// 190 bytes and four pointers (at the default 100,000 IDs, 11 MiB instead
// of 18 MiB of live heap). The hash is seeded per process, so two IDs
// collide with odds of about 2⁻¹²⁸ and no sender can aim for a collision.
type recentIDs struct {
	window time.Duration
	max    int
	seeds  [2]maphash.Seed

	mu    sync.Mutex
	nodes []idNode        // nodes[0] is the list's sentinel
	free  []int32         // indexes of unused nodes
	byKey map[idKey]int32 // index into nodes
}

type idKey [2]uint64

// idNode is an ID in the recency list: front (next of the sentinel) is
// the most recently claimed or finished.
type idNode struct {
	key        idKey
	prev, next int32
	inFlight   bool
	expires    int64 // Unix nanoseconds, when not in flight
}

func newRecentIDs(window time.Duration, max int) *recentIDs {
	return &recentIDs{
		window: window, max: max,
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		nodes: []idNode{{}}, // the sentinel links to itself
		byKey: make(map[idKey]int32),
	}
}

func (r *recentIDs) key(id string) idKey {
	return idKey{maphash.String(r.seeds[0], id), maphash.String(r.seeds[1], id)}
}

// begin claims id at now unless it is a duplicate or in flight. A claimed
// id must be finished.
func (r *recentIDs) begin(id string, now time.Time) claim {
	k := r.key(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if i, ok := r.byKey[k]; ok {
		n := &r.nodes[i]
		switch {
		case n.inFlight:
			return inFlight
		case now.UnixNano() < n.expires:
			return duplicate
		}
		n.inFlight = true
		r.moveToFront(i)
		return claimed
	}
	r.add(k, true, 0)
	r.prune(now)
	return claimed
}

// finish ends the claim on id: handled records it for the window,
// otherwise it is forgotten.
func (r *recentIDs) finish(id string, handled bool, now time.Time) {
	k := r.key(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.byKey[k]
	if !handled {
		if ok {
			r.remove(i)
		}
		return
	}
	expires := now.Add(r.window).UnixNano()
	if !ok { // pushed out while in flight by a flood of new IDs
		r.add(k, false, expires)
	} else {
		r.nodes[i].inFlight, r.nodes[i].expires = false, expires
		r.moveToFront(i)
	}
	r.prune(now)
}

// prune drops expired IDs from the back, where the oldest are, and the
// oldest beyond max. Finished IDs move to the front with the same window,
// so the back expires first; an ID still in flight there stops the
// expiry sweep but not the size bound.
func (r *recentIDs) prune(now time.Time) {
	t := now.UnixNano()
	for len(r.byKey) > 0 {
		i := r.nodes[0].prev
		n := &r.nodes[i]
		if len(r.byKey) <= r.max && (n.inFlight || t < n.expires) {
			return
		}
		r.remove(i)
	}
}

// add puts a new key at the front, reusing a free node if there is one.
func (r *recentIDs) add(k idKey, inFlight bool, expires int64) {
	var i int32
	if f := len(r.free); f > 0 {
		i, r.free = r.free[f-1], r.free[:f-1]
	} else {
		r.nodes = append(r.nodes, idNode{})
		i = int32(len(r.nodes) - 1)
	}
	r.nodes[i] = idNode{key: k, inFlight: inFlight, expires: expires}
	r.byKey[k] = i
	r.link(i)
}

func (r *recentIDs) remove(i int32) {
	r.unlink(i)
	delete(r.byKey, r.nodes[i].key)
	r.free = append(r.free, i)
}

func (r *recentIDs) moveToFront(i int32) {
	r.unlink(i)
	r.link(i)
}

// link puts node i right after the sentinel.
func (r *recentIDs) link(i int32) {
	first := r.nodes[0].next
	r.nodes[i].prev, r.nodes[i].next = 0, first
	r.nodes[first].prev = i
	r.nodes[0].next = i
}

func (r *recentIDs) unlink(i int32) {
	n := r.nodes[i]
	r.nodes[n.prev].next = n.next
	r.nodes[n.next].prev = n.prev
}

// len is the number of IDs remembered or in flight.
func (r *recentIDs) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byKey)
}
