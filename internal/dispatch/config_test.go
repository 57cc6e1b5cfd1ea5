package dispatch

import (
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/wire"
)

// A Config built in Go gets the defaults declared on its fields, except
// where zero has a meaning of its own.
func TestConfigDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	if c.MaxFanOut != 32 || c.EndpointCacheTTL != 10*time.Second {
		t.Errorf("defaults = %+v, want fan-out 32, cache 10s", c)
	}
	if c.DisableAfterDead != 0 {
		t.Errorf("DisableAfterDead = %d, want 0 kept: zero never disables", c.DisableAfterDead)
	}
	if c.EndpointChangeDelay != 0 {
		t.Errorf("EndpointChangeDelay = %v, want 0 kept: zero is exact", c.EndpointChangeDelay)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v for the defaults", err)
	}
	for _, bad := range []Config{{MaxFanOut: -1}, {MaxFanOut: 1, DisableAfterDead: -1},
		{MaxFanOut: 1, EndpointChangeDelay: -time.Second}, {MaxFanOut: 1, EndpointChangeDelay: 11 * time.Second}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

// Ingest marks the events accepted after its own endpoint changes for
// longer than the longest endpoint change delay, with room for the claim
// between accepting an event and deciding its mark: a change made through
// the instance that accepts the event reaches it whatever the delay.
func TestEndpointsChangedWindowCoversTheLongestDelay(t *testing.T) {
	if room := wire.EndpointsChangedWindow - maxEndpointChangeDelay; room < 30*time.Second {
		t.Errorf("ingest marks events for %v after its endpoint changes, only %v more than the longest HOOKRUN_ENDPOINT_CHANGE_DELAY (%v); want 30s of room",
			wire.EndpointsChangedWindow, room, maxEndpointChangeDelay)
	}
}
