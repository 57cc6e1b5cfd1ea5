package cloudtasks_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func TestCreateQueueDefaults(t *testing.T) {
	e := newEnv(t)
	name := e.createQueue(t, "defaults", nil)
	q, err := e.c.GetQueue(t.Context(), &cloudtaskspb.GetQueueRequest{Name: name})
	if err != nil {
		t.Fatalf("GetQueue: %v", err)
	}
	rc, rl := q.GetRetryConfig(), q.GetRateLimits()
	tests := []struct {
		field     string
		got, want any
	}{
		{"name", q.GetName(), e.location + "/queues/defaults"},
		{"state", q.GetState(), cloudtaskspb.Queue_RUNNING},
		{"max_attempts", rc.GetMaxAttempts(), int32(100)},
		{"min_backoff", rc.GetMinBackoff().AsDuration(), 100 * time.Millisecond},
		{"max_backoff", rc.GetMaxBackoff().AsDuration(), time.Hour},
		{"max_doublings", rc.GetMaxDoublings(), int32(16)},
		{"max_retry_duration", rc.GetMaxRetryDuration().AsDuration(), time.Duration(0)},
		{"max_dispatches_per_second", rl.GetMaxDispatchesPerSecond(), 500.0},
		{"max_concurrent_dispatches", rl.GetMaxConcurrentDispatches(), int32(1000)},
		{"max_burst_size", rl.GetMaxBurstSize(), int32(100)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.field, tt.got, tt.want)
		}
	}
}

func TestCreateQueueErrors(t *testing.T) {
	e := newEnv(t)
	e.createQueue(t, "taken", nil)
	queue := func(id string) *cloudtaskspb.Queue { return &cloudtaskspb.Queue{Name: e.location + "/queues/" + id} }
	withRetry := func(rc *cloudtaskspb.RetryConfig) *cloudtaskspb.Queue {
		q := queue("retry")
		q.RetryConfig = rc
		return q
	}

	tests := []struct {
		name   string
		parent string
		queue  *cloudtaskspb.Queue
		want   codes.Code
	}{
		{"ok", e.location, queue("fresh-1"), codes.OK},
		{"duplicate", e.location, queue("taken"), codes.AlreadyExists},
		{"same ID in another location", e.location + "x", &cloudtaskspb.Queue{Name: e.location + "x/queues/taken"}, codes.OK},
		{"underscore in ID", e.location, queue("no_underscores"), codes.InvalidArgument},
		{"ID of 101", e.location, queue(strings.Repeat("q", 101)), codes.InvalidArgument},
		{"no queue", e.location, nil, codes.InvalidArgument},
		{"bad parent", "projects/p", queue("a"), codes.InvalidArgument},
		{"name outside parent", "projects/other/locations/local", queue("a"), codes.InvalidArgument},
		{"http_target", e.location, &cloudtaskspb.Queue{Name: e.location + "/queues/ht", HttpTarget: &cloudtaskspb.HttpTarget{}}, codes.Unimplemented},
		{"max_attempts -2", e.location, withRetry(&cloudtaskspb.RetryConfig{MaxAttempts: -2}), codes.InvalidArgument},
		{"min over max backoff", e.location, withRetry(fastRetry(5, time.Minute, time.Second)), codes.InvalidArgument},
		{"min over default max backoff", e.location, withRetry(&cloudtaskspb.RetryConfig{MinBackoff: durationpb.New(2 * time.Hour)}), codes.InvalidArgument},
		{"rate over 500", e.location, &cloudtaskspb.Queue{Name: e.location + "/queues/fast", RateLimits: &cloudtaskspb.RateLimits{MaxDispatchesPerSecond: 501}}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.CreateQueue(t.Context(), &cloudtaskspb.CreateQueueRequest{Parent: tt.parent, Queue: tt.queue})
			wantCode(t, err, tt.want)
		})
	}
}

