package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/writebehind"
)

// The attempt log writes the records of successful first attempts after
// their push is acknowledged, batched: a record waits at most
// Config.AttemptFlushInterval, and those of one interval go to the store
// together (Store.RecordAttempts). A record only waits when its attempt
// needs nothing durable first: a failed attempt's retry, or any attempt
// whose message may not be its event's first, is recorded before the
// push is acknowledged, as before.
const (
	// attemptBatch is how many records start a flush without waiting
	// for the interval: enough for one store call to carry them well.
	attemptBatch = 500
	// maxQueuedAttempts bounds the records an instance holds unwritten
	// (a few hundred bytes each). When it is reached, a push waits for
	// room (writebehind.DefaultWait), then its attempt is recorded before it is
	// acknowledged, as when the log is off: backpressure, never a
	// dropped record.
	maxQueuedAttempts = 5000
)

// attemptLog queues attempt records and writes them in batches
// (writebehind.Log); a record queued or being written is found by the
// delivery it is of, so that a message of the same event that this
// instance handles meanwhile finds it (fanOut).
type attemptLog = writebehind.Log[string, hookrun.AttemptRecord]

func newAttemptLog(store Store, every time.Duration) *attemptLog {
	return writebehind.New(writebehind.Options[string, hookrun.AttemptRecord]{
		Every: every, Batch: attemptBatch, Max: maxQueuedAttempts, Timeout: RecordTimeout,
		Key: func(r hookrun.AttemptRecord) string {
			return deliveryKey(r.Delivery.TenantID, r.Delivery.EventID, r.Delivery.EndpointID)
		},
		Write: store.RecordAttempts,
		WriteOne: func(ctx context.Context, r hookrun.AttemptRecord) error {
			return store.RecordAttempt(ctx, r.Delivery, r.Attempt)
		},
		// The attempt was made and acknowledged: only its record is missing.
		Lost: func(ctx context.Context, r hookrun.AttemptRecord, err error) {
			d := r.Delivery
			slog.ErrorContext(ctx, "attempt record lost: the attempt succeeded, its record could not be written",
				"tenant_id", d.TenantID, "event_id", d.EventID, "endpoint_id", d.EndpointID, "attempt", r.Attempt.Number, "error", err.Error())
		},
	})
}

func deliveryKey(tenantID, eventID, endpointID string) string {
	return tenantID + "\x00" + eventID + "\x00" + endpointID
}

// addUnwritten adds to prev the deliveries of event eventID to the
// endpoints ids whose records are queued or being written in log l.
func addUnwritten(l *attemptLog, prev map[string]hookrun.Delivery, tenantID, eventID string, ids []string) map[string]hookrun.Delivery {
	for _, id := range ids {
		if _, stored := prev[id]; stored {
			continue
		}
		r, ok := l.Unwritten(deliveryKey(tenantID, eventID, id))
		if !ok {
			continue
		}
		if prev == nil {
			prev = map[string]hookrun.Delivery{}
		}
		prev[id] = r.Delivery
	}
	return prev
}

// Flush writes the attempt records still queued and waits until every
// record queued before it is written, or ctx ends. run/dispatcher calls it
// on shutdown, once the server has stopped taking requests; without the
// attempt log (Config.AttemptFlushInterval 0) it has nothing to do.
func (s *Service) Flush(ctx context.Context) error { return s.attempts.Flush(ctx) }
