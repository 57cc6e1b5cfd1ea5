package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	sdk "cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/wire"
)

// Defaults and bounds for ReceiverConfig.
const (
	// DefaultMaxOutstanding is how many messages a Receiver handles at once
	// unless told otherwise: enough to keep a dispatcher's CPU busy while
	// most of its handlers wait on endpoints.
	DefaultMaxOutstanding = 64
	// MaxMaxOutstanding bounds ReceiverConfig.MaxOutstanding: every
	// outstanding message holds a goroutine, its data and its fan-out.
	MaxMaxOutstanding = 1000
	// maxOutstandingBytes bounds the data of the messages held at once; a
	// single larger message (Pub/Sub allows 10 MB) is still taken alone.
	maxOutstandingBytes = 256 << 20
	// handlerGrace is how long past its deadline a handler may still hold
	// its message, for the cleanups its caller does after the deadline
	// (httpapi.AnswerGrace for a pushed one), before the ack deadline is
	// no longer extended and Pub/Sub redelivers it.
	handlerGrace = time.Minute
)

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	ProjectID    string // the Google Cloud project that owns the subscription
	Subscription string // the ID of a pull subscription, not its resource name
	// MaxOutstanding bounds the messages handled at once; 0 means
	// DefaultMaxOutstanding, at most MaxMaxOutstanding.
	MaxOutstanding int
	// HandlerTimeout is the deadline of each handler call. Required.
	HandlerTimeout time.Duration
	// DrainTimeout is how long the handlers running when Receive's context
	// ends may take to finish before Receive returns without them (their
	// messages are then redelivered). Required.
	DrainTimeout time.Duration
}

// Validate reports the first problem with c, with defaults applied.
func (c *ReceiverConfig) Validate() error {
	d := c.withDefaults()
	switch {
	case d.ProjectID == "":
		return errors.New("pubsub receiver: ProjectID is empty")
	case d.MaxOutstanding < 1 || d.MaxOutstanding > MaxMaxOutstanding:
		return fmt.Errorf("pubsub receiver: MaxOutstanding %d: want 1 to %d", d.MaxOutstanding, MaxMaxOutstanding)
	case d.HandlerTimeout <= 0:
		return fmt.Errorf("pubsub receiver: HandlerTimeout %v: want a positive duration", d.HandlerTimeout)
	case d.DrainTimeout <= 0:
		return fmt.Errorf("pubsub receiver: DrainTimeout %v: want a positive duration", d.DrainTimeout)
	}
	if err := validateID("subscription", d.Subscription); err != nil {
		return fmt.Errorf("pubsub receiver: %w", err)
	}
	return nil
}

func (c ReceiverConfig) withDefaults() ReceiverConfig {
	if c.MaxOutstanding == 0 {
		c.MaxOutstanding = DefaultMaxOutstanding
	}
	return c
}

// Handler handles one received message, converted to the envelope Pub/Sub
// would have pushed. It returns nil when the message may be acknowledged;
// an error makes Pub/Sub redeliver it.
type Handler func(ctx context.Context, env *wire.PushEnvelope) error

// Receiver receives the messages of one pull subscription by streaming
// pull and hands each to a Handler, at most MaxOutstanding at once.
type Receiver struct {
	client *sdk.Client
	sub    *sdk.Subscriber
	name   string // full resource name
	cfg    ReceiverConfig
}

// NewReceiver connects to Pub/Sub. It does not check that the subscription
// exists: Receive fails when it does not.
func NewReceiver(ctx context.Context, cfg ReceiverConfig, opts ...option.ClientOption) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	client, err := sdk.NewClient(ctx, cfg.ProjectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub.NewClient(%s): %w", cfg.ProjectID, err)
	}
	name := subscriptionName(cfg.ProjectID, cfg.Subscription)
	sub := client.Subscriber(name)
	sub.ReceiveSettings = sdk.ReceiveSettings{
		MaxOutstandingMessages: cfg.MaxOutstanding,
		MaxOutstandingBytes:    maxOutstandingBytes,
		// One stream: the emulator and a dispatcher instance need no
		// more, and each holds MaxOutstanding messages of its own.
		NumGoroutines: 1,
		// The SDK extends a message's ack deadline while its handler
		// runs, but no longer than the handler may.
		MaxExtension: cfg.HandlerTimeout + handlerGrace,
		ShutdownOptions: &sdk.ShutdownOptions{
			Behavior: sdk.ShutdownBehaviorWaitForProcessing,
			Timeout:  cfg.DrainTimeout,
		},
	}
	return &Receiver{client: client, sub: sub, name: name, cfg: cfg}, nil
}

// Receive pulls messages and calls handle for each until ctx ends, then
// stops pulling and waits up to DrainTimeout for the handlers running. A
// message is acknowledged when handle returns nil and nacked (redelivered)
// otherwise. Each call's context has the deadline HandlerTimeout and the
// values of ctx, but is not cancelled with it: a handler running at
// shutdown finishes its message. Receive returns nil once ctx ended, or
// Pub/Sub's error when it cannot pull (e.g. the subscription is missing).
func (r *Receiver) Receive(ctx context.Context, handle Handler) error {
	err := r.sub.Receive(ctx, func(mctx context.Context, m *sdk.Message) {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(mctx), r.cfg.HandlerTimeout)
		defer cancel()
		if err := handle(hctx, r.envelope(m)); err != nil {
			m.Nack()
			return
		}
		m.Ack()
	})
	if err != nil {
		return fmt.Errorf("receive from %s: %w", r.name, err)
	}
	return nil
}

// envelope converts m to the envelope Pub/Sub would have pushed: the
// delivery attempt is 0 (unknown) when the subscription has no dead-letter
// policy, as in a push without the field.
func (r *Receiver) envelope(m *sdk.Message) *wire.PushEnvelope {
	env := &wire.PushEnvelope{
		Message: wire.Message{
			Data:        m.Data,
			Attributes:  m.Attributes,
			MessageID:   m.ID,
			PublishTime: m.PublishTime,
		},
		Subscription: r.name,
	}
	if m.DeliveryAttempt != nil {
		env.DeliveryAttempt = *m.DeliveryAttempt
	}
	return env
}

// Close releases the connection. Receive must have returned.
func (r *Receiver) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close pubsub client: %w", err)
	}
	return nil
}
