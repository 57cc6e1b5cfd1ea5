package cloudtasks_test

import (
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc/codes"

	emulator "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
)

func TestDispatchAtScheduleTime(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, nil)
	queue := e.createQueue(t, "deliveries", nil)
	in := httpTask(queue, "task-1", rc.url, time.Now().Add(200*time.Millisecond), `{"n":1}`)
	in.GetHttpRequest().Headers = map[string]string{
		"Content-Type":          "application/json",
		"X-Custom":              "kept",
		"User-Agent":            "replaced",
		"X-CloudTasks-TaskName": "replaced",
		"X-Google-Internal":     "dropped",
	}
	task, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: in})
	if err != nil {
		t.Fatalf("CreateTask: %v", err)
	}

	d := rc.next(t)
	sched := task.GetScheduleTime().AsTime()
	if d.at.Before(sched) {
		t.Errorf("dispatched at %v, before schedule_time %v", d.at, sched)
	}
	if d.method != http.MethodPost || d.body != `{"n":1}` {
		t.Errorf("got %s %q, want POST %q", d.method, d.body, `{"n":1}`)
	}
	for _, h := range []struct{ key, want string }{
		{"Content-Type", "application/json"},
		{"X-Custom", "kept"},
		{"User-Agent", "Google-Cloud-Tasks"},
		{"X-CloudTasks-QueueName", "deliveries"},
		{"X-CloudTasks-TaskName", "task-1"},
		{"X-CloudTasks-TaskRetryCount", "0"},
		{"X-CloudTasks-TaskExecutionCount", "0"},
		{"X-CloudTasks-TaskETA", fmt.Sprintf("%d.%06d", sched.Unix(), sched.Nanosecond()/1000)},
		{"X-CloudTasks-TaskPreviousResponse", ""},
		{"X-Google-Internal", ""},
		{"Authorization", ""},
	} {
		if got := d.header.Get(h.key); got != h.want {
			t.Errorf("header %s: got %q, want %q", h.key, got, h.want)
		}
	}

	// A 2xx answer deletes the task, and its name stays taken.
	e.waitEvent(t, task.GetName(), succeeded)
	e.wantGone(t, task.GetName())
	_, err = e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: in})
	wantCode(t, err, codes.AlreadyExists)
}

func TestDispatchAuthorization(t *testing.T) {
	tests := []struct {
		name string
		auth func(*cloudtaskspb.HttpRequest)
		want string
	}{
		{"none keeps the task's header", func(*cloudtaskspb.HttpRequest) {}, "Basic dXNlcjpwYXNz"},
		{"oidc token", func(r *cloudtaskspb.HttpRequest) {
			r.AuthorizationHeader = &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
				ServiceAccountEmail: "tasks@p.iam.gserviceaccount.com", Audience: "https://dispatcher",
			}}
		}, "Bearer " + emulator.FakeOIDCToken},
		{"oauth token", func(r *cloudtaskspb.HttpRequest) {
			r.AuthorizationHeader = &cloudtaskspb.HttpRequest_OauthToken{OauthToken: &cloudtaskspb.OAuthToken{
				ServiceAccountEmail: "tasks@p.iam.gserviceaccount.com",
			}}
		}, "Bearer " + emulator.FakeOAuthToken},
	}
	e := newEnv(t)
	rc := newReceiver(t, nil)
	queue := e.createQueue(t, "auth", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := httpTask(queue, "", rc.url, time.Time{}, "{}")
			in.GetHttpRequest().Headers["Authorization"] = "Basic dXNlcjpwYXNz"
			tt.auth(in.GetHttpRequest())
			if _, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: in}); err != nil {
				t.Fatalf("CreateTask: %v", err)
			}
			if got := rc.next(t).header.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	e := newEnv(t)
	held, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			return http.StatusNotFound
		}
		close(held)
		select {
		case <-release:
		case <-t.Context().Done(): // the test failed early
		}
		return http.StatusNoContent
	})
	// Retries come 100 ms, then 200 ms after a failure.
	queue := e.createQueue(t, "retry", fastRetry(10, 100*time.Millisecond, time.Second))
	task := e.createTask(t, queue, "flaky", rc.url, time.Time{}, "{}")

	var got [3]delivery
	for i := range got {
		got[i] = rc.next(t)
	}
	<-held
	// The third attempt is out and unanswered.
	mid := e.getTask(t, task.GetName())
	if mid.GetDispatchCount() != 3 || mid.GetResponseCount() != 2 {
		t.Errorf("dispatch_count, response_count: got %d, %d, want 3, 2", mid.GetDispatchCount(), mid.GetResponseCount())
	}
	if mid.GetFirstAttempt().GetDispatchTime() == nil || mid.GetLastAttempt().GetResponseTime() != nil {
		t.Errorf("first_attempt %v, last_attempt %v: want a first dispatch time and an unanswered last attempt",
			mid.GetFirstAttempt(), mid.GetLastAttempt())
	}
	close(release)
	e.waitEvent(t, task.GetName(), succeeded)
	e.wantGone(t, task.GetName())

	want := []struct {
		retries, executions, previous string
		minGap                        time.Duration
	}{
		{"0", "0", "", 0},
		{"1", "0", "500", 100 * time.Millisecond},
		{"2", "1", "404", 200 * time.Millisecond}, // a 404 was executed; a 500 was not
	}
	for i, w := range want {
		h := got[i].header
		if r, x, p := h.Get("X-CloudTasks-TaskRetryCount"), h.Get("X-CloudTasks-TaskExecutionCount"), h.Get("X-CloudTasks-TaskPreviousResponse"); r != w.retries || x != w.executions || p != w.previous {
			t.Errorf("attempt %d: retry, execution count, previous response: got %q, %q, %q, want %q, %q, %q",
				i+1, r, x, p, w.retries, w.executions, w.previous)
		}
		if i > 0 {
			// A schedule time is truncated to the microsecond.
			if gap := got[i].at.Sub(got[i-1].at); gap < w.minGap-time.Millisecond {
				t.Errorf("attempt %d came %v after the previous one, want at least %v", i+1, gap, w.minGap)
			}
		}
	}
}

