package devstack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// deliveryView is a delivery as GET …/events/{event} shows it.
type deliveryView struct {
	ID string `json:"id"`
	hookrun.Delivery
}

func (d deliveryView) final() bool {
	return d.State == hookrun.DeliverySucceeded || d.State == hookrun.DeliveryDead
}

func (d deliveryView) String() string {
	s := fmt.Sprintf("%s after %d attempts", d.State, len(d.AttemptLog))
	if d.DeadReason != "" {
		s += fmt.Sprintf(" (%q)", d.DeadReason)
	}
	if !d.NextAttemptAt.IsZero() {
		s += ", next attempt due " + d.NextAttemptAt.Local().Format(timeFmt)
	}
	if d.Chain != "" {
		s += ", replay " + d.Chain
	}
	return s
}

// eventDeliveries reads an event's deliveries by endpoint ID.
func eventDeliveries(ctx context.Context, c *Client, key, eventID string) (map[string]deliveryView, error) {
	var v struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/tenants/"+faultTenant+"/events/"+url.PathEscape(eventID), key, nil, &v); err != nil {
		return nil, fmt.Errorf("get event %s: %w", eventID, err)
	}
	out := map[string]deliveryView{}
	for _, d := range v.Deliveries {
		out[d.EndpointID] = d
	}
	return out, nil
}

// pollEvents reads the events' deliveries, a few at a time, until done
// holds for each or ctx ends, and returns what it read last of each.
// Firestore has no change feed to wait on, so this polls.
func pollEvents(ctx context.Context, c *Client, key string, ids []string, done func(id string, ds map[string]deliveryView) bool) map[string]map[string]deliveryView {
	last := map[string]map[string]deliveryView{}
	var mu sync.Mutex
	todo := ids
	for len(todo) > 0 {
		var g errgroup.Group
		g.SetLimit(6)
		var left []string
		for _, id := range todo {
			g.Go(func() error {
				ds, err := eventDeliveries(ctx, c, key, id)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					last[id] = ds
				}
				if err != nil || !done(id, ds) {
					left = append(left, id)
				}
				return nil
			})
		}
		_ = g.Wait()
		todo = left
		if len(todo) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(500 * time.Millisecond):
		}
	}
	return last
}

// recordLostToKill reports whether ep answered 2xx to eventID just before
// one of the kills, within faultRecordLostWindow: a first message's record
// of success is written after its acknowledgement, and a dispatcher killed
// without SIGTERM loses what it still held (README, "Records written after
// the acknowledgement"). The event was delivered; nothing resends it.
func recordLostToKill(ep *faultEndpoint, eventID string, kills []faultKill) bool {
	for _, req := range ep.rc.requests(eventID) {
		if req.status < 200 || req.status > 299 {
			continue
		}
		for _, k := range kills {
			if !req.at.Before(k.at.Add(-faultRecordLostWindow)) && !req.at.After(k.at.Add(time.Second)) {
				return true
			}
		}
	}
	return false
}

