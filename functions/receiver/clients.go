package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"cloud.google.com/go/pubsub/v2"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// The Google Cloud clients the receiver uses, each wrapped in the little
// it needs: publish to a topic, create a task, read a secret, check a push
// token. The clients read PUBSUB_EMULATOR_HOST themselves; Cloud Tasks and
// Secret Manager take an endpoint (HOOKRUN_CLOUDTASKS_ENDPOINT,
// HOOKRUN_SECRETMANAGER_ENDPOINT) for a local emulator.

// clientOptions are the options of a Cloud Tasks or Secret Manager client:
// a logger that drops the SDK's debug logs, which would show task bodies
// and secrets with GOOGLE_SDK_GO_LOGGING_LEVEL=debug, and, with an
// emulator endpoint, plaintext gRPC without credentials.
func clientOptions(emulator string) []option.ClientOption {
	opts := []option.ClientOption{option.WithLogger(slog.New(slog.DiscardHandler))}
	if emulator != "" {
		opts = append(opts,
			option.WithEndpoint(emulator),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	return opts
}

// pubsubPublisher publishes to one topic and returns once Pub/Sub has
// each message. It is safe for concurrent use.
type pubsubPublisher struct {
	client *pubsub.Client
	pub    *pubsub.Publisher
	topic  string
}

// newPublisher connects to Pub/Sub for topic, projects/P/topics/T. It does
// not check that the topic exists: the publisher role cannot read topics.
// timeout bounds the client's retries of one publish.
func newPublisher(ctx context.Context, topic string, timeout time.Duration) (*pubsubPublisher, error) {
	project := strings.Split(topic, "/")[1]
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("pubsub.NewClient(%s): %w", project, err)
	}
	pub := client.Publisher(topic)
	// The sender waits on every publish: batching would only delay it.
	pub.PublishSettings.DelayThreshold = time.Millisecond
	pub.PublishSettings.Timeout = timeout
	return &pubsubPublisher{client: client, pub: pub, topic: topic}, nil
}

func (p *pubsubPublisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	id, err := p.pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", p.topic, err)
	}
	return id, nil
}

// Close sends what is buffered, waits for it, and releases the connection.
func (p *pubsubPublisher) Close() error {
	p.pub.Stop()
	return p.client.Close()
}

// maxTaskBody is the largest task body tasksQueue sends: Cloud Tasks
// refuses tasks over 100 KB, and the rest is room for the task's name,
// URL and headers.
const maxTaskBody = 90 * 1024

// createRetry retries CreateTask on UNAVAILABLE, which the client does not
// by default since creating is not idempotent in general. A named task is:
// if the first try did create it, the retry gets ALREADY_EXISTS.
var createRetry = gax.WithRetry(func() gax.Retryer {
	return gax.OnCodes([]codes.Code{codes.Unavailable}, gax.Backoff{
		Initial:    100 * time.Millisecond,
		Max:        2 * time.Second,
		Multiplier: 2,
	})
})

// tasksQueue creates HTTP tasks in one queue, POSTing to one URL. It is
// safe for concurrent use.
type tasksQueue struct {
	client         *cloudtasks.Client
	queue          string // projects/P/locations/L/queues/Q
	url            string
	serviceAccount string // OIDC token of this account on each task, if set
}

func newTasksQueue(ctx context.Context, cfg Config) (*tasksQueue, error) {
	client, err := cloudtasks.NewClient(ctx, clientOptions(cfg.CloudTasksEndpoint)...)
	if err != nil {
		return nil, fmt.Errorf("cloudtasks.NewClient: %w", err)
	}
	return &tasksQueue{client: client, queue: cfg.HandoffTasksQueue, url: cfg.HandoffTasksURL, serviceAccount: cfg.HandoffTasksServiceAccount}, nil
}

// Schedule implements scheduler. Errors give the body's size, never its
// content.
func (q *tasksQueue) Schedule(ctx context.Context, taskID string, body []byte, header map[string]string) error {
	if len(body) > maxTaskBody {
		return fmt.Errorf("schedule task %s: body is %d bytes, at most %d fit: %w", taskID, len(body), maxTaskBody, errTooLarge)
	}
	headers := maps.Clone(header)
	if headers == nil {
		headers = map[string]string{}
	}
	headers["Content-Type"] = "application/json"
	req := &cloudtaskspb.HttpRequest{
		Url:        q.url,
		HttpMethod: cloudtaskspb.HttpMethod_POST,
		Headers:    headers,
		Body:       body,
	}
	if q.serviceAccount != "" {
		// The audience defaults to the URL, which PROCESS_AUDIENCE names.
		req.AuthorizationHeader = &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{ServiceAccountEmail: q.serviceAccount}}
	}
	task := &cloudtaskspb.Task{Name: q.queue + "/tasks/" + taskID, MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: req}}
	// The default BASIC view keeps the body out of the response.
	_, err := q.client.CreateTask(ctx, &cloudtaskspb.CreateTaskRequest{Parent: q.queue, Task: task}, createRetry)
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create task %s in %s: %w", taskID, q.queue, err)
	}
	return nil
}

func (q *tasksQueue) Close() error { return q.client.Close() }

// accessSecret returns the payload of a Secret Manager secret version,
// projects/P/secrets/S/versions/V. Errors never hold the payload.
func accessSecret(ctx context.Context, name, emulator string) ([]byte, error) {
	client, err := secretmanager.NewClient(ctx, clientOptions(emulator)...)
	if err != nil {
		return nil, fmt.Errorf("secretmanager.NewClient: %w", err)
	}
	defer client.Close()
	resp, err := client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return nil, fmt.Errorf("access %s: %w", name, err)
	}
	return resp.GetPayload().GetData(), nil
}

// oidcVerifier checks the Google-signed OIDC tokens that Pub/Sub push
// subscriptions and Cloud Tasks attach, for one audience and service
// account. idtoken fetches and caches Google's keys.
type oidcVerifier struct {
	audience       string
	serviceAccount string
	v              *idtoken.Validator
}

func newOIDCVerifier(ctx context.Context, audience, serviceAccount string) (*oidcVerifier, error) {
	v, err := idtoken.NewValidator(ctx)
	if err != nil {
		return nil, fmt.Errorf("idtoken.NewValidator: %w", err)
	}
	return &oidcVerifier{audience: audience, serviceAccount: serviceAccount, v: v}, nil
}

// Verify implements PushVerifier. Errors never repeat the token.
func (o *oidcVerifier) Verify(ctx context.Context, authorization string) error {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return errors.New("no bearer token")
	}
	p, err := o.v.Validate(ctx, token, o.audience)
	if err != nil {
		return fmt.Errorf("invalid token: %w", err)
	}
	// Any Google-signed token for the audience is not enough: it must be
	// the push's service account, with a verified email.
	if email, _ := p.Claims["email"].(string); email != o.serviceAccount {
		return fmt.Errorf("token is for %q, not the push service account", email)
	}
	if verified, _ := p.Claims["email_verified"].(bool); !verified {
		return errors.New("token email is not verified")
	}
	return nil
}
