package hookrun

import (
	"testing"
	"time"
)

func TestDeliveryClaimableAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	dead := Delivery{EventID: "e", EndpointID: "ep", State: DeliveryDead}
	tests := []struct {
		name string
		d    func(Delivery) Delivery
		ok   bool
	}{
		{"dead, never claimed", func(d Delivery) Delivery { return d }, true},
		{"not dead", func(d Delivery) Delivery { d.State = DeliveryRetrying; return d }, false},
		{"held by a replay", func(d Delivery) Delivery { d.ReplayChain, d.ReplayClaimedAt = "rp_1", now.Add(-time.Minute); return d }, false},
		{"claim lapsed", func(d Delivery) Delivery {
			d.ReplayChain, d.ReplayClaimedAt = "rp_1", now.Add(-ReplayClaimTTL-time.Second)
			return d
		}, true},
		{"dead again in the replay's chain", func(d Delivery) Delivery {
			d.ReplayChain, d.Chain, d.ReplayClaimedAt = "rp_1", "rp_1", now.Add(-time.Minute)
			return d
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d(dead).ClaimableAt(now)
			if (err == nil) != tt.ok || (err != nil && ErrorCode(err) != CodeFailedPrecondition) {
				t.Errorf("ClaimableAt = %v; want claimable %v (else FAILED_PRECONDITION)", err, tt.ok)
			}
		})
	}
}