// settleDeliveries polls every accepted event until each delivery it needs
// is final (or its record was lost to a kill after its 2xx) and none it
// has is still retrying, or faultSettle passes.
func settleDeliveries(ctx context.Context, c *Client, key string, events []sentEvent, eps []*faultEndpoint, watch *endpointWatch, kills []faultKill) (map[string]map[string]deliveryView, map[string]map[string]need) {
	needs := map[string]map[string]need{}
	var ids []string
	for _, ev := range events {
		if ev.Accepted.IsZero() {
			continue
		}
		ids = append(ids, ev.ID)
		needs[ev.ID] = map[string]need{}
		for _, ep := range eps {
			needs[ev.ID][ep.id] = watch.need(ep, ev)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, faultSettle)
	defer cancel()
	views := pollEvents(sctx, c, key, ids, func(id string, ds map[string]deliveryView) bool {
		for _, ep := range eps {
			n := needs[id][ep.id]
			d, ok := ds[ep.id]
			if (n == needFinal && !ok && !recordLostToKill(ep, id, kills)) || (ok && !d.final()) {
				return false
			}
		}
		return true
	})
	return views, needs
}

// checkSettled reports every needed delivery that is missing or not final,
// and dead letters without a reason; it returns the counts per endpoint.
// A missing delivery whose endpoint answered 2xx just before a kill is
// counted apart (recordLostToKill), not as lost.
func checkSettled(p *problems, events []sentEvent, eps []*faultEndpoint, needs map[string]map[string]need, views map[string]map[string]deliveryView, watch *endpointWatch, kills []faultKill) string {
	type tally struct{ needed, maybe, succeeded, dead, deadDisabled, missing, recordLost, unsettled int }
	tallies := map[string]*tally{}
	for _, ep := range eps {
		tallies[ep.id] = &tally{}
	}
	disabled := watch.disabled()
	for _, ev := range events {
		if ev.Accepted.IsZero() {
			continue
		}
		for _, ep := range eps {
			n, tl := needs[ev.ID][ep.id], tallies[ep.id]
			d, ok := views[ev.ID][ep.id]
			where := fmt.Sprintf("event %s (%s, accepted %s) → %s endpoint %s", ev.ID, ev.Type, ev.Accepted.Format(timeFmt), ep.name, ep.id)
			if st := disabled[ep.id]; st != "" {
				where += " [" + st + "]"
			}
			switch n {
			case needFinal:
				tl.needed++
			case needMaybe:
				tl.maybe++
			case needNothing:
				if ok && !ep.filter.Match(ev.Type) {
					p.add("deliveries to an endpoint not subscribed to the event's type", "%s: %v", where, d)
				}
				continue
			}
			switch {
			case !ok && n == needFinal && recordLostToKill(ep, ev.ID, kills):
				tl.recordLost++
			case !ok && n == needFinal:
				tl.missing++
				p.add("accepted events without a delivery to an endpoint active when they were accepted (lost)", "%s: no delivery record", where)
			case !ok:
			case !d.final():
				tl.unsettled++
				p.add("deliveries not final after "+faultSettle.String(), "%s: %v", where, d)
			case d.State == hookrun.DeliverySucceeded:
				tl.succeeded++
			default:
				tl.dead++
				disabledReason := strings.Contains(strings.ToLower(d.DeadReason), "disabled")
				if disabledReason {
					tl.deadDisabled++
				}
				if d.DeadReason == "" || (len(d.AttemptLog) == 0 && !disabledReason) {
					p.add("dead letters without their history or a reason", "%s: %v", where, d)
				}
				if ep.name == "steady" {
					p.add("dead letters at an endpoint that always answers 2xx", "%s: %v", where, d)
				}
			}
		}
	}
	var parts []string
	for _, ep := range eps {
		tl := tallies[ep.id]
		parts = append(parts, fmt.Sprintf("%s: needed %d (+%d disabled while sent), succeeded %d, dead %d (%d endpoint disabled), missing %d, delivered with the record lost to a kill %d, unsettled %d",
			ep.name, tl.needed, tl.maybe, tl.succeeded, tl.dead, tl.deadDisabled, tl.missing, tl.recordLost, tl.unsettled))
	}
	return strings.Join(parts, "; ")
}

// problems collects failed checks by kind, to report each kind once with
// its count and the first examples.
type problems struct {
	mu    sync.Mutex // checks run concurrently (together)
	kinds []string
	items map[string][]string
}

func (p *problems) add(kind, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.items == nil {
		p.items = map[string][]string{}
	}
	if _, ok := p.items[kind]; !ok {
		p.kinds = append(p.kinds, kind)
	}
	p.items[kind] = append(p.items[kind], fmt.Sprintf(format, args...))
}

// report writes each kind as one test error: count, then up to 15 items.
func (p *problems) report(errorf func(string, ...any)) {
	const shown = 15
	for _, k := range p.kinds {
		items := p.items[k]
		more := ""
		if len(items) > shown {
			more = fmt.Sprintf("\n\t… and %d more", len(items)-shown)
			items = items[:shown]
		}
		errorf("%s: %d\n\t%s%s", k, len(p.items[k]), strings.Join(items, "\n\t"), more)
	}
}

// faultKill is one kill of the dispatcher: at is just before SIGKILL,
// restarted just before the new process started.
type faultKill struct{ at, restarted time.Time }

// explains reports whether the kill explains a second 2xx at cur for a
// webhook-id whose previous 2xx came at prev: that one was in flight, its
// outcome not yet recorded. The receiver may handle a request the killed
// process sent a moment after the kill, hence the second of slack.
func (k faultKill) explains(prev, cur time.Time, window time.Duration) bool {
	return !prev.Before(k.at.Add(-window)) && !prev.After(k.restarted.Add(time.Second)) && !cur.Before(k.at)
}

// duplicateCheck reads what a receiver got: every request for one event
// carries the webhook-id of the event and endpoint, and a second 2xx for
// it must follow a kill of the dispatcher that the 2xx before was in
// flight at (within window before it). It returns the extra 2xx answers
// and how many of them a kill explains.
func duplicateCheck(p *problems, ep *faultEndpoint, kills []faultKill, window time.Duration, replayStart time.Time) (dups, fromCrash int) {
	ep.rc.mu.Lock()
	defer ep.rc.mu.Unlock()
	ids := make([]string, 0, len(ep.rc.reqs))
	for id := range ep.rc.reqs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, eventID := range ids {
		reqs := ep.rc.reqs[eventID]
		want := hookrun.WebhookID(faultTenant, eventID, ep.id)
		var ok []scriptedReq
		for i, r := range reqs {
			if r.webhookID != want {
				p.add("requests with another webhook-id than the event's and endpoint's",
					"event %s → %s: request %d of %d carried %q, want %q", eventID, ep.name, i+1, len(reqs), r.webhookID, want)
			}
			if r.status/100 == 2 {
				ok = append(ok, r)
			}
		}
		for i := 1; i < len(ok); i++ {
			dups++
			prev, cur := ok[i-1].at, ok[i].at
			crash := false
			for _, k := range kills {
				crash = crash || k.explains(prev, cur, window)
			}
			if crash {
				fromCrash++
				continue
			}
			hint := ""
			if !prev.Before(replayStart) {
				hint = " — both after the replays started: one dead letter replayed twice?"
			}
			p.add("a second 2xx for one webhook-id that no kill explains",
				"event %s → %s (webhook-id %s): 2xx at %s and again at %s%s",
				eventID, ep.name, want, prev.Format(timeFmt), cur.Format(timeFmt), hint)
		}
	}
	return dups, fromCrash
}
