package cloudtasks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hookrun/hookrun/internal/telemetry"
)

// MaxBodyBytes is the largest body Schedule accepts. Cloud Tasks refuses
// tasks over 100 KB; the margin leaves room for the task's name, URL and
// headers.
const MaxBodyBytes = 90 * 1024

// ErrTooLarge is wrapped into the error of Schedule for a body over
// MaxBodyBytes, so the caller can schedule a reference to the payload
// (an ID to read it back by) instead.
var ErrTooLarge = errors.New("task body too large for Cloud Tasks")

// taskIDPattern is the task ID syntax Cloud Tasks accepts.
var taskIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)

// createRetry retries CreateTask on UNAVAILABLE, which the SDK does not do by
// default because creating is not idempotent in general. A named task is:
// if the first try did create it, the retry gets ALREADY_EXISTS, which
// Schedule takes as success.
var createRetry = gax.WithRetry(func() gax.Retryer {
	return gax.OnCodes([]codes.Code{codes.Unavailable}, gax.Backoff{
		Initial:    100 * time.Millisecond,
		Max:        2 * time.Second,
		Multiplier: 2,
	})
})

// Schedule creates task taskID, which POSTs body (JSON, sent with
// Content-Type application/json) to the target URL at at; a zero or past
// at means now. The task's request carries the trace context of ctx
// (traceparent, tracestate), so that its handler continues the trace. taskID must be a valid task ID, such as TaskID returns.
//
// Scheduling is idempotent by name: if a task named taskID exists or
// existed recently, Schedule returns nil and the first task stands. A body
// over MaxBodyBytes is refused with an error wrapping ErrTooLarge. Errors
// give the body's size, never its content.
func (s *Scheduler) Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error {
	if !taskIDPattern.MatchString(taskID) {
		return fmt.Errorf("schedule task %q: invalid task ID: want 1 to 500 letters, digits, hyphens or underscores (see TaskID)", taskID)
	}
	if len(body) > MaxBodyBytes {
		return fmt.Errorf("schedule task %s: body is %d bytes, at most %d fit: %w", taskID, len(body), MaxBodyBytes, ErrTooLarge)
	}
	req := &cloudtaskspb.HttpRequest{
		Url:        s.cfg.TargetURL,
		HttpMethod: cloudtaskspb.HttpMethod_POST,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       body,
	}
	telemetry.InjectHeaders(ctx, req.Headers)
	if s.cfg.OIDCServiceAccount != "" {
		req.AuthorizationHeader = &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
			ServiceAccountEmail: s.cfg.OIDCServiceAccount,
			Audience:            s.cfg.Audience(), // the one the target verifies
		}}
	}
	task := &cloudtaskspb.Task{
		Name:        s.queue + "/tasks/" + taskID,
		MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: req},
	}
	if !at.IsZero() {
		task.ScheduleTime = timestamppb.New(at)
	}
	// The default BASIC view keeps the body out of the response.
	_, err := s.client.CreateTask(ctx, &cloudtaskspb.CreateTaskRequest{Parent: s.queue, Task: task}, createRetry)
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create task %s in %s: %w", taskID, s.queue, err)
	}
	return nil
}

// QueueRetry is the retry config of a queue EnsureQueue creates. It only
// covers a dispatcher that crashed or answered non-2xx: the webhook retry
// schedule is hookrun's own, made of separate tasks. Zero fields take the
// Cloud Tasks defaults (100 attempts, backoff from 0.1 s to 1 h, 16
// doublings).
type QueueRetry struct {
	// MaxAttempts counts the first attempt; -1 means unlimited.
	MaxAttempts int32
	// MinBackoff and MaxBackoff bound the wait between attempts, which
	// doubles MaxDoublings times and then grows linearly.
	MinBackoff, MaxBackoff time.Duration
	MaxDoublings           int32
}

// Validate reports the first thing wrong with r.
func (r QueueRetry) Validate() error {
	switch {
	case r.MaxAttempts < -1:
		return fmt.Errorf("queue retry: MaxAttempts %d must be -1 (unlimited), 0 (default) or more", r.MaxAttempts)
	case r.MinBackoff < 0 || r.MaxBackoff < 0 || r.MaxDoublings < 0:
		return errors.New("queue retry: backoffs and MaxDoublings must not be negative")
	case r.MinBackoff > 0 && r.MaxBackoff > 0 && r.MinBackoff > r.MaxBackoff:
		return fmt.Errorf("queue retry: MinBackoff %v exceeds MaxBackoff %v", r.MinBackoff, r.MaxBackoff)
	}
	return nil
}

func (r QueueRetry) config() *cloudtaskspb.RetryConfig {
	c := &cloudtaskspb.RetryConfig{MaxAttempts: r.MaxAttempts, MaxDoublings: r.MaxDoublings}
	if r.MinBackoff > 0 {
		c.MinBackoff = durationpb.New(r.MinBackoff)
	}
	if r.MaxBackoff > 0 {
		c.MaxBackoff = durationpb.New(r.MaxBackoff)
	}
	return c
}

// EnsureQueue creates the Scheduler's queue with retry if it does not
// exist, for the local stack and tests. An existing queue is left as it is:
// in production the infrastructure code owns it, and this needs only the
// permission to read it.
func (s *Scheduler) EnsureQueue(ctx context.Context, retry QueueRetry) error {
	if err := retry.Validate(); err != nil {
		return err
	}
	_, err := s.client.GetQueue(ctx, &cloudtaskspb.GetQueueRequest{Name: s.queue})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.NotFound:
	default:
		return fmt.Errorf("get queue %s: %w", s.queue, err)
	}
	_, err = s.client.CreateQueue(ctx, &cloudtaskspb.CreateQueueRequest{
		Parent: s.location,
		Queue:  &cloudtaskspb.Queue{Name: s.queue, RetryConfig: retry.config()},
	})
	// ALREADY_EXISTS: another process created it meanwhile.
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create queue %s: %w", s.queue, err)
	}
	return nil
}
