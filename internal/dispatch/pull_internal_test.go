package dispatch

import (
	"context"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/logging/logtest"
	"github.com/hookrun/hookrun/internal/wire"
)

// A panic while handling a pulled message, which no HTTP middleware
// guards, becomes an error (the message is nacked and redelivered) and a
// log line with its stack, instead of ending the process and every other
// message in flight.
func TestPanicInAPulledMessageNacksIt(t *testing.T) {
	logs := logtest.Capture(t)
	env := &wire.PushEnvelope{Message: wire.Message{MessageID: "2003"}}
	_, err := consumeRecovering(t.Context(), env, func(context.Context, *wire.PushEnvelope) error {
		panic("a bug")
	})
	if hookrun.ErrorCode(err) != hookrun.CodeInternal {
		t.Fatalf("consumeRecovering with a panic = %v, want an INTERNAL error (nack)", err)
	}
	var found bool
	for _, l := range logs.Lines(t) {
		if l["message"] == "panic handling a pulled message" && l["stack"] != nil && l["message_id"] == "2003" {
			found = true
		}
	}
	if !found {
		t.Errorf("no \"panic handling a pulled message\" line with its stack and message ID in %v", logs.Lines(t))
	}
}