func TestMaxAttemptsExhausted(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	queue := e.createQueue(t, "doomed", fastRetry(3, 50*time.Millisecond, 100*time.Millisecond))
	task := e.createTask(t, queue, "never-ok", rc.url, time.Time{}, "{}")

	for range 3 {
		rc.next(t)
	}
	e.waitEvent(t, task.GetName(), gaveUp)
	e.wantGone(t, task.GetName())
	rc.none(t)
	_, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: httpTask(queue, "never-ok", rc.url, time.Time{}, "{}")})
	wantCode(t, err, codes.AlreadyExists)
}

func TestFailedAttemptStatus(t *testing.T) {
	// A port nothing listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closedURL := "http://" + lis.Addr().String() + "/tasks/deliver"
	lis.Close()

	tests := []struct {
		name          string
		respond       func(int, *http.Request) int
		closed        bool
		wantCode      codes.Code
		wantResponses int32
	}{
		{"HTTP 404", statuses(http.StatusNotFound), false, codes.NotFound, 1},
		{"HTTP 429", statuses(http.StatusTooManyRequests), false, codes.ResourceExhausted, 1},
		{"HTTP 503", statuses(http.StatusServiceUnavailable), false, codes.Unavailable, 1},
		{"timeout", func(_ int, r *http.Request) int { <-r.Context().Done(); return http.StatusOK }, false, codes.DeadlineExceeded, 0},
		{"connection refused", nil, true, codes.Unavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The client's timeout stands in for a dispatch_deadline, whose
			// real minimum is 15 s.
			e := newEnv(t, emulator.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))
			url := closedURL
			if !tt.closed {
				url = newReceiver(t, tt.respond).url
			}
			// The retry an hour later leaves time to look at the attempt.
			queue := e.createQueue(t, "failing", fastRetry(5, time.Hour, time.Hour))
			before := time.Now()
			task := e.createTask(t, queue, "t", url, time.Time{}, "{}")
			e.waitEvent(t, task.GetName(), retrying)

			got := e.getTask(t, task.GetName())
			if c := codes.Code(got.GetLastAttempt().GetResponseStatus().GetCode()); c != tt.wantCode {
				t.Errorf("last_attempt.response_status: got %v (%s), want %v", c, got.GetLastAttempt().GetResponseStatus().GetMessage(), tt.wantCode)
			}
			if got.GetDispatchCount() != 1 || got.GetResponseCount() != tt.wantResponses {
				t.Errorf("dispatch_count, response_count: got %d, %d, want 1, %d", got.GetDispatchCount(), got.GetResponseCount(), tt.wantResponses)
			}
			if next := got.GetScheduleTime().AsTime(); next.Before(before.Add(time.Hour)) {
				t.Errorf("schedule_time: got %v, want an hour after the attempt", next)
			}
		})
	}
}

func TestDeleteBeforeSchedule(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, nil)
	queue := e.createQueue(t, "deletes", nil)
	now := time.Now()
	doomed := e.createTask(t, queue, "doomed", rc.url, now.Add(200*time.Millisecond), "doomed")
	if err := e.c.DeleteTask(t.Context(), &cloudtaskspb.DeleteTaskRequest{Name: doomed.GetName()}); err != nil {
		t.Fatalf("DeleteTask: %v", err)
	}
	// A later task shows the deleted one's time has passed.
	e.createTask(t, queue, "sentinel", rc.url, now.Add(300*time.Millisecond), "sentinel")
	if got := rc.next(t).body; got != "sentinel" {
		t.Errorf("first request: got body %q, want the sentinel's", got)
	}
	rc.none(t)
	_, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: httpTask(queue, "doomed", rc.url, time.Time{}, "")})
	wantCode(t, err, codes.AlreadyExists)
}

