package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// sentEvent is one event of the fault test and when it was sent.
type sentEvent struct {
	ID, Type string
	// FirstTry is when its first POST started; Accepted when a POST was
	// answered 202 (zero: never).
	FirstTry, Accepted time.Time
}

// eventSender posts the fault test's events from a few workers. A POST that
// is not answered 202 did not make the event accepted; the worker sends it
// again with the same id, which makes that safe, and counts the refusal.
type eventSender struct {
	c     *Client
	key   string
	queue chan int
	wg    sync.WaitGroup

	mu      sync.Mutex
	events  []sentEvent
	settled int            // accepted or given up
	refused map[string]int // answers other than 202, by status
	failed  []string       // events given up on, with why
	changed chan struct{}
}

// faultEvent names the i-th event; its type cycles through types.
func faultEvent(i int, types []string) sentEvent {
	return sentEvent{ID: fmt.Sprintf("fault-%03d", i), Type: types[i%len(types)]}
}

func newEventSender(ctx context.Context, c *Client, key string, n, workers int, types []string) *eventSender {
	s := &eventSender{c: c, key: key, queue: make(chan int), refused: map[string]int{}, changed: make(chan struct{})}
	for i := range n {
		s.events = append(s.events, faultEvent(i, types))
	}
	for range workers {
		s.wg.Go(func() {
			for i := range s.queue {
				s.post(ctx, i)
			}
		})
	}
	return s
}

