package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// replayOutcome counts what replayAll did.
type replayOutcome struct {
	dead, single, succeeded int
	bulk                    [2]int64
}

// replayAll replays the tenant's dead letters: three concurrent single
// replays of a few letters (exactly one may be accepted), then, once those
// are delivered, two concurrent bulk replays (their counts must add up to
// the letters left); then it waits until every letter is delivered.
func replayAll(ctx context.Context, t *testing.T, p *problems, c *Client, key string) replayOutcome {
	t.Helper()
	var out replayOutcome
	letters, err := deadLetters(ctx, c, key)
	if err != nil {
		t.Fatal(err)
	}
	out.dead = len(letters)
	if len(letters) == 0 {
		p.add("no dead letters to replay", "the doomed endpoint should have left some")
		return out
	}
	// One letter of each endpoint that has any, at most three.
	var singles []deliveryView
	seen := map[string]bool{}
	for _, d := range letters {
		if !seen[d.EndpointID] && len(singles) < 3 {
			seen[d.EndpointID] = true
			singles = append(singles, d)
		}
	}
	const tries = 3
	answers := make([][tries]string, len(singles))
	together(len(singles)*tries, func(i int) {
		d := singles[i/tries]
		err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+faultTenant+"/dead-letters/"+url.PathEscape(d.ID)+":replay", key, nil, nil)
		var ae *APIError
		switch {
		case err == nil:
			answers[i/tries][i%tries] = "202"
		case errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Body, "FAILED_PRECONDITION"):
			answers[i/tries][i%tries] = "400 FAILED_PRECONDITION"
		default:
			answers[i/tries][i%tries] = err.Error()
		}
	})
	for i, d := range singles {
		accepted := 0
		for _, a := range answers[i] {
			if a == "202" {
				accepted++
			} else if a != "400 FAILED_PRECONDITION" {
				p.add("single replays answered other than 202 or 400 FAILED_PRECONDITION", "dead letter %s: %s", d.ID, a)
			}
		}
		out.single += accepted
		if accepted != 1 {
			p.add("dead letters that concurrent single replays did not claim exactly once",
				"dead letter %s (%s): %d concurrent replays answered %v, want exactly one 202", d.ID, d.DeadReason, tries, answers[i])
		}
	}
	// Delivered before the bulk replays start, which would replay again
	// what a single replay lost.
	for _, n := range waitDelivered(ctx, c, key, singles, faultSettle/2) {
		p.add("single replays answered 202 but not delivered after "+(faultSettle/2).String(), "%s", n)
	}

	// The bulk replays count what is left.
	left, err := deadLetters(ctx, c, key)
	if err != nil {
		t.Fatal(err)
	}
	together(2, func(i int) {
		var r struct {
			Count int64 `json:"count"`
		}
		// A 503 (storage unavailable, retry) is retried as a client does,
		// for a while: a dispatcher killed while it counted a dead letter
		// holds that delivery's lock until Firestore ends its transaction,
		// and a replay's claim of it waits meanwhile. The refused replay's
		// claims were released, so the retry claims them again.
		var err error
		for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(time.Second) {
			err = c.Do(ctx, http.MethodPost, "/v1/tenants/"+faultTenant+"/dead-letters:replay", key, nil, &r)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			p.add("bulk replays refused", "bulk replay %d: %v", i+1, err)
			return
		}
		out.bulk[i] = r.Count
	})
	if got := out.bulk[0] + out.bulk[1]; got != int64(len(left)) {
		p.add("concurrent bulk replays that did not claim each dead letter once",
			"counts %d + %d = %d, want %d: the dead letters left after the single replays", out.bulk[0], out.bulk[1], got, len(left))
	}
	not := waitDelivered(ctx, c, key, letters, faultSettle)
	for _, n := range not {
		p.add("replayed dead letters not delivered after "+faultSettle.String(), "%s", n)
	}
	out.succeeded = len(letters) - len(not)
	return out
}

// waitDelivered waits until every one of the letters is succeeded, or
// timeout passes, and returns those that are not, with their state.
func waitDelivered(ctx context.Context, c *Client, key string, letters []deliveryView, timeout time.Duration) []string {
	byEvent := map[string][]string{}
	for _, d := range letters {
		byEvent[d.EventID] = append(byEvent[d.EventID], d.EndpointID)
	}
	ids := make([]string, 0, len(byEvent))
	for id := range byEvent {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	views := pollEvents(sctx, c, key, ids, func(id string, ds map[string]deliveryView) bool {
		for _, epID := range byEvent[id] {
			if ds[epID].State != hookrun.DeliverySucceeded {
				return false
			}
		}
		return true
	})
	var not []string
	for _, d := range letters {
		if v := views[d.EventID][d.EndpointID]; v.State != hookrun.DeliverySucceeded {
			not = append(not, fmt.Sprintf("dead letter %s (was %q): now %v", d.ID, d.DeadReason, v))
		}
	}
	return not
}

// deadLetters lists every dead letter of the tenant, following pages.
func deadLetters(ctx context.Context, c *Client, key string) ([]deliveryView, error) {
	var all []deliveryView
	token := ""
	for {
		var page struct {
			DeadLetters   []deliveryView `json:"dead_letters"`
			NextPageToken string         `json:"next_page_token"`
		}
		path := "/v1/tenants/" + faultTenant + "/dead-letters?page_size=500"
		if token != "" {
			path += "&page_token=" + url.QueryEscape(token)
		}
		if err := c.Do(ctx, http.MethodGet, path, key, nil, &page); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		all = append(all, page.DeadLetters...)
		if token = page.NextPageToken; token == "" {
			return all, nil
		}
	}
}

// together runs fn(0) … fn(n-1) at the same moment and waits for them.
func together(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
