package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/wire"
)

// Challenger proves that whoever runs an endpoint's URL wants hookrun's
// webhooks there: the ownership challenge. It returns nil when the endpoint
// echoed the challenge, or an error saying what went wrong, for the
// endpoint's verification_error.
type Challenger interface {
	Challenge(ctx context.Context, ep hookrun.Endpoint, sec hookrun.EndpointSecret) error
}

// challengeTimeout bounds the wait for an endpoint's answer to a challenge.
const challengeTimeout = 10 * time.Second

// senderChallenger sends the challenge (wire.ChallengeEventType) as a
// signed webhook; the endpoint must answer 2xx with the challenge as its
// body, plain or as wire.Challenge JSON.
type senderChallenger struct{ sender *sender.Sender }

var _ Challenger = senderChallenger{}

func (c senderChallenger) Challenge(ctx context.Context, ep hookrun.Endpoint, sec hookrun.EndpointSecret) error {
	creds, err := sender.NewCredentials(sec, "")
	if err != nil {
		return err
	}
	challenge := hookrun.NewID("")
	data, _ := json.Marshal(wire.Challenge{Challenge: challenge})
	body := hookrun.WebhookBody(hookrun.Event{ID: hookrun.NewID("chal_"), Type: wire.ChallengeEventType, Data: data, ReceivedAt: time.Now()})
	a := c.sender.Send(ctx, ep.URL, min(ep.AttemptTimeout(), challengeTimeout), creds, hookrun.NewID("msg_"), body)
	if !a.Succeeded() {
		return fmt.Errorf("challenge not answered: %s", a.Error)
	}
	if echoed(a.ResponseBody, challenge) {
		return nil
	}
	return fmt.Errorf("the endpoint answered %d without echoing the challenge", a.StatusCode)
}

func echoed(body, challenge string) bool {
	if strings.TrimSpace(body) == challenge {
		return true
	}
	var v wire.Challenge
	return json.NewDecoder(bytes.NewReader([]byte(body))).Decode(&v) == nil && v.Challenge == challenge
}
