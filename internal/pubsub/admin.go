package pubsub

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	sdk "cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Admin creates Pub/Sub resources in one project for the local stack and
// tests; production resources come from Terraform. Its Ensure methods are
// idempotent, so a stack can run them on every start.
type Admin struct {
	client  *sdk.Client
	project string
}

// NewAdmin connects to Pub/Sub for projectID.
func NewAdmin(ctx context.Context, projectID string, opts ...option.ClientOption) (*Admin, error) {
	if projectID == "" {
		return nil, errors.New("pubsub admin: project ID is empty")
	}
	client, err := sdk.NewClient(ctx, projectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub.NewClient(%s): %w", projectID, err)
	}
	return &Admin{client: client, project: projectID}, nil
}

// Close releases the connection.
func (a *Admin) Close() error {
	if err := a.client.Close(); err != nil {
		return fmt.Errorf("close pubsub client: %w", err)
	}
	return nil
}

// EnsureTopic creates topic topicID unless it exists.
func (a *Admin) EnsureTopic(ctx context.Context, topicID string) error {
	if err := validateID("topic", topicID); err != nil {
		return fmt.Errorf("ensure topic: %w", err)
	}
	name := topicName(a.project, topicID)
	_, err := a.client.TopicAdminClient.CreateTopic(ctx, &pb.Topic{Name: name})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	return nil
}

// PushSubscription describes a subscription that Pub/Sub delivers by POSTing
// the standard push envelope to Endpoint, or, without Endpoint, a pull
// subscription with the same settings (a Receiver's).
type PushSubscription struct {
	// ID is the subscription ID, e.g. "events-dispatcher".
	ID string
	// Topic is the ID of the topic it reads; the topic must exist.
	Topic string
	// Endpoint is the absolute http(s) URL Pub/Sub POSTs each message to;
	// empty makes it a pull subscription.
	Endpoint string
	// AckDeadline is how long the endpoint may take before Pub/Sub
	// redelivers; 0 means 10 s, the allowed range is 10 s to 600 s.
	AckDeadline time.Duration
	// DeadLetterTopic is the ID of a topic for messages that failed
	// MaxDeliveryAttempts times; empty means none. The topic must exist.
	DeadLetterTopic string
	// MaxDeliveryAttempts is used only with DeadLetterTopic; 0 means 5,
	// the allowed range is 5 to 100.
	MaxDeliveryAttempts int
}

const (
	minAckDeadline      = 10 * time.Second
	maxAckDeadline      = 600 * time.Second
	minDeliveryAttempts = 5
	maxDeliveryAttempts = 100
)

// Validate reports the first problem with s, with defaults applied.
func (s *PushSubscription) Validate() error {
	d := s.withDefaults()
	if err := validateID("subscription", d.ID); err != nil {
		return err
	}
	if err := validateID("topic", d.Topic); err != nil {
		return err
	}
	if d.Endpoint != "" {
		if u, err := url.Parse(d.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("subscription %s: push endpoint %q is not an absolute http(s) URL", d.ID, d.Endpoint)
		}
	}
	if d.AckDeadline < minAckDeadline || d.AckDeadline > maxAckDeadline || d.AckDeadline%time.Second != 0 {
		return fmt.Errorf("subscription %s: ack deadline %v: want whole seconds from %v to %v", d.ID, d.AckDeadline, minAckDeadline, maxAckDeadline)
	}
	if d.DeadLetterTopic == "" {
		return nil
	}
	if err := validateID("dead-letter topic", d.DeadLetterTopic); err != nil {
		return err
	}
	if d.MaxDeliveryAttempts < minDeliveryAttempts || d.MaxDeliveryAttempts > maxDeliveryAttempts {
		return fmt.Errorf("subscription %s: max delivery attempts %d: want %d to %d", d.ID, d.MaxDeliveryAttempts, minDeliveryAttempts, maxDeliveryAttempts)
	}
	return nil
}

func (s PushSubscription) withDefaults() PushSubscription {
	if s.AckDeadline == 0 {
		s.AckDeadline = minAckDeadline
	}
	if s.DeadLetterTopic != "" && s.MaxDeliveryAttempts == 0 {
		s.MaxDeliveryAttempts = minDeliveryAttempts
	}
	return s
}

