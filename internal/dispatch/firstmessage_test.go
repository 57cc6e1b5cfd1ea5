package dispatch_test

import (
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

// The first message of an event is sent without reading earlier
// deliveries; every message that may follow an earlier one of the same
// event reads them first.
func TestEarlierDeliveriesAreReadOnlyWhenTheMessageMayRepeat(t *testing.T) {
	ev := userCreated("evt_first")
	tests := []struct {
		name string
		// edit makes the message; epID is the endpoint's.
		edit      func(m *message, epID string)
		wantReads int
	}{
		{"ingest's message, first delivery", func(*message, string) {}, 0},
		{"redelivered by Pub/Sub", func(m *message, _ string) { m.deliveryAttempt = 2 }, 1},
		{"no deliveryAttempt", func(m *message, _ string) { m.deliveryAttempt = -1 }, 1},
		{"published by another publisher", func(m *message, _ string) { delete(m.attrs, wire.AttrSource) }, 1},
		{"replay chain", func(m *message, _ string) { m.attrs[wire.AttrChain] = "rp_1" }, 1},
		{"redelivery to one endpoint", func(m *message, epID string) {
			m.attrs[wire.AttrChain], m.attrs[wire.AttrEndpoint] = "rd_1", epID
		}, 1},
		{"ingest took the claim over", func(m *message, _ string) { m.attrs[wire.AttrCheckDeliveries] = "true" }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, alwaysStatus(http.StatusOK))
			ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
			m := apiMessage("1", ev)
			tt.edit(&m, ep.ID)
			wantAck(t, e.push(t, m))
			if got := e.store.reads(); got != tt.wantReads {
				t.Errorf("earlier deliveries read %d times, want %d", got, tt.wantReads)
			}
			if n := len(rc.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

// A producer retries an event whose publish failed without a clear
// answer, and the first publish had gone through after all: ingest
// publishes the retry marked (wire.AttrCheckDeliveries), and the event is
// delivered once.
func TestRetryAfterAnAmbiguousPublishIsDeliveredOnce(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, alwaysStatus(http.StatusOK))
	e.addEndpoint(t, "acme", rc.url(), []string{"user.*"})
	ev := userCreated("evt_twice")
	wantAck(t, e.push(t, apiMessage("1", ev)))
	retry := apiMessage("2", ev) // a second publish: a new message ID
	retry.attrs[wire.AttrCheckDeliveries] = "true"
	wantAck(t, e.push(t, retry))
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}