// feed hands events from..to-1 to the workers, one every interval: a
// steady stream, so the faults land while events are in flight.
func (s *eventSender) feed(ctx context.Context, from, to int, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := from; i < to; i++ {
		select {
		case s.queue <- i:
		case <-ctx.Done():
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// close stops the workers once the events fed so far are settled.
func (s *eventSender) close() {
	close(s.queue)
	s.wg.Wait()
}

func (s *eventSender) post(ctx context.Context, i int) {
	s.mu.Lock()
	ev := s.events[i]
	s.mu.Unlock()
	first := time.Now()
	finish := func(accepted time.Time, failure string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.events[i].FirstTry, s.events[i].Accepted = first, accepted
		if failure != "" {
			s.failed = append(s.failed, fmt.Sprintf("event %s: %s", ev.ID, failure))
		}
		s.settled++
		close(s.changed)
		s.changed = make(chan struct{})
	}
	for {
		_, err := s.c.SendEvent(ctx, s.key, ev.ID, ev.Type, map[string]any{"i": i})
		if err == nil {
			finish(time.Now(), "")
			return
		}
		status := "transport error"
		var ae *APIError
		if errors.As(err, &ae) {
			status = strconv.Itoa(ae.Status)
			// 409: the same id is still being accepted; 429 and 5xx: try
			// again. Any other answer is the test's mistake.
			if ae.Status != http.StatusConflict && ae.Status != http.StatusTooManyRequests && ae.Status < 500 {
				finish(time.Time{}, err.Error())
				return
			}
		}
		s.mu.Lock()
		s.refused[status]++
		s.mu.Unlock()
		select {
		case <-time.After(250 * time.Millisecond): // the refusal's own backoff
		case <-ctx.Done():
			finish(time.Time{}, fmt.Sprintf("not accepted before the deadline; last answer: %v", err))
			return
		}
	}
}

// waitSettled waits until n events are accepted or given up on.
func (s *eventSender) waitSettled(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		done, changed := s.settled >= n, s.changed
		settled := s.settled
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d events accepted or given up on: %w", settled, n, ctx.Err())
		}
	}
}

// snapshot returns the events, their refusals and failures so far.
func (s *eventSender) snapshot() ([]sentEvent, map[string]int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refused := map[string]int{}
	for k, v := range s.refused {
		refused[k] = v
	}
	return append([]sentEvent(nil), s.events...), refused, append([]string(nil), s.failed...)
}

// endpointWatch records what the API says about the endpoints' status and
// when, to tell which endpoints were active when an event was accepted.
// While events are sent an endpoint only goes from active to disabled.
type endpointWatch struct {
	c           *Client
	key, tenant string

	mu sync.Mutex
	// activeUntil is the start of the last look that found it active: it
	// was active then, so at every earlier moment of the run.
	activeUntil map[string]time.Time
	// disabledFrom is the end of the first look that found it disabled.
	disabledFrom map[string]time.Time
	reason       map[string]string
	// odd lists statuses that break the one-way rule.
	odd []string
	// changed is closed and replaced when an endpoint is first seen disabled.
	changed chan struct{}
}

func newEndpointWatch(c *Client, key, tenant string) *endpointWatch {
	return &endpointWatch{c: c, key: key, tenant: tenant,
		activeUntil: map[string]time.Time{}, disabledFrom: map[string]time.Time{}, reason: map[string]string{}, changed: make(chan struct{})}
}

// look reads every endpoint's status once.
func (w *endpointWatch) look(ctx context.Context) error {
	start := time.Now()
	var list struct {
		Endpoints []hookrun.Endpoint `json:"endpoints"`
	}
	if err := w.c.Do(ctx, http.MethodGet, "/v1/tenants/"+w.tenant+"/endpoints", w.key, nil, &list); err != nil {
		return fmt.Errorf("list endpoints: %w", err)
	}
	end := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ep := range list.Endpoints {
		switch ep.Status {
		case hookrun.EndpointActive:
			if df := w.disabledFrom[ep.ID]; !df.IsZero() {
				w.odd = append(w.odd, fmt.Sprintf("endpoint %s active at %s after disabled at %s, though the test did not enable it",
					ep.ID, start.Format(timeFmt), df.Format(timeFmt)))
			}
			if start.After(w.activeUntil[ep.ID]) {
				w.activeUntil[ep.ID] = start
			}
		case hookrun.EndpointDisabled:
			if w.disabledFrom[ep.ID].IsZero() {
				w.disabledFrom[ep.ID], w.reason[ep.ID] = end, ep.DisabledReason
				close(w.changed)
				w.changed = make(chan struct{})
			}
		default:
			w.odd = append(w.odd, fmt.Sprintf("endpoint %s is %s at %s", ep.ID, ep.Status, start.Format(timeFmt)))
		}
	}
	return nil
}

// watch looks every interval until ctx is done. A look that fails (during a
// fault, say) is skipped: the next one counts.
func (w *endpointWatch) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = w.look(lctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// need says what an event needs from one endpoint.
type need int

const (
	// needNothing: not subscribed, or disabled before the event was sent.
	needNothing need = iota
	// needMaybe: disabled while the event was being sent; a delivery, if
	// any, must end like any other.
	needMaybe
	// needFinal: subscribed and active when accepted, so delivered or a
	// dead letter with its history.
	needFinal
)

func (w *endpointWatch) need(ep *faultEndpoint, ev sentEvent) need {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ev.Accepted.IsZero() || !ep.filter.Match(ev.Type):
		return needNothing
	case !ev.Accepted.After(w.activeUntil[ep.id]):
		return needFinal
	case !w.disabledFrom[ep.id].IsZero() && !ev.FirstTry.Before(w.disabledFrom[ep.id]):
		return needNothing
	}
	return needMaybe
}

// waitDisabled waits until a look finds the endpoint disabled.
func (w *endpointWatch) waitDisabled(ctx context.Context, id string) error {
	for {
		w.mu.Lock()
		done, changed := !w.disabledFrom[id].IsZero(), w.changed
		w.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("endpoint %s never seen disabled: %w", id, ctx.Err())
		}
	}
}

// oddities returns the statuses seen that break the one-way rule.
func (w *endpointWatch) oddities() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.odd...)
}

// disabled returns the endpoints seen disabled, with when and why.
func (w *endpointWatch) disabled() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for id, at := range w.disabledFrom {
		out[id] = fmt.Sprintf("disabled by %s (%q)", at.Format(timeFmt), w.reason[id])
	}
	return out
}

const timeFmt = "15:04:05.000"

// faultEndpoint is one endpoint of the fault test and its receiver.
type faultEndpoint struct {
	name   string
	id     string
	filter hookrun.Patterns
	rc     *scripted
}
