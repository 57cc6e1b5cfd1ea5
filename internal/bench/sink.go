package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/wire"
)

// sink is the fast local receiver the benchmarks deliver to, in the bench
// process: it answers hookrun's ownership challenge, notes when each event
// reached each path, and answers 204. Paths are grouped by their first
// segment ("/fan10/3" is in group "fan10"), one group per scenario. In a
// group named failFirst, the first attempt of every webhook-id gets a 500.
type sink struct {
	URL string
	srv *http.Server

	mu      sync.Mutex
	groups  map[string]*group
	seen    map[string]bool // webhook-ids already failed once
	changed chan struct{}   // closed and replaced on every arrival
	gates   map[string]chan struct{}
}

// gate returns a channel holding n tokens; the sink puts one back each
// time a new event arrives in the group (see load.Gate).
func (s *sink) gate(name string, n int) chan struct{} {
	g := make(chan struct{}, n)
	for range n {
		g <- struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gates[name] = g
	return g
}

// failFirst is the group whose first attempts fail (the retry scenario).
const failFirst = "flaky"

// group is what arrived at one scenario's paths.
type group struct {
	events map[string]*arrival // by event ID (or Pub/Sub message ID)
	times  []time.Time         // every successful delivery, in order
}

// arrival is one event's deliveries to the distinct paths of a group.
type arrival struct {
	first, last time.Time // first delivery, and the one that reached the last new path
	paths       map[string]struct{}
}

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sink listen: %w", err)
	}
	s := &sink{URL: "http://" + l.Addr().String(), groups: map[string]*group{}, seen: map[string]bool{}, changed: make(chan struct{}), gates: map[string]chan struct{}{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *sink) close() error { return s.srv.Close() }

// ServeHTTP takes a hookrun delivery ({"id": …}) or a Pub/Sub push
// envelope ({"message": {"messageId": …}}).
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if devstack.AnswerChallenge(w, body) {
		return
	}
	var v struct {
		ID string `json:"id"`
		wire.PushEnvelope
	}
	if err := json.Unmarshal(body, &v); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := v.ID
	if id == "" {
		id = v.Message.MessageID
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")

	s.mu.Lock()
	defer s.mu.Unlock()
	if name == failFirst {
		if wid := r.Header.Get("webhook-id"); !s.seen[wid] {
			s.seen[wid] = true
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	s.noteLocked(name, id, r.URL.Path, now)
	w.WriteHeader(http.StatusNoContent)
}

// note records that message id reached the group's path at now, as a
// delivery the sink answered does: for messages a scenario receives in the
// bench process by other means than HTTP (the pull ceiling's streaming
// pull).
func (s *sink) note(name, id, path string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteLocked(name, id, path, now)
}

func (s *sink) noteLocked(name, id, path string, now time.Time) {
	g := s.groups[name]
	if g == nil {
		g = &group{events: map[string]*arrival{}}
		s.groups[name] = g
	}
	g.times = append(g.times, now)
	a := g.events[id]
	if a == nil {
		a = &arrival{first: now, paths: map[string]struct{}{}}
		g.events[id] = a
		select {
		case s.gates[name] <- struct{}{}: // no gate (nil) or a full one: nothing to return
		default:
		}
	}
	if _, dup := a.paths[path]; !dup {
		a.paths[path] = struct{}{}
		a.last = now
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until every one of ids reached paths distinct paths of the
// group, or ctx is done; it returns how many had not.
func (s *sink) wait(ctx context.Context, name string, ids []string, paths int) (missing int) {
	for {
		s.mu.Lock()
		missing = 0
		if g := s.groups[name]; g != nil {
			for _, id := range ids {
				if a := g.events[id]; a == nil || len(a.paths) < paths {
					missing++
				}
			}
		} else {
			missing = len(ids)
		}
		changed := s.changed
		s.mu.Unlock()
		if missing == 0 {
			return 0
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return missing
		}
	}
}

// arrivals returns when each of ids completed (reached its last distinct
// path) in the group; events that have not are left out.
func (s *sink) arrivals(name string, ids []string) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	g := s.groups[name]
	if g == nil {
		return out
	}
	for _, id := range ids {
		if a := g.events[id]; a != nil {
			out[id] = a.last
		}
	}
	return out
}

// deliveredBetween counts the group's successful deliveries in [from, to).
func (s *sink) deliveredBetween(name string, from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		return 0
	}
	n := 0
	for _, t := range g.times {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}