// proto is the subscription as Pub/Sub represents it.
func (s PushSubscription) proto(project string) *pb.Subscription {
	sub := &pb.Subscription{
		Name:               subscriptionName(project, s.ID),
		Topic:              topicName(project, s.Topic),
		PushConfig:         &pb.PushConfig{PushEndpoint: s.Endpoint},
		AckDeadlineSeconds: int32(s.AckDeadline / time.Second),
	}
	if s.DeadLetterTopic != "" {
		sub.DeadLetterPolicy = &pb.DeadLetterPolicy{
			DeadLetterTopic:     topicName(project, s.DeadLetterTopic),
			MaxDeliveryAttempts: int32(s.MaxDeliveryAttempts),
		}
	}
	return sub
}

// EnsurePushSubscription creates the subscription unless it exists. An
// existing one gets s's push endpoint (none turns it into a pull
// subscription, one turns a pull subscription into a push one), ack
// deadline and dead-letter policy, because a restarted local stack usually
// listens on a new port. It fails
// if the existing one reads another topic: Pub/Sub cannot change that.
func (a *Admin) EnsurePushSubscription(ctx context.Context, s PushSubscription) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("ensure push subscription: %w", err)
	}
	want := s.withDefaults().proto(a.project)
	subs := a.client.SubscriptionAdminClient
	got, err := a.ensureSubscription(ctx, want)
	if err != nil || got == nil {
		return err
	}
	if got.GetPushConfig().GetPushEndpoint() != want.PushConfig.PushEndpoint {
		// ModifyPushConfig rather than UpdateSubscription: every emulator
		// version supports it.
		err := subs.ModifyPushConfig(ctx, &pb.ModifyPushConfigRequest{Subscription: want.Name, PushConfig: want.PushConfig})
		if err != nil {
			return fmt.Errorf("modify push config of %s: %w", want.Name, err)
		}
	}
	var paths []string
	if got.GetAckDeadlineSeconds() != want.AckDeadlineSeconds {
		paths = append(paths, "ack_deadline_seconds")
	}
	if got.GetDeadLetterPolicy().GetDeadLetterTopic() != want.GetDeadLetterPolicy().GetDeadLetterTopic() ||
		got.GetDeadLetterPolicy().GetMaxDeliveryAttempts() != want.GetDeadLetterPolicy().GetMaxDeliveryAttempts() {
		paths = append(paths, "dead_letter_policy")
	}
	if len(paths) == 0 {
		return nil
	}
	_, err = subs.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{
		Subscription: want,
		UpdateMask:   &fieldmaskpb.FieldMask{Paths: paths},
	})
	if err != nil {
		return fmt.Errorf("update subscription %s %v: %w", want.Name, paths, err)
	}
	return nil
}

// EnsurePullSubscription creates pull subscription id on topic unless it
// exists; it fails if an existing one reads another topic.
func (a *Admin) EnsurePullSubscription(ctx context.Context, id, topic string) error {
	if err := validateID("subscription", id); err != nil {
		return fmt.Errorf("ensure pull subscription: %w", err)
	}
	if err := validateID("topic", topic); err != nil {
		return fmt.Errorf("ensure pull subscription: %w", err)
	}
	want := &pb.Subscription{Name: subscriptionName(a.project, id), Topic: topicName(a.project, topic)}
	_, err := a.ensureSubscription(ctx, want)
	return err
}

// DeleteSubscription deletes subscription id and the messages it holds;
// one that does not exist is already deleted. The emulator does not
// support Seek reliably, so deleting and ensuring a subscription again is
// how the local stack empties one.
func (a *Admin) DeleteSubscription(ctx context.Context, id string) error {
	if err := validateID("subscription", id); err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	name := subscriptionName(a.project, id)
	err := a.client.SubscriptionAdminClient.DeleteSubscription(ctx, &pb.DeleteSubscriptionRequest{Subscription: name})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("delete subscription %s: %w", name, err)
	}
	return nil
}

// ensureSubscription creates want unless it exists, and returns the
// existing one (nil when it created want). An existing one that reads
// another topic is an error: Pub/Sub cannot change that.
func (a *Admin) ensureSubscription(ctx context.Context, want *pb.Subscription) (*pb.Subscription, error) {
	subs := a.client.SubscriptionAdminClient
	_, err := subs.CreateSubscription(ctx, want)
	if err == nil {
		return nil, nil
	}
	if status.Code(err) != codes.AlreadyExists {
		return nil, fmt.Errorf("create subscription %s: %w", want.Name, err)
	}
	got, err := subs.GetSubscription(ctx, &pb.GetSubscriptionRequest{Subscription: want.Name})
	if err != nil {
		return nil, fmt.Errorf("get subscription %s: %w", want.Name, err)
	}
	if got.GetTopic() != want.Topic {
		return nil, fmt.Errorf("subscription %s reads %s, want %s: delete it first", want.Name, got.GetTopic(), want.Topic)
	}
	return got, nil
}
