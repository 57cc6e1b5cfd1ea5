package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

func (a *app) eventsCmd() *cobra.Command {
	return group("events", "List a tenant's events, or show one with its deliveries and attempts",
		a.eventsListCmd(), a.eventsGetCmd())
}

var eventColumns = []column[client.EventSummary]{
	{"ID", func(e client.EventSummary) string { return e.ID }},
	{"TYPE", func(e client.EventSummary) string { return e.Type }},
	{"RECEIVED", func(e client.EventSummary) string { return timeCell(e.ReceiveTime) }},
	{"DELIVERIES", func(e client.EventSummary) string { return deliveryCounts(e.Deliveries) }},
	{"LAST STATUS", func(e client.EventSummary) string { return statusCell(e.Deliveries.LastStatusCode) }},
}

// deliveryCounts says how an event's deliveries stand, the states that
// have any: "2 succeeded, 1 retrying"; "none" when no endpoint got it yet.
func deliveryCounts(d client.DeliverySummary) string {
	var parts []string
	for _, c := range []struct {
		n    int
		name string
	}{{d.Succeeded, "succeeded"}, {d.Retrying, "retrying"}, {d.Pending, "pending"}, {d.Dead, "dead"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func statusCell(code *int) string {
	if code == nil {
		return ""
	}
	return strconv.Itoa(*code)
}

func (a *app) eventsListCmd() *cobra.Command {
	var (
		q            client.EventQuery
		state        string
		since, until string
		limit        int
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's events, newest first, with their deliveries counted",
		Example: `  hookrun events list --since 1h --state dead
  hookrun events list --type invoice.paid -o json | jq -r '.[].id'`,
		Args: exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if q.Since, err = parseTimeFlag("since", since, now); err != nil {
				return err
			}
			if q.Until, err = parseTimeFlag("until", until, now); err != nil {
				return err
			}
			q.DeliveryState = client.DeliveryState(state)
			q.PageSize = min(max(limit, 0), 500)
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			evs, err := collect(s.Events(cmd.Context(), tenant, q), limit)
			if err != nil {
				return fmt.Errorf("list events: %w", err)
			}
			return printList(a, evs, eventColumns...)
		}),
	}
	f := c.Flags()
	f.StringVar(&q.EventType, "type", "", "only events of this type")
	f.StringVar(&state, "state", "", "only events with a delivery in this state: pending, succeeded, retrying or dead")
	f.StringVar(&since, "since", "", "only events received at or after: RFC 3339, or a duration ago (90m)")
	f.StringVar(&until, "until", "", "only events received before: RFC 3339, or a duration ago")
	f.IntVar(&limit, "limit", 50, "list at most this many (0: all)")
	_ = c.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"pending", "succeeded", "retrying", "dead"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// parseTimeFlag reads a time flag: RFC 3339, or a duration before now.
func parseTimeFlag(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageErrorf("--%s %q: want an RFC 3339 time (2026-12-07T12:00:00Z) or a duration ago (90m)", name, v)
}

func (a *app) eventsGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get EVENT_ID",
		Short: "Show an event with its data, each delivery and every attempt",
		Args:  exactArgs("EVENT_ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			e, err := s.GetEvent(cmd.Context(), tenant, args[0])
			if err != nil {
				return fmt.Errorf("get event %s: %w", args[0], err)
			}
			if a.flags.output != formatTable {
				return printObject(a, e)
			}
			return a.printEventTable(e)
		}),
	}
}

// printEventTable shows an event, then its deliveries, then every attempt.
func (a *app) printEventTable(e *client.EventWithDeliveries) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	if err := printObject(a, e, field{"id", e.ID}, field{"tenant", e.TenantID}, field{"type", e.Type},
		field{"source", string(e.Source)}, field{"received", timeCell(e.ReceiveTime)}, field{"data", string(data)}); err != nil {
		return err
	}
	w := a.env.Stdout
	if len(e.Deliveries) == 0 {
		_, err := fmt.Fprintln(w, "\nNo deliveries: no endpoint matched, or the dispatcher has not reached the event yet.")
		return err
	}
	fmt.Fprintln(w, "\nDeliveries")
	if err := printList(a, e.Deliveries, deliveryColumns...); err != nil {
		return err
	}
	type row struct {
		endpoint string
		attempt  client.Attempt
	}
	var rows []row
	for _, d := range e.Deliveries {
		for _, at := range d.AttemptLog {
			rows = append(rows, row{d.EndpointID, at})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nAttempts")
	return printList(a, rows,
		column[row]{"ENDPOINT", func(r row) string { return r.endpoint }},
		column[row]{"#", func(r row) string { return attemptNumber(r.attempt) }},
		column[row]{"TIME", func(r row) string { return timeCell(r.attempt.StartTime) }},
		column[row]{"STATUS", func(r row) string { return statusCell(r.attempt.StatusCode) }},
		column[row]{"LATENCY", func(r row) string { return durationCell(time.Duration(r.attempt.Latency)) }},
		column[row]{"ERROR", func(r row) string { return str(r.attempt.Error) }},
	)
}

var deliveryColumns = []column[client.Delivery]{
	{"ID", func(d client.Delivery) string { return d.ID }},
	{"STATE", func(d client.Delivery) string { return string(d.State) }},
	{"ATTEMPTS", func(d client.Delivery) string { return strconv.Itoa(d.Attempts) }},
	{"LAST STATUS", func(d client.Delivery) string { return statusCell(d.LastStatusCode) }},
	{"NEXT / WHY DEAD", func(d client.Delivery) string {
		if d.State == client.DeliveryDead {
			return str(d.DeadReason)
		}
		return timeCell(deref(d.NextAttemptTime))
	}},
}

// attemptNumber numbers an attempt within its chain: "3", or "1 (rp_…)"
// for a replay's.
func attemptNumber(at client.Attempt) string {
	n := strconv.Itoa(at.Number)
	if c := str(at.Chain); c != "" {
		n += " (" + c + ")"
	}
	return n
}
