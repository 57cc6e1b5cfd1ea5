package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sdk "cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/gcpcall"
)

// Pub/Sub's limits on one publish request.
const (
	maxRequestMessages = 1000
	// maxRequestBytes keeps a request well under Pub/Sub's 10 MB, since
	// messageSize only estimates a message's encoded size.
	maxRequestBytes = 9 << 20
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("pubsub: publisher is closed")

// Publisher publishes messages to one topic and waits for each to be
// acknowledged, so a caller that got an ID knows Pub/Sub has the message.
// It is safe for concurrent use.
//
// Concurrent publishes are grouped by load rather than by a delay: a
// message is sent at once while fewer than Config.Concurrency publish
// requests are outstanding; otherwise it waits, with the messages that
// arrive meanwhile, for the next request to end, and they go together in
// one request. A message published alone therefore waits for nothing,
// and under load the requests, and the CPU and Pub/Sub operations they
// cost, grow fewer per message the higher the rate. The Pub/Sub SDK's own
// batching cannot do this: it closes a batch after a fixed delay and
// sends each batch on its own, however many are outstanding.
type Publisher struct {
	client *sdk.Client
	topic  string // full resource name
	cfg    Config

	mu      sync.Mutex
	queue   []*outgoing // waiting for a request
	sending int         // requests outstanding
	closed  bool
	senders sync.WaitGroup
}

// outgoing is one message on its way: done is closed once id or err is
// set.
type outgoing struct {
	ctx  context.Context // the publisher's: a message it gave up on is not sent
	msg  *pb.PubsubMessage
	size int
	id   string
	err  error
	done chan struct{}
}

// NewPublisher connects to Pub/Sub. It does not check that the topic exists:
// the publisher role cannot read topics, and a missing topic surfaces as an
// error from the first Publish.
func NewPublisher(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// PublishTimeout is the deadline of a publish request, the client's
	// own retries included. A server that cannot be reached fails it at
	// once (gcpcall) rather than being retried with backoff for all of
	// PublishTimeout, so that its caller answers 503 at once.
	opts = append(gcpcall.ClientOptions(gcpcall.NoTimeout), opts...)
	client, err := sdk.NewClient(ctx, cfg.ProjectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub.NewClient(%s): %w", cfg.ProjectID, err)
	}
	return &Publisher{client: client, topic: topicName(cfg.ProjectID, cfg.Topic), cfg: cfg}, nil
}

// Publish sends one message and returns the server-assigned message ID once
// Pub/Sub acknowledged it, or an error once the client gave up retrying
// (PublishTimeout), ctx is done, or at once when Pub/Sub cannot be
// reached. An error is final for this message only; later publishes are
// unaffected. After an error the message may still have been stored (the
// answer was lost), so consumers must tolerate duplicates; a message whose
// ctx ended before it was sent is not sent.
func (p *Publisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	m := &outgoing{ctx: ctx, msg: &pb.PubsubMessage{Data: data, Attributes: attrs}, size: messageSize(data, attrs), done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return "", fmt.Errorf("publish to %s: %w", p.topic, ErrClosed)
	}
	p.queue = append(p.queue, m)
	if p.sending < p.cfg.Concurrency {
		p.sending++
		p.senders.Add(1)
		go p.send()
	}
	p.mu.Unlock()

	// A request ends within PublishTimeout; waiting for a slot adds at
	// most as long again. This bound also covers a wedged client.
	wait, cancel := context.WithTimeout(ctx, 2*p.cfg.PublishTimeout)
	defer cancel()
	select {
	case <-m.done:
	case <-wait.Done():
		return "", fmt.Errorf("publish to %s: %w", p.topic, wait.Err())
	}
	if m.err != nil {
		return "", fmt.Errorf("publish to %s: %w", p.topic, m.err)
	}
	return m.id, nil
}

// send sends what is queued, one request at a time, until the queue is
// empty.
func (p *Publisher) send() {
	defer p.senders.Done()
	for {
		p.mu.Lock()
		batch := p.take()
		if len(batch) == 0 {
			p.sending--
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.request(batch)
	}
}

// take removes the next request's messages from the queue: as many as
// one request may carry, oldest first. A message whose publisher stopped
// waiting is answered with its context's error and not sent. p.mu is held.
func (p *Publisher) take() []*outgoing {
	var batch []*outgoing
	n, bytes := 0, 0
	for ; n < len(p.queue); n++ {
		m := p.queue[n]
		if err := m.ctx.Err(); err != nil {
			m.err = err
			close(m.done)
			continue
		}
		if len(batch) == maxRequestMessages || (len(batch) > 0 && bytes+m.size > maxRequestBytes) {
			break
		}
		batch = append(batch, m)
		bytes += m.size
	}
	clear(p.queue[:n])
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.queue = nil // let the backing array go
	}
	return batch
}

// request publishes batch in one request and answers each of its
// messages.
func (p *Publisher) request(batch []*outgoing) {
	msgs := make([]*pb.PubsubMessage, len(batch))
	for i, m := range batch {
		msgs[i] = m.msg
	}
	// Not a caller's context: the request serves many callers, each of
	// which stops waiting when its own context ends.
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.PublishTimeout)
	defer cancel()
	res, err := p.client.TopicAdminClient.Publish(ctx, &pb.PublishRequest{Topic: p.topic, Messages: msgs})
	if err == nil && len(res.GetMessageIds()) != len(batch) {
		err = fmt.Errorf("pubsub answered %d message IDs for %d messages", len(res.GetMessageIds()), len(batch))
	}
	for i, m := range batch {
		if err != nil {
			m.err = err
		} else {
			m.id = res.MessageIds[i]
		}
		close(m.done)
	}
}

// messageSize estimates the encoded size of a message with data and
// attrs, for the request size limit: the bytes plus a few for each
// field's tag and length.
func messageSize(data []byte, attrs map[string]string) int {
	n := len(data) + 8
	for k, v := range attrs {
		n += len(k) + len(v) + 8
	}
	return n
}

// Close sends the messages already published and waits for their
// answers, then releases the connection. Publish fails after Close.
func (p *Publisher) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.senders.Wait()
	if err := p.client.Close(); err != nil {
		return fmt.Errorf("close pubsub client: %w", err)
	}
	return nil
}
