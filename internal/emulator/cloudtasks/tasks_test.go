package cloudtasks_test

import (
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// later is a schedule time no test waits for.
var later = time.Now().Add(time.Hour)

func TestCreateTaskErrors(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	other := e.createQueue(t, "other", nil)
	const url = "http://127.0.0.1:1/tasks/deliver"
	e.createTask(t, queue, "taken", url, later, "")

	with := func(id string, edit func(*cloudtaskspb.Task)) *cloudtaskspb.Task {
		task := httpTask(queue, id, url, later, "{}")
		edit(task)
		return task
	}
	tests := []struct {
		name   string
		parent string
		task   *cloudtaskspb.Task
		want   codes.Code
	}{
		{"ok", queue, httpTask(queue, "fresh_ID-1", url, later, "{}"), codes.OK},
		{"unnamed", queue, httpTask(queue, "", url, later, "{}"), codes.OK},
		{"duplicate", queue, httpTask(queue, "taken", url, later, "{}"), codes.AlreadyExists},
		{"same ID in another queue", other, httpTask(other, "taken", url, later, "{}"), codes.OK},
		{"ID of 500", queue, httpTask(queue, strings.Repeat("a", 500), url, later, ""), codes.OK},
		{"ID of 501", queue, httpTask(queue, strings.Repeat("a", 501), url, later, ""), codes.InvalidArgument},
		{"ID with a dot", queue, httpTask(queue, "no.dots", url, later, ""), codes.InvalidArgument},
		{"ID with a slash", queue, httpTask(queue, "a/b", url, later, ""), codes.InvalidArgument},
		{"name in another queue", queue, httpTask(other, "elsewhere", url, later, ""), codes.InvalidArgument},
		{"missing queue", e.location + "/queues/missing", httpTask(e.location+"/queues/missing", "x", url, later, ""), codes.NotFound},
		{"bad parent", "projects/p/queues/q", httpTask(queue, "x", url, later, ""), codes.InvalidArgument},
		{"no target", queue, &cloudtaskspb.Task{}, codes.InvalidArgument},
		{"App Engine target", queue, &cloudtaskspb.Task{MessageType: &cloudtaskspb.Task_AppEngineHttpRequest{
			AppEngineHttpRequest: &cloudtaskspb.AppEngineHttpRequest{RelativeUri: "/x"},
		}}, codes.Unimplemented},
		{"relative URL", queue, httpTask(queue, "x", "/tasks/deliver", later, ""), codes.InvalidArgument},
		{"ftp URL", queue, httpTask(queue, "x", "ftp://host/x", later, ""), codes.InvalidArgument},
		{"body with GET", queue, with("x", func(t *cloudtaskspb.Task) { t.GetHttpRequest().HttpMethod = cloudtaskspb.HttpMethod_GET }), codes.InvalidArgument},
		{"GET without body", queue, with("get", func(t *cloudtaskspb.Task) {
			t.GetHttpRequest().HttpMethod, t.GetHttpRequest().Body = cloudtaskspb.HttpMethod_GET, nil
		}), codes.OK},
		{"oidc without service account", queue, with("x", func(t *cloudtaskspb.Task) {
			t.GetHttpRequest().AuthorizationHeader = &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{}}
		}), codes.InvalidArgument},
		{"deadline under 15s", queue, with("x", func(t *cloudtaskspb.Task) { t.DispatchDeadline = durationpb.New(time.Second) }), codes.InvalidArgument},
		{"deadline over 30m", queue, with("x", func(t *cloudtaskspb.Task) { t.DispatchDeadline = durationpb.New(31 * time.Minute) }), codes.InvalidArgument},
		{"deadline of 30s", queue, with("deadline", func(t *cloudtaskspb.Task) { t.DispatchDeadline = durationpb.New(30 * time.Second) }), codes.OK},
		{"31 days ahead", queue, httpTask(queue, "x", url, time.Now().Add(31*24*time.Hour), ""), codes.InvalidArgument},
		{"body of 99 KiB", queue, httpTask(queue, "big", url, later, strings.Repeat("x", 99*1024)), codes.OK},
		{"body of 100 KiB", queue, httpTask(queue, "x", url, later, strings.Repeat("x", 100*1024)), codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: tt.parent, Task: tt.task})
			wantCode(t, err, tt.want)
		})
	}
}

func TestCreateTaskOutput(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	before := time.Now()
	task := e.createTask(t, queue, "", "http://127.0.0.1:1/x", later, "{}")

	id := strings.TrimPrefix(task.GetName(), queue+"/tasks/")
	if id == task.GetName() || id == "" || strings.Trim(id, "0123456789") != "" {
		t.Errorf("generated name: got %q, want %s/tasks/{digits}", task.GetName(), queue)
	}
	if got := task.GetHttpRequest().GetHttpMethod(); got != cloudtaskspb.HttpMethod_POST {
		t.Errorf("http_method: got %v, want POST", got)
	}
	if got := task.GetDispatchDeadline().AsDuration(); got != 10*time.Minute {
		t.Errorf("dispatch_deadline: got %v, want 10m", got)
	}
	if got := task.GetCreateTime().AsTime(); got.After(before) || before.Sub(got) > time.Second {
		t.Errorf("create_time: got %v, want %v truncated to the second", got, before)
	}
	if got := task.GetView(); got != cloudtaskspb.Task_BASIC {
		t.Errorf("view: got %v, want BASIC", got)
	}
}

