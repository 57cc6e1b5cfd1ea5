package dispatch

import (
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A full queue takes no more: the caller records the attempt itself
// before acknowledging (backpressure), and nothing is dropped.
func TestFullAttemptLogRefusesRecords(t *testing.T) {
	l := newAttemptLog(nil, time.Hour)
	l.max = 2
	rec := func(id string) hookrun.AttemptRecord {
		return hookrun.AttemptRecord{Delivery: hookrun.Delivery{TenantID: "acme", EventID: id, EndpointID: "ep_1"}}
	}
	for i, want := range []bool{true, true, false} {
		if got := l.add(rec(string(rune('a' + i)))); got != want {
			t.Errorf("add %d = %v, want %v", i+1, got, want)
		}
	}
	if n := len(l.queued); n != 2 {
		t.Errorf("%d records queued, want 2", n)
	}
}
