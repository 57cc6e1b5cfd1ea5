// Package pubsub is hookrun's adapter for Google Cloud Pub/Sub: a Publisher
// that returns only once Pub/Sub has a message, a Receiver that hands the
// messages of a pull subscription to a handler as push envelopes (the
// dispatcher's streaming-pull mode), and an Admin that creates the topics
// and subscriptions the local stack and tests need.
//
// It is the only package that imports the Pub/Sub SDK. The SDK itself honours
// PUBSUB_EMULATOR_HOST, so the same code runs against the emulator.
package pubsub

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Defaults for Config.
const (
	// DefaultDelayThreshold is short because ingest waits on every publish
	// before it answers 202: batching for longer would add latency to every
	// request for throughput ingest does not need.
	DefaultDelayThreshold = time.Millisecond
	// DefaultPublishTimeout bounds the SDK's own retries of one publish.
	DefaultPublishTimeout = 10 * time.Second
)

// Config configures a Publisher.
type Config struct {
	// ProjectID is the Google Cloud project that owns the topic.
	ProjectID string
	// Topic is the topic ID, e.g. "events", not the full resource name.
	Topic string
	// DelayThreshold is how long the SDK may hold a message to batch it
	// with others; 0 means DefaultDelayThreshold.
	DelayThreshold time.Duration
	// PublishTimeout bounds one Publish including the SDK's retries;
	// 0 means DefaultPublishTimeout.
	PublishTimeout time.Duration
}

// Validate reports the first problem with c, with defaults applied.
func (c *Config) Validate() error {
	d := c.withDefaults()
	if d.ProjectID == "" {
		return errors.New("pubsub config: ProjectID is empty")
	}
	if err := validateID("topic", d.Topic); err != nil {
		return fmt.Errorf("pubsub config: %w", err)
	}
	if d.DelayThreshold < 0 {
		return fmt.Errorf("pubsub config: DelayThreshold %v is negative", d.DelayThreshold)
	}
	if d.PublishTimeout < 0 {
		return fmt.Errorf("pubsub config: PublishTimeout %v is negative", d.PublishTimeout)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.DelayThreshold == 0 {
		c.DelayThreshold = DefaultDelayThreshold
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	return c
}

// idPattern is Pub/Sub's rule for topic and subscription IDs. Checking it
// here turns a confusing INVALID_ARGUMENT from the server (or a hang on a
// malformed name) into an error that names the field.
var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)

func validateID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s ID is empty", kind)
	case strings.Contains(id, "/"):
		return fmt.Errorf("%s ID %q: want an ID such as %q, not a resource name", kind, id, "events")
	case !idPattern.MatchString(id):
		return fmt.Errorf("%s ID %q: want 3-255 letters, digits or -_.~+%%, starting with a letter", kind, id)
	case strings.HasPrefix(strings.ToLower(id), "goog"):
		return fmt.Errorf("%s ID %q: must not start with \"goog\"", kind, id)
	}
	return nil
}

func topicName(project, id string) string { return "projects/" + project + "/topics/" + id }

func subscriptionName(project, id string) string {
	return "projects/" + project + "/subscriptions/" + id
}