func TestTaskViews(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	name := e.createTask(t, queue, "viewed", "http://127.0.0.1:1/x", later, `{"secret":1}`).GetName()

	tests := []struct {
		view     cloudtaskspb.Task_View
		wantView cloudtaskspb.Task_View
		wantBody string
	}{
		{cloudtaskspb.Task_VIEW_UNSPECIFIED, cloudtaskspb.Task_BASIC, ""},
		{cloudtaskspb.Task_BASIC, cloudtaskspb.Task_BASIC, ""},
		{cloudtaskspb.Task_FULL, cloudtaskspb.Task_FULL, `{"secret":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.view.String(), func(t *testing.T) {
			got, err := e.c.GetTask(t.Context(), &cloudtaskspb.GetTaskRequest{Name: name, ResponseView: tt.view})
			if err != nil {
				t.Fatalf("GetTask: %v", err)
			}
			if got.GetView() != tt.wantView || string(got.GetHttpRequest().GetBody()) != tt.wantBody {
				t.Errorf("got view %v, body %q, want %v, %q", got.GetView(), got.GetHttpRequest().GetBody(), tt.wantView, tt.wantBody)
			}
			if got.GetHttpRequest().GetUrl() == "" || got.GetHttpRequest().GetHeaders()["Content-Type"] == "" {
				t.Errorf("got url %q, headers %v: want both in every view", got.GetHttpRequest().GetUrl(), got.GetHttpRequest().GetHeaders())
			}
		})
	}
}

func TestListTasksPaging(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	for _, id := range []string{"t5", "t1", "t3", "t2", "t4"} {
		e.createTask(t, queue, id, "http://127.0.0.1:1/x", later, "body")
	}

	var pages []string
	it := e.c.ListTasks(t.Context(), &cloudtaskspb.ListTasksRequest{Parent: queue, ResponseView: cloudtaskspb.Task_FULL})
	pager := iterator.NewPager(it, 2, "")
	for {
		var page []*cloudtaskspb.Task
		token, err := pager.NextPage(&page)
		if err != nil {
			t.Fatalf("ListTasks: %v", err)
		}
		var ids []string
		for _, task := range page {
			ids = append(ids, strings.TrimPrefix(task.GetName(), queue+"/tasks/"))
			if string(task.GetHttpRequest().GetBody()) != "body" {
				t.Errorf("%s: FULL view without its body", task.GetName())
			}
		}
		pages = append(pages, strings.Join(ids, " "))
		if token == "" {
			break
		}
	}
	if got, want := strings.Join(pages, " | "), "t1 t2 | t3 t4 | t5"; got != want {
		t.Errorf("pages: got %q, want %q", got, want)
	}

	_, err := e.c.ListTasks(t.Context(), &cloudtaskspb.ListTasksRequest{Parent: queue, PageToken: "bogus"}).Next()
	wantCode(t, err, codes.InvalidArgument)
	_, err = e.c.ListTasks(t.Context(), &cloudtaskspb.ListTasksRequest{Parent: e.location + "/queues/missing"}).Next()
	wantCode(t, err, codes.NotFound)
}

func TestTaskNotFound(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	missing := queue + "/tasks/missing"
	inMissingQueue := e.location + "/queues/gone/tasks/t"

	tests := []struct {
		name string
		call func(name string) error
	}{
		{"get", func(n string) error {
			_, err := e.c.GetTask(t.Context(), &cloudtaskspb.GetTaskRequest{Name: n})
			return err
		}},
		{"delete", func(n string) error { return e.c.DeleteTask(t.Context(), &cloudtaskspb.DeleteTaskRequest{Name: n}) }},
		{"run", func(n string) error {
			_, err := e.c.RunTask(t.Context(), &cloudtaskspb.RunTaskRequest{Name: n})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.call(missing), codes.NotFound)
			wantCode(t, tt.call(inMissingQueue), codes.NotFound)
			wantCode(t, tt.call(queue+"/tasks/bad.id"), codes.InvalidArgument)
		})
	}
}

func TestTaskNamesStayTaken(t *testing.T) {
	e := newEnv(t)
	queue := e.createQueue(t, "q", nil)
	const url = "http://127.0.0.1:1/x"
	create := func(id string) error {
		_, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: httpTask(queue, id, url, later, "")})
		return err
	}
	deleted := e.createTask(t, queue, "deleted", url, later, "").GetName()
	if err := e.c.DeleteTask(t.Context(), &cloudtaskspb.DeleteTaskRequest{Name: deleted}); err != nil {
		t.Fatalf("DeleteTask: %v", err)
	}
	e.createTask(t, queue, "purged", url, later, "")
	if _, err := e.c.PurgeQueue(t.Context(), &cloudtaskspb.PurgeQueueRequest{Name: queue}); err != nil {
		t.Fatalf("PurgeQueue: %v", err)
	}
	e.createTask(t, queue, "pending", url, later, "")

	for _, id := range []string{"deleted", "purged", "pending"} {
		t.Run(id, func(t *testing.T) { wantCode(t, create(id), codes.AlreadyExists) })
	}
	err := e.c.DeleteTask(t.Context(), &cloudtaskspb.DeleteTaskRequest{Name: deleted})
	wantCode(t, err, codes.NotFound)
}
