package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// Bounds of tail's polling.
const (
	minTailInterval     = 250 * time.Millisecond
	maxTailInterval     = time.Minute
	defaultTailInterval = 2 * time.Second
	// tailPageSize and tailMaxPages bound one poll's read of the events
	// list: a tenant sending faster than this per poll is shown in part.
	tailPageSize = 500
	tailMaxPages = 10
	// tailLag is how far behind the newest event each poll lists again,
	// for events that become visible after a newer one (two ingest
	// instances, a slow write).
	tailLag = time.Minute
	// tailNoDeliveryWait is how long an event without deliveries is
	// watched for its first: after it, no endpoint matched it.
	tailNoDeliveryWait = 30 * time.Second
)

func (a *app) tailCmd() *cobra.Command {
	var (
		interval, follow time.Duration
		since            string
	)
	c := &cobra.Command{
		Use:   "tail",
		Short: "Follow the tenant's events and delivery attempts as they happen (polls; Ctrl-C ends)",
		Long: `tail prints each new event of the tenant as it arrives, then each delivery
attempt's outcome (status, latency, error, what happens next) as the dispatcher
makes it, until Ctrl-C. It polls the events list every --interval and reads an
event's attempts when its deliveries changed; an event's retries are followed
for --follow after it arrived. With -o json or ndjson it writes one JSON object
per line: {"kind":"event",…}, {"kind":"attempt",…} or {"kind":"delivery",…}.`,
		Example: `  hookrun tail
  hookrun tail --since 10m -o ndjson | jq 'select(.kind=="attempt" and .status_code>=500)'`,
		Args: exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if interval < minTailInterval || interval > maxTailInterval {
				return usageErrorf("--interval %v: want %v to %v", interval, minTailInterval, maxTailInterval)
			}
			from, err := parseTimeFlag("since", since, time.Now())
			if err != nil {
				return err
			}
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			t := &tailer{a: a, s: s, tenant: tenant, follow: follow, known: map[string]*tailEvent{}}
			return t.run(cmd.Context(), from, interval)
		}),
	}
	c.Flags().DurationVar(&interval, "interval", defaultTailInterval, "time between polls ("+minTailInterval.String()+" to "+maxTailInterval.String()+")")
	c.Flags().DurationVar(&follow, "follow", 15*time.Minute, "how long after its arrival an event's retries are followed")
	c.Flags().StringVar(&since, "since", "", "also show events received since: RFC 3339, or a duration ago (default: only new ones)")
	return c
}

// tailer follows one tenant's events.
type tailer struct {
	a      *app
	s      *session
	tenant string
	follow time.Duration
	// known holds every event the last list returned, so that an event is
	// printed once; watched ones are checked for new attempts.
	known map[string]*tailEvent
	// cursor is the receive time the next poll lists from; newest the
	// newest receive time seen.
	cursor, newest time.Time
}

// tailEvent is what tail knows of one event.
type tailEvent struct {
	summary   client.EventSummary
	firstSeen time.Time
	// watched: its attempts are printed as they come.
	watched bool
	// attempts printed and last state, by delivery ID.
	printed map[string]int
	states  map[string]client.DeliveryState
}

// settled reports whether no attempt of the event is to come: every
// delivery succeeded or is dead, or none came within tailNoDeliveryWait.
func (e *tailEvent) settled(now time.Time) bool {
	d := e.summary.Deliveries
	if d.Pending+d.Retrying > 0 {
		return false
	}
	return d.Succeeded+d.Dead > 0 || now.Sub(e.firstSeen) > tailNoDeliveryWait
}

