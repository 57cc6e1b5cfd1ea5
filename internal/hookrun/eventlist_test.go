package hookrun

import (
	"strings"
	"testing"
	"time"
)

func TestEventFilterValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    EventFilter
		msg  string // "" when valid
	}{
		{"empty", EventFilter{}, ""},
		{"every state", EventFilter{State: DeliveryPending}, ""},
		{"dead, typed, in a range", EventFilter{State: DeliveryDead, EventType: "order.created", Since: t0, Until: t0.Add(time.Second)}, ""},
		{"unknown state", EventFilter{State: "failed"}, `delivery_state: "failed" is not one of pending, succeeded, retrying, dead`},
		{"bad type", EventFilter{EventType: "Order"}, "event_type: "},
		{"empty range", EventFilter{Since: t0, Until: t0}, "since: must be before until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			switch {
			case tt.msg == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.msg != "" && (ErrorCode(err) != CodeInvalidArgument || !strings.HasPrefix(ErrorMessage(err), tt.msg)):
				t.Errorf("Validate() = %v, want INVALID_ARGUMENT starting %q", err, tt.msg)
			}
		})
	}
}

func TestDeliverySummary(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var s DeliverySummary
	for _, d := range []Delivery{
		{State: DeliveryDead, UpdatedAt: t0.Add(2 * time.Second), LastStatusCode: 410},
		{State: DeliverySucceeded, UpdatedAt: t0, LastStatusCode: 200},
		{State: DeliveryRetrying, UpdatedAt: t0.Add(time.Second), LastStatusCode: 503},
		{State: DeliveryDead, UpdatedAt: t0.Add(time.Second), LastStatusCode: 500},
		{State: DeliveryPending, UpdatedAt: t0},
	} {
		s.Add(d)
	}
	want := DeliverySummary{Pending: 1, Succeeded: 1, Retrying: 1, Dead: 2, UpdatedAt: t0.Add(2 * time.Second), LastStatusCode: 410}
	if s != want {
		t.Errorf("summary = %+v, want %+v: counts by state, the latest change's status", s, want)
	}
	for st, n := range map[DeliveryState]int{DeliveryPending: 1, DeliverySucceeded: 1, DeliveryRetrying: 1, DeliveryDead: 2, "other": 0} {
		if got := s.Count(st); got != n {
			t.Errorf("Count(%s) = %d, want %d", st, got, n)
		}
	}
	f := EventFilter{State: DeliveryRetrying, EventType: "order.created", Since: t0, Until: t0.Add(time.Minute)}
	for _, tt := range []struct {
		name string
		typ  string
		at   time.Time
		s    DeliverySummary
		want bool
	}{
		{"matches", "order.created", t0, s, true},
		{"no delivery in the state", "order.created", t0, DeliverySummary{Dead: 1}, false},
		{"other type", "order.paid", t0, s, false},
		{"at until", "order.created", t0.Add(time.Minute), s, false},
		{"before since", "order.created", t0.Add(-time.Nanosecond), s, false},
	} {
		if got := f.Matches(tt.typ, tt.at, tt.s); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}
