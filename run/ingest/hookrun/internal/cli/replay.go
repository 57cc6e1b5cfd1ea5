package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// replayPollInterval is how often a bulk replay's progress is read.
const replayPollInterval = 500 * time.Millisecond

func (a *app) replayCmd() *cobra.Command {
	var (
		all, noWait bool
		sel         deadLetterFlags
	)
	c := &cobra.Command{
		Use:   "replay DEAD_LETTER_ID | replay --all [--endpoint ID] [--type TYPE] [--since T] [--until T]",
		Short: "Deliver one dead letter again, or every dead letter a filter selects",
		Long: `replay DEAD_LETTER_ID delivers one dead letter ({event}:{endpoint}, the ID that
hookrun dead-letters list and hookrun events get show) again, in a new attempt
chain, and prints the replay's ID.

replay --all replays every dead letter the filters select, in the background,
and follows it (progress on a terminal) until it is done, then prints its
counts; --no-wait prints the replay's start and returns. One replay claims at
most 5000 dead letters: when "more" is true, run it again for the rest. A
failed replay exits 1.`,
		Example: `  hookrun replay evt_2qhc…:ep_7kq…
  hookrun replay --all --endpoint ep_7kq… --since 24h`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return usageErrorf("replay takes a dead letter's ID or --all, one of the two")
			}
			if !all && sel != (deadLetterFlags{}) {
				return usageErrorf("--endpoint, --type, --since and --until select dead letters for --all")
			}
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if !all {
				r, err := s.ReplayDeadLetter(ctx, tenant, args[0])
				if err != nil {
					return fmt.Errorf("replay dead letter %s: %w", args[0], err)
				}
				return printObject(a, r, field{"replay", r.ReplayID}, field{"event", str(r.EventID)}, field{"endpoint", str(r.EndpointID)})
			}
			return a.replayAll(ctx, s, tenant, sel, noWait)
		}),
	}
	f := c.Flags()
	f.BoolVar(&all, "all", false, "replay every dead letter the filters select")
	f.BoolVar(&noWait, "no-wait", false, "with --all: print the replay's start, do not follow it")
	sel.register(c)
	return c
}

// replayAll replays the dead letters sel selects and, unless noWait,
// follows the replay until it is done.
func (a *app) replayAll(ctx context.Context, s *session, tenant string, sel deadLetterFlags, noWait bool) error {
	f, err := sel.filter(time.Now())
	if err != nil {
		return err
	}
	started, err := s.ReplayDeadLetters(ctx, tenant, f)
	if err != nil {
		return fmt.Errorf("replay dead letters: %w", err)
	}
	if noWait {
		return printObject(a, started, field{"replay", started.ReplayID},
			field{"claimed", strconv.Itoa(deref(started.Count))}, field{"skipped", strconv.Itoa(deref(started.Skipped))},
			field{"more", moreText(deref(started.More))})
	}
	r, err := a.followReplay(ctx, s, tenant, started.ReplayID)
	if err != nil {
		return err
	}
	if err := printObject(a, r, replayFields(r)...); err != nil {
		return err
	}
	if r.State == client.ReplayFailed {
		return &exitError{ExitError, fmt.Errorf("replay %s failed: %s", r.ReplayID, str(r.Error))}
	}
	return nil
}

// followReplay reads a replay until it is done, drawing its progress.
func (a *app) followReplay(ctx context.Context, s *session, tenant, id string) (*client.Replay, error) {
	prog := a.progress()
	defer prog.done()
	tick := time.NewTicker(replayPollInterval)
	defer tick.Stop()
	for {
		r, err := s.GetReplay(ctx, tenant, id)
		if err != nil {
			return nil, fmt.Errorf("follow replay %s: %w", id, err)
		}
		c := r.Counts
		prog.show(true, "replay %s: %d/%d replayed, %d skipped; %d delivered, %d retrying, %d dead",
			id, c.Replayed, c.Claimed, c.Skipped, c.Delivered, c.Retrying, c.Dead)
		if r.Done {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("follow replay %s (it goes on): %w", id, ctx.Err())
		case <-tick.C:
		}
	}
}

func replayFields(r *client.Replay) []field {
	c := r.Counts
	return []field{
		{"replay", r.ReplayID}, {"state", string(r.State)}, {"error", str(r.Error)},
		{"matched", strconv.Itoa(c.Matched)}, {"replayed", strconv.Itoa(c.Replayed)}, {"skipped", strconv.Itoa(c.Skipped)},
		{"delivered", strconv.Itoa(c.Delivered)}, {"retrying", strconv.Itoa(c.Retrying)}, {"dead again", strconv.Itoa(c.Dead)},
		{"more", moreText(deref(r.More))},
	}
}

func moreText(more bool) string {
	if more {
		return "yes: more dead letters match, run the replay again"
	}
	return ""
}

func (a *app) deadLettersCmd() *cobra.Command {
	var (
		sel   deadLetterFlags
		limit int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's dead letters, newest first",
		Args:  exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			f, err := sel.filter(time.Now())
			if err != nil {
				return err
			}
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			ds, err := collect(s.DeadLetters(cmd.Context(), tenant, f), limit)
			if err != nil {
				return fmt.Errorf("list dead letters: %w", err)
			}
			return printList(a, ds,
				column[client.Delivery]{"ID", func(d client.Delivery) string { return d.ID }},
				column[client.Delivery]{"EVENT TYPE", func(d client.Delivery) string { return d.EventType }},
				column[client.Delivery]{"DIED", func(d client.Delivery) string { return timeCell(deref(d.DeadTime)) }},
				column[client.Delivery]{"ATTEMPTS", func(d client.Delivery) string { return strconv.Itoa(d.Attempts) }},
				column[client.Delivery]{"LAST STATUS", func(d client.Delivery) string { return statusCell(d.LastStatusCode) }},
				column[client.Delivery]{"WHY", func(d client.Delivery) string { return str(d.DeadReason) }},
			)
		}),
	}
	sel.register(list)
	list.Flags().IntVar(&limit, "limit", 50, "list at most this many (0: all)")
	return group("dead-letters", "List the tenant's dead letters (replay them with hookrun replay)", list)
}

// deadLetterFlags select dead letters, for dead-letters list and replay
// --all alike.
type deadLetterFlags struct {
	endpoint, eventType, since, until string
}

func (d *deadLetterFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&d.endpoint, "endpoint", "", "only this endpoint's dead letters")
	f.StringVar(&d.eventType, "type", "", "only dead letters of this event type")
	f.StringVar(&d.since, "since", "", "only dead letters that died at or after: RFC 3339, or a duration ago")
	f.StringVar(&d.until, "until", "", "only dead letters that died before: RFC 3339, or a duration ago (default now)")
}

// filter is the API's filter of the flags; times are read against now.
func (d deadLetterFlags) filter(now time.Time) (client.DeadLetterFilter, error) {
	var f client.DeadLetterFilter
	if d.endpoint != "" {
		f.EndpointID = &d.endpoint
	}
	if d.eventType != "" {
		f.EventType = &d.eventType
	}
	for _, tf := range []struct {
		name, v string
		dst     **time.Time
	}{{"since", d.since, &f.Since}, {"until", d.until, &f.Until}} {
		t, err := parseTimeFlag(tf.name, tf.v, now)
		if err != nil {
			return f, err
		}
		if !t.IsZero() {
			*tf.dst = &t
		}
	}
	return f, nil
}