func TestRunTask(t *testing.T) {
	tests := []struct {
		name  string
		pause bool
	}{
		{"running queue", false},
		{"paused queue", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rc := newReceiver(t, nil)
			queue := e.createQueue(t, "run", nil)
			if tt.pause {
				if _, err := e.c.PauseQueue(t.Context(), &cloudtaskspb.PauseQueueRequest{Name: queue}); err != nil {
					t.Fatalf("PauseQueue: %v", err)
				}
			}
			task := e.createTask(t, queue, "later", rc.url, time.Now().Add(time.Hour), "now")

			ran, err := e.c.RunTask(t.Context(), &cloudtaskspb.RunTaskRequest{Name: task.GetName()})
			if err != nil {
				t.Fatalf("RunTask: %v", err)
			}
			if ran.GetDispatchCount() != 1 || ran.GetLastAttempt().GetDispatchTime() == nil {
				t.Errorf("RunTask returned dispatch_count %d, last_attempt %v: want the dispatched attempt", ran.GetDispatchCount(), ran.GetLastAttempt())
			}
			if got := rc.next(t).body; got != "now" {
				t.Errorf("body: got %q, want %q", got, "now")
			}
			e.waitEvent(t, task.GetName(), succeeded)
			_, err = e.c.RunTask(t.Context(), &cloudtaskspb.RunTaskRequest{Name: task.GetName()})
			wantCode(t, err, codes.NotFound)
		})
	}
}

func TestPausedQueue(t *testing.T) {
	tests := []struct {
		name       string
		pauseFirst bool // pause before the task is created, or while its timer runs
	}{
		{"task added to a paused queue", true},
		{"queue paused before the task is due", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rc := newReceiver(t, nil)
			paused := e.createQueue(t, "paused", nil)
			running := e.createQueue(t, "running", nil)
			pause := func() {
				if _, err := e.c.PauseQueue(t.Context(), &cloudtaskspb.PauseQueueRequest{Name: paused}); err != nil {
					t.Fatalf("PauseQueue: %v", err)
				}
			}
			if tt.pauseFirst {
				pause()
			}
			now := time.Now()
			held := e.createTask(t, paused, "held", rc.url, now.Add(100*time.Millisecond), "held")
			if !tt.pauseFirst {
				pause()
			}
			e.createTask(t, running, "sentinel", rc.url, now.Add(300*time.Millisecond), "sentinel")

			if got := rc.next(t).body; got != "sentinel" {
				t.Errorf("first request: got body %q, want the sentinel's", got)
			}
			rc.none(t)
			if got := e.getTask(t, held.GetName()).GetDispatchCount(); got != 0 {
				t.Errorf("dispatch_count in a paused queue: got %d, want 0", got)
			}

			q, err := e.c.ResumeQueue(t.Context(), &cloudtaskspb.ResumeQueueRequest{Name: paused})
			if err != nil {
				t.Fatalf("ResumeQueue: %v", err)
			}
			if q.GetState() != cloudtaskspb.Queue_RUNNING {
				t.Errorf("state after resume: got %v, want RUNNING", q.GetState())
			}
			// Overdue now, it goes out at once.
			if got := rc.next(t).body; got != "held" {
				t.Errorf("after resume: got body %q, want %q", got, "held")
			}
		})
	}
}

func TestMaxConcurrentDispatches(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n == 1 {
			select {
			case <-release:
			case <-t.Context().Done(): // the test failed early
			}
		}
		return http.StatusOK
	})
	q, err := e.c.CreateQueue(t.Context(), &cloudtaskspb.CreateQueueRequest{
		Parent: e.location,
		Queue: &cloudtaskspb.Queue{
			Name:       e.location + "/queues/one-at-a-time",
			RateLimits: &cloudtaskspb.RateLimits{MaxConcurrentDispatches: 1},
		},
	})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	other := e.createQueue(t, "other", nil)

	e.createTask(t, q.GetName(), "first", rc.url, time.Time{}, "first")
	if got := rc.next(t).body; got != "first" {
		t.Fatalf("got body %q, want %q", got, "first")
	}
	e.createTask(t, q.GetName(), "second", rc.url, time.Time{}, "second")
	e.createTask(t, other, "sentinel", rc.url, time.Now().Add(100*time.Millisecond), "sentinel")
	if got := rc.next(t).body; got != "sentinel" {
		t.Errorf("while the first is in flight: got body %q, want the sentinel's", got)
	}
	close(release)
	if got := rc.next(t).body; got != "second" {
		t.Errorf("after the first answered: got body %q, want %q", got, "second")
	}
}

func TestScheduleTimeInThePast(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, nil)
	queue := e.createQueue(t, "past", nil)
	before := time.Now()
	task := e.createTask(t, queue, "late", rc.url, before.Add(-time.Hour), "late")
	if got := task.GetScheduleTime().AsTime(); got.Before(before.Truncate(time.Microsecond)) {
		t.Errorf("schedule_time: got %v, want now (at least %v)", got, before)
	}
	rc.next(t)
}