// tailRecord is one line of tail's output.
type tailRecord struct {
	Kind        string     `json:"kind"` // event, attempt or delivery
	Time        time.Time  `json:"time"`
	EventID     string     `json:"event_id"`
	EventType   string     `json:"event_type,omitempty"`
	EndpointID  string     `json:"endpoint_id,omitempty"`
	DeliveryID  string     `json:"delivery_id,omitempty"`
	Attempt     int        `json:"attempt,omitempty"`
	Chain       string     `json:"chain,omitempty"`
	StatusCode  *int       `json:"status_code,omitempty"`
	LatencyMS   *float64   `json:"latency_ms,omitempty"`
	Error       string     `json:"error,omitempty"`
	State       string     `json:"state,omitempty"`
	NextAttempt *time.Time `json:"next_attempt_time,omitempty"`
	DeadReason  string     `json:"dead_reason,omitempty"`
}

// run polls until ctx ends (Ctrl-C), which is a normal end. With from
// zero only events after the start are shown.
func (t *tailer) run(ctx context.Context, from time.Time, interval time.Duration) error {
	show := !from.IsZero()
	t.cursor = from
	if !show {
		if err := t.baseline(ctx); err != nil {
			return done(ctx, err)
		}
	}
	fmt.Fprintf(t.a.env.Stderr, "Following tenant %s (polling every %v; Ctrl-C ends)\n", t.tenant, interval)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := t.poll(ctx)
		if err != nil && ctx.Err() == nil {
			if !client.IsRetryable(err) {
				return err
			}
			fmt.Fprintf(t.a.env.Stderr, "hookrun: %v (trying again)\n", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// done is nil when err came from ctx ending: Ctrl-C ends tail normally.
func done(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// baseline marks the newest events as seen without printing them, so the
// first poll shows only what arrives after the start. It uses the
// server's receive times, not this machine's clock.
func (t *tailer) baseline(ctx context.Context) error {
	page, err := t.s.ListEvents(ctx, t.tenant, client.EventQuery{PageSize: 1}, "")
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	if len(page.Events) == 0 {
		return nil
	}
	t.newest = page.Events[0].ReceiveTime
	t.cursor = t.newest.Add(-tailLag)
	evs, err := t.list(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, e := range evs {
		t.known[e.ID] = &tailEvent{summary: e, firstSeen: now}
	}
	return nil
}

// list reads the events received since the cursor, oldest first.
func (t *tailer) list(ctx context.Context) ([]client.EventSummary, error) {
	var evs []client.EventSummary
	token := ""
	for range tailMaxPages {
		page, err := t.s.ListEvents(ctx, t.tenant, client.EventQuery{Since: t.cursor, PageSize: tailPageSize}, token)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		evs = append(evs, page.Events...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	slices.Reverse(evs)
	return evs, nil
}

// poll prints what is new since the last poll and moves the cursor.
func (t *tailer) poll(ctx context.Context) error {
	evs, err := t.list(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	seen := make(map[string]bool, len(evs))
	for _, e := range evs {
		seen[e.ID] = true
		if e.ReceiveTime.After(t.newest) {
			t.newest = e.ReceiveTime
		}
		k, ok := t.known[e.ID]
		if !ok {
			k = &tailEvent{firstSeen: now, watched: true, printed: map[string]int{}, states: map[string]client.DeliveryState{}}
			t.known[e.ID] = k
			if err := t.print(tailRecord{Kind: "event", Time: e.ReceiveTime, EventID: e.ID, EventType: e.Type}); err != nil {
				return err
			}
		}
		changed := !ok || !sameDeliveries(k.summary, e)
		k.summary = e
		if k.watched && changed && e.Deliveries.Pending+e.Deliveries.Retrying+e.Deliveries.Succeeded+e.Deliveries.Dead > 0 {
			if err := t.attempts(ctx, k); err != nil {
				return err
			}
		}
	}
	t.advance(now, seen)
	return nil
}

// sameDeliveries reports whether an event's deliveries look as before.
func sameDeliveries(a, b client.EventSummary) bool {
	x, y := a.Deliveries, b.Deliveries
	return x.Pending == y.Pending && x.Retrying == y.Retrying && x.Succeeded == y.Succeeded && x.Dead == y.Dead &&
		deref(x.UpdateTime).Equal(deref(y.UpdateTime))
}

// attempts reads an event's deliveries and prints the attempts and state
// changes not printed yet.
func (t *tailer) attempts(ctx context.Context, k *tailEvent) error {
	ev, err := t.s.GetEvent(ctx, t.tenant, k.summary.ID)
	if err != nil {
		return fmt.Errorf("get event %s: %w", k.summary.ID, err)
	}
	for _, d := range ev.Deliveries {
		newAttempts := d.AttemptLog[min(k.printed[d.ID], len(d.AttemptLog)):]
		for i, at := range newAttempts {
			r := tailRecord{Kind: "attempt", Time: at.StartTime, EventID: ev.ID, EventType: ev.Type, EndpointID: d.EndpointID,
				DeliveryID: d.ID, Attempt: at.Number, Chain: str(at.Chain), StatusCode: at.StatusCode, Error: str(at.Error)}
			ms := float64(at.Latency) / float64(time.Millisecond)
			r.LatencyMS = &ms
			if i == len(newAttempts)-1 {
				r.State, r.NextAttempt, r.DeadReason = string(d.State), d.NextAttemptTime, str(d.DeadReason)
			}
			if err := t.print(r); err != nil {
				return err
			}
		}
		if len(newAttempts) == 0 && k.states[d.ID] != d.State {
			if err := t.print(tailRecord{Kind: "delivery", Time: d.UpdateTime, EventID: ev.ID, EventType: ev.Type, EndpointID: d.EndpointID,
				DeliveryID: d.ID, State: string(d.State), NextAttempt: d.NextAttemptTime, DeadReason: str(d.DeadReason)}); err != nil {
				return err
			}
		}
		k.printed[d.ID] = len(d.AttemptLog)
		k.states[d.ID] = d.State
	}
	return nil
}

// advance moves the cursor to the oldest event still to watch, at most
// --follow behind the newest and at least tailLag behind it, and forgets
// the events before it.
func (t *tailer) advance(now time.Time, seen map[string]bool) {
	cursor := t.newest.Add(-tailLag)
	floor := t.newest.Add(-t.follow)
	for id, k := range t.known {
		if !seen[id] && k.summary.ReceiveTime.Before(t.cursor) {
			delete(t.known, id)
			continue
		}
		if k.watched && !k.settled(now) && k.summary.ReceiveTime.Before(cursor) && !k.summary.ReceiveTime.Before(floor) {
			cursor = k.summary.ReceiveTime
		}
	}
	if cursor.After(t.cursor) {
		t.cursor = cursor
	}
}

// print writes one record: a JSON line, or a line of aligned text.
func (t *tailer) print(r tailRecord) error {
	if t.a.flags.output != formatTable {
		return writeJSON(t.a.env.Stdout, r, false)
	}
	parts := []string{timeCell(r.Time), fmt.Sprintf("%-8s", r.Kind), r.EventID}
	switch r.Kind {
	case "event":
		parts = append(parts, r.EventType)
	case "attempt":
		parts = append(parts, r.EndpointID, "#"+strconv.Itoa(r.Attempt))
		if r.StatusCode != nil {
			parts = append(parts, strconv.Itoa(*r.StatusCode))
		} else {
			parts = append(parts, "no answer")
		}
		parts = append(parts, durationCell(time.Duration(*r.LatencyMS*float64(time.Millisecond))))
		if r.Error != "" {
			parts = append(parts, cell(r.Error))
		}
		parts = append(parts, stateText(r))
	case "delivery":
		parts = append(parts, r.EndpointID, stateText(r))
	}
	_, err := fmt.Fprintln(t.a.env.Stdout, strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), "  "))
	return err
}

// stateText says what follows an attempt: "→ retrying at 12:00:07".
func stateText(r tailRecord) string {
	switch {
	case r.State == "":
		return ""
	case r.State == string(client.DeliveryRetrying) && r.NextAttempt != nil:
		return "→ retrying at " + r.NextAttempt.Local().Format("15:04:05")
	case r.State == string(client.DeliveryDead) && r.DeadReason != "":
		return "→ dead: " + cell(r.DeadReason)
	}
	return "→ " + r.State
}
