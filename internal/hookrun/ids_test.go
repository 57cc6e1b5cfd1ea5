package hookrun

import (
	"strings"
	"testing"
	"time"
)

// An ID ingest makes tells when it was made; one a producer makes at
// random (NewID) does not pass for recent.
func TestMadeEventTime(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 4, 5, 678_000_000, time.UTC)
	id := NewEventID(now)
	if len(id) != len("evt_")+26 || ValidateEventID(id) != nil {
		t.Errorf("NewEventID = %q: want evt_ and 26 characters, a valid event ID", id)
	}
	if got, ok := MadeEventTime(id); !ok || !got.Equal(now) {
		t.Errorf("MadeEventTime(%q) = %v, %v; want %v", id, got, ok, now)
	}
	if NewEventID(now) == id {
		t.Error("two IDs made in one millisecond are equal")
	}
	for _, id := range []string{"evt_1", "order-1", "evt_" + strings.Repeat("1", 26), "evt_" + strings.Repeat("a", 27)} {
		if _, ok := MadeEventTime(id); ok {
			t.Errorf("MadeEventTime(%q) = ok, want not an ID ingest made", id)
		}
	}
	for range 1000 {
		if at, ok := MadeEventTime(NewID("evt_")); ok && at.After(time.Now().Add(-time.Hour)) && at.Before(time.Now().Add(time.Hour)) {
			t.Errorf("a random ID decodes to %v, within an hour of now", at)
		}
	}
}
