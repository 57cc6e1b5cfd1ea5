package hookrun

import "time"

// EventFilter selects a tenant's events for the events list; zero fields
// match everything.
type EventFilter struct {
	EventType string
	// State matches an event when any of its deliveries is in that state:
	// "dead" finds every event with a dead letter, even one delivered to
	// its other endpoints. It is a question about deliveries, not a verdict
	// on the event, because an event fanned out to several endpoints has
	// no one state, and a user looking for what failed wants every event
	// where something did.
	State DeliveryState
	Since time.Time // received at or after
	Until time.Time // received before
}

// Validate checks the filter's fields, naming the query parameter of the
// one that is wrong.
func (f EventFilter) Validate() error {
	if f.EventType != "" {
		if err := ValidateEventType(f.EventType); err != nil {
			return Errorf(CodeInvalidArgument, "event_type: %s", ErrorMessage(err))
		}
	}
	switch f.State {
	case "", DeliveryPending, DeliverySucceeded, DeliveryRetrying, DeliveryDead:
	default:
		return Errorf(CodeInvalidArgument, "delivery_state: %q is not one of pending, succeeded, retrying, dead", f.State)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Errorf(CodeInvalidArgument, "since: must be before until")
	}
	return nil
}

// Matches reports whether an event of type typ received at receivedAt, with
// deliveries summarised in s, passes the filter.
func (f EventFilter) Matches(typ string, receivedAt time.Time, s DeliverySummary) bool {
	return (f.EventType == "" || f.EventType == typ) &&
		(f.State == "" || s.Count(f.State) > 0) &&
		(f.Since.IsZero() || !receivedAt.Before(f.Since)) &&
		(f.Until.IsZero() || receivedAt.Before(f.Until))
}

// EventSummary is an event as the events list shows it: without its data,
// which may be up to MaxEventDataBytes and which the event's own read
// (GET …/events/{event}) returns, so that a page of 500 stays small.
type EventSummary struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"`
	Type       string          `json:"type"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"receive_time"`
	Deliveries DeliverySummary `json:"deliveries"`
}

// DeliverySummary counts an event's deliveries by state, one per
// endpoint it went to. All zero: no endpoint matched the event, or the
// dispatcher has not reached it yet.
type DeliverySummary struct {
	Pending   int `json:"pending"`
	Succeeded int `json:"succeeded"`
	Retrying  int `json:"retrying"`
	Dead      int `json:"dead"`
	// UpdatedAt is when a delivery of the event last changed (an
	// attempt's outcome, or a state change without one: dead because its
	// endpoint went away, pending for a replay), and LastStatusCode the
	// HTTP status of that delivery's last attempt (0: none, or no
	// response).
	UpdatedAt      time.Time `json:"update_time,omitzero"`
	LastStatusCode int       `json:"last_status_code,omitempty"`
}

// Add counts delivery d into the summary.
func (s *DeliverySummary) Add(d Delivery) {
	switch d.State {
	case DeliveryPending:
		s.Pending++
	case DeliverySucceeded:
		s.Succeeded++
	case DeliveryRetrying:
		s.Retrying++
	case DeliveryDead:
		s.Dead++
	}
	if d.UpdatedAt.After(s.UpdatedAt) {
		s.UpdatedAt, s.LastStatusCode = d.UpdatedAt, d.LastStatusCode
	}
}

// Count returns the number of deliveries in state st.
func (s DeliverySummary) Count(st DeliveryState) int {
	switch st {
	case DeliveryPending:
		return s.Pending
	case DeliverySucceeded:
		return s.Succeeded
	case DeliveryRetrying:
		return s.Retrying
	case DeliveryDead:
		return s.Dead
	}
	return 0
}
