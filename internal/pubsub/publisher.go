package pubsub

import (
	"context"
	"fmt"

	sdk "cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/gcpcall"
)

// Publisher publishes messages to one topic and waits for each to be
// acknowledged, so a caller that got an ID knows Pub/Sub has the message.
// It is safe for concurrent use; concurrent publishes share batches.
type Publisher struct {
	client *sdk.Client
	pub    *sdk.Publisher
	topic  string // full resource name, for errors
	cfg    Config
}

// NewPublisher connects to Pub/Sub. It does not check that the topic exists:
// the publisher role cannot read topics, and a missing topic surfaces as an
// error from the first Publish.
func NewPublisher(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// PublishTimeout is the deadline of a publish to a server that does
	// not answer. One that cannot be reached fails at once (gcpcall)
	// rather than being retried with backoff for all of PublishTimeout, so
	// that its caller answers 503 at once.
	opts = append(gcpcall.ClientOptions(gcpcall.NoTimeout), opts...)
	client, err := sdk.NewClient(ctx, cfg.ProjectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub.NewClient(%s): %w", cfg.ProjectID, err)
	}
	pub := client.Publisher(cfg.Topic)
	pub.PublishSettings.DelayThreshold = cfg.DelayThreshold
	// The SDK retries a failed batch until this timeout, then fails every
	// message in it; Publish waits no longer than that.
	pub.PublishSettings.Timeout = cfg.PublishTimeout
	return &Publisher{client: client, pub: pub, topic: topicName(cfg.ProjectID, cfg.Topic), cfg: cfg}, nil
}

// Publish sends one message and returns the server-assigned message ID once
// Pub/Sub acknowledged it, or an error once the SDK gave up retrying
// (PublishTimeout), ctx is done, or at once when Pub/Sub cannot be
// reached. An error is final for this message only; later publishes are
// unaffected, since no ordering key pauses the topic. After an error the
// message may still have been stored (the answer was lost), so consumers
// must tolerate duplicates.
func (p *Publisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	return p.Start(ctx, data, attrs)()
}

// Start hands one message to the SDK's batching and returns at once; wait
// blocks until Pub/Sub acknowledged it, and returns what Publish would.
// Messages started together share batches as concurrent publishes do,
// without a goroutine to wait for each. The caller must call wait.
func (p *Publisher) Start(ctx context.Context, data []byte, attrs map[string]string) (wait func() (string, error)) {
	// The SDK applies PublishTimeout from when the batch is sent; this
	// bound also covers the batching delay and a wedged SDK.
	ctx, cancel := gcpcall.Within(ctx, p.cfg.PublishTimeout+p.cfg.DelayThreshold)
	res := p.pub.Publish(ctx, &sdk.Message{Data: data, Attributes: attrs})
	return func() (string, error) {
		defer cancel()
		id, err := res.Get(ctx)
		if err != nil {
			return "", fmt.Errorf("publish to %s: %w", p.topic, err)
		}
		return id, nil
	}
}

// Close sends any buffered messages, waits for their results, and releases
// the connection. Publish must not be called after Close.
func (p *Publisher) Close() error {
	p.pub.Stop()
	if err := p.client.Close(); err != nil {
		return fmt.Errorf("close pubsub client: %w", err)
	}
	return nil
}