func TestUpdateQueue(t *testing.T) {
	e := newEnv(t)
	name := e.createQueue(t, "q", fastRetry(5, time.Second, time.Minute))
	update := &cloudtaskspb.Queue{
		Name:        name,
		RetryConfig: &cloudtaskspb.RetryConfig{MaxAttempts: 7, MinBackoff: durationpb.New(2 * time.Second)},
		RateLimits:  &cloudtaskspb.RateLimits{MaxConcurrentDispatches: 3},
	}

	tests := []struct {
		name  string
		paths []string
		want  string // max_attempts min_backoff max_backoff max_concurrent_dispatches
		code  codes.Code
	}{
		{"one sub-field", []string{"retry_config.max_attempts"}, "7 1s 1m0s 1000", codes.OK},
		{"two sub-fields", []string{"retry_config.min_backoff", "rate_limits.max_concurrent_dispatches"}, "5 2s 1m0s 3", codes.OK},
		{"whole retry_config: unset fields take the defaults", []string{"retry_config"}, "7 2s 1h0m0s 1000", codes.OK},
		{"output-only fields are ignored", []string{"state", "rate_limits.max_burst_size"}, "5 1s 1m0s 1000", codes.OK},
		{"unknown field", []string{"retry_config.bogus"}, "", codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Reset the queue, then apply the update.
			if _, err := e.c.UpdateQueue(t.Context(), &cloudtaskspb.UpdateQueueRequest{
				Queue: &cloudtaskspb.Queue{Name: name, RetryConfig: fastRetry(5, time.Second, time.Minute)},
			}); err != nil {
				t.Fatalf("reset: %v", err)
			}
			q, err := e.c.UpdateQueue(t.Context(), &cloudtaskspb.UpdateQueueRequest{Queue: update, UpdateMask: &fieldmaskpb.FieldMask{Paths: tt.paths}})
			wantCode(t, err, tt.code)
			if err != nil || tt.want == "" {
				return
			}
			rc := q.GetRetryConfig()
			got := strings.Join([]string{
				itoa(rc.GetMaxAttempts()), rc.GetMinBackoff().AsDuration().String(), rc.GetMaxBackoff().AsDuration().String(),
				itoa(q.GetRateLimits().GetMaxConcurrentDispatches()),
			}, " ")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUpdateQueueCreatesAMissingQueue(t *testing.T) {
	e := newEnv(t)
	name := e.location + "/queues/upserted"
	if _, err := e.c.UpdateQueue(t.Context(), &cloudtaskspb.UpdateQueueRequest{
		Queue: &cloudtaskspb.Queue{Name: name, RetryConfig: &cloudtaskspb.RetryConfig{MaxAttempts: 3}},
	}); err != nil {
		t.Fatalf("UpdateQueue: %v", err)
	}
	q, err := e.c.GetQueue(t.Context(), &cloudtaskspb.GetQueueRequest{Name: name})
	if err != nil {
		t.Fatalf("GetQueue: %v", err)
	}
	if q.GetRetryConfig().GetMaxAttempts() != 3 || q.GetState() != cloudtaskspb.Queue_RUNNING {
		t.Errorf("got max_attempts %d, state %v, want 3, RUNNING", q.GetRetryConfig().GetMaxAttempts(), q.GetState())
	}
}

func TestListQueuesPaging(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"c", "a", "b"} {
		e.createQueue(t, id, nil)
	}
	// Another location's queue is not listed.
	if _, err := e.c.CreateQueue(t.Context(), &cloudtaskspb.CreateQueueRequest{
		Parent: e.location + "2", Queue: &cloudtaskspb.Queue{Name: e.location + "2/queues/z"},
	}); err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}

	var pages []string
	pager := iterator.NewPager(e.c.ListQueues(t.Context(), &cloudtaskspb.ListQueuesRequest{Parent: e.location}), 2, "")
	for {
		var page []*cloudtaskspb.Queue
		token, err := pager.NextPage(&page)
		if err != nil {
			t.Fatalf("ListQueues: %v", err)
		}
		var ids []string
		for _, q := range page {
			ids = append(ids, strings.TrimPrefix(q.GetName(), e.location+"/queues/"))
		}
		pages = append(pages, strings.Join(ids, " "))
		if token == "" {
			break
		}
	}
	if got, want := strings.Join(pages, " | "), "a b | c"; got != want {
		t.Errorf("pages: got %q, want %q", got, want)
	}
	_, err := e.c.ListQueues(t.Context(), &cloudtaskspb.ListQueuesRequest{Parent: e.location, Filter: "state: PAUSED"}).Next()
	wantCode(t, err, codes.Unimplemented)
}

func TestQueueLifecycle(t *testing.T) {
	e := newEnv(t)
	name := e.createQueue(t, "q", nil)
	e.createTask(t, name, "t", "http://127.0.0.1:1/x", later, "")

	steps := []struct {
		name string
		call func() (*cloudtaskspb.Queue, error)
		want cloudtaskspb.Queue_State
	}{
		{"pause", func() (*cloudtaskspb.Queue, error) {
			return e.c.PauseQueue(t.Context(), &cloudtaskspb.PauseQueueRequest{Name: name})
		}, cloudtaskspb.Queue_PAUSED},
		{"get paused", func() (*cloudtaskspb.Queue, error) {
			return e.c.GetQueue(t.Context(), &cloudtaskspb.GetQueueRequest{Name: name})
		}, cloudtaskspb.Queue_PAUSED},
		{"resume", func() (*cloudtaskspb.Queue, error) {
			return e.c.ResumeQueue(t.Context(), &cloudtaskspb.ResumeQueueRequest{Name: name})
		}, cloudtaskspb.Queue_RUNNING},
		{"purge", func() (*cloudtaskspb.Queue, error) {
			q, err := e.c.PurgeQueue(t.Context(), &cloudtaskspb.PurgeQueueRequest{Name: name})
			if err == nil && q.GetPurgeTime() == nil {
				t.Errorf("purge_time not set")
			}
			return q, err
		}, cloudtaskspb.Queue_RUNNING},
	}
	for _, st := range steps {
		q, err := st.call()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if q.GetState() != st.want {
			t.Errorf("%s: got state %v, want %v", st.name, q.GetState(), st.want)
		}
	}
	if _, err := e.c.ListTasks(t.Context(), &cloudtaskspb.ListTasksRequest{Parent: name}).Next(); err != iterator.Done {
		t.Errorf("ListTasks after purge: got %v, want no tasks", err)
	}

	if err := e.c.DeleteQueue(t.Context(), &cloudtaskspb.DeleteQueueRequest{Name: name}); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	_, err := e.c.GetQueue(t.Context(), &cloudtaskspb.GetQueueRequest{Name: name})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: name, Task: httpTask(name, "", "http://127.0.0.1:1/x", later, "")})
	wantCode(t, err, codes.NotFound)
	for _, call := range []func() error{
		func() error { return e.c.DeleteQueue(t.Context(), &cloudtaskspb.DeleteQueueRequest{Name: name}) },
		func() error {
			_, err := e.c.PauseQueue(t.Context(), &cloudtaskspb.PauseQueueRequest{Name: name})
			return err
		},
		func() error {
			_, err := e.c.PurgeQueue(t.Context(), &cloudtaskspb.PurgeQueueRequest{Name: name})
			return err
		},
	} {
		wantCode(t, call(), codes.NotFound)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
