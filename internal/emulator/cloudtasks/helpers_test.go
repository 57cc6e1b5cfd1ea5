package cloudtasks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	ctclient "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	emulator "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/testenv"
)

// waitFor bounds every wait on something the emulator does; generous, as
// the tests run with -race on small machines.
const waitFor = 10 * time.Second

// env is one emulator, the official client connected to it, a location no
// other test uses, and the emulator's log of dispatch outcomes.
type env struct {
	c        *ctclient.Client
	location string // projects/{fresh}/locations/local
	events   *events
}

// newEnv starts an emulator on a free loopback port and connects the
// official client exactly as production code connects it to an emulator.
func newEnv(t *testing.T, opts ...emulator.Option) *env {
	t.Helper()
	ev := newEvents()
	opts = append([]emulator.Option{emulator.WithLogger(slog.New(ev))}, opts...)
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Errorf("Close emulator: %v", err)
		}
	})
	// Registered after the emulator's cleanup, so it runs first: the client
	// hangs up before the emulator stops.
	c := newClient(t, em.Addr())
	return &env{c: c, location: "projects/" + testenv.ProjectID(t) + "/locations/local", events: ev}
}

// newClient returns the official client connected to the emulator at addr
// exactly as production code connects it to an emulator, closed when the
// test ends.
func newClient(t *testing.T, addr string) *ctclient.Client {
	t.Helper()
	c, err := ctclient.NewClient(context.Background(),
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// createQueue creates queue id with retry config rc (nil: defaults).
func (e *env) createQueue(t *testing.T, id string, rc *cloudtaskspb.RetryConfig) string {
	t.Helper()
	q, err := e.c.CreateQueue(t.Context(), &cloudtaskspb.CreateQueueRequest{
		Parent: e.location,
		Queue:  &cloudtaskspb.Queue{Name: e.location + "/queues/" + id, RetryConfig: rc},
	})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", id, err)
	}
	return q.GetName()
}

// createTask creates task id (or an unnamed one if id is "") in queue,
// posting body to url at at (zero: now).
func (e *env) createTask(t *testing.T, queue, id, url string, at time.Time, body string) *cloudtaskspb.Task {
	t.Helper()
	task, err := e.c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: queue, Task: httpTask(queue, id, url, at, body)})
	if err != nil {
		t.Fatalf("CreateTask %s: %v", id, err)
	}
	return task
}

func (e *env) getTask(t *testing.T, name string) *cloudtaskspb.Task {
	t.Helper()
	task, err := e.c.GetTask(t.Context(), &cloudtaskspb.GetTaskRequest{Name: name})
	if err != nil {
		t.Fatalf("GetTask %s: %v", name, err)
	}
	return task
}

// wantGone fails the test unless task name no longer exists.
func (e *env) wantGone(t *testing.T, name string) {
	t.Helper()
	_, err := e.c.GetTask(t.Context(), &cloudtaskspb.GetTaskRequest{Name: name})
	wantCode(t, err, codes.NotFound)
}

func httpTask(queue, id, url string, at time.Time, body string) *cloudtaskspb.Task {
	task := &cloudtaskspb.Task{
		MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: &cloudtaskspb.HttpRequest{
			Url:     url,
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    []byte(body),
		}},
	}
	if id != "" {
		task.Name = queue + "/tasks/" + id
	}
	if !at.IsZero() {
		task.ScheduleTime = timestamppb.New(at)
	}
	return task
}

// fastRetry is a retry config for tests: attempts come min apart, then
// twice that, and so on up to max.
func fastRetry(attempts int32, min, max time.Duration) *cloudtaskspb.RetryConfig {
	return &cloudtaskspb.RetryConfig{
		MaxAttempts: attempts,
		MinBackoff:  durationpb.New(min),
		MaxBackoff:  durationpb.New(max),
	}
}

// delivery is one request a receiver got.
type delivery struct {
	at     time.Time
	method string
	header http.Header
	body   string
}

// receiver is a task target. respond picks the status of the n-th request
// (from 1) and may block; nil answers 200.
type receiver struct {
	url string
	got chan delivery
}

func newReceiver(t *testing.T, respond func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan delivery, 100)}
	var (
		mu sync.Mutex
		n  int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		rc.got <- delivery{at: at, method: r.Method, header: r.Header.Clone(), body: string(body)}
		code := http.StatusOK
		if respond != nil {
			code = respond(i, r)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/tasks/deliver"
	return rc
}

// statuses answers the n-th request with codes[n-1], and 200 after them.
func statuses(codes ...int) func(int, *http.Request) int {
	return func(n int, _ *http.Request) int {
		if n <= len(codes) {
			return codes[n-1]
		}
		return http.StatusOK
	}
}

// next waits for the receiver's next request.
func (rc *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-rc.got:
		return d
	case <-time.After(waitFor):
		t.Fatalf("no request within %v", waitFor)
		return delivery{}
	}
}

// none fails the test if the receiver got a request not taken yet.
func (rc *receiver) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-rc.got:
		t.Errorf("unexpected request: %s %s", d.method, d.header.Get("X-CloudTasks-TaskName"))
	default:
	}
}

// event is one dispatch outcome the emulator logged.
type event struct {
	msg  string
	task string
}

// events is a slog.Handler that hands the emulator's log records to the
// test, which can so wait for an outcome instead of sleeping. It never
// blocks: the emulator logs while holding its lock.
type events struct {
	mu      sync.Mutex
	log     []event
	seen    int           // events already consumed by waitEvent
	changed chan struct{} // closed and replaced on every new event
}

func newEvents() *events { return &events{changed: make(chan struct{})} }

func (ev *events) Enabled(context.Context, slog.Level) bool { return true }
func (ev *events) WithAttrs([]slog.Attr) slog.Handler       { return ev }
func (ev *events) WithGroup(string) slog.Handler            { return ev }
func (ev *events) Handle(_ context.Context, r slog.Record) error {
	e := event{msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "task" {
			e.task = a.Value.String()
		}
		return true
	})
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.log = append(ev.log, e)
	close(ev.changed)
	ev.changed = make(chan struct{})
	return nil
}

// Log messages of the dispatch outcomes.
const (
	succeeded = "task succeeded"
	retrying  = "task failed, retry scheduled"
	gaveUp    = "task failed for the last time and was deleted"
)

// waitEvent waits until the emulator logs msg for task, consuming the
// events up to it: a second call waits for the next such event.
func (e *env) waitEvent(t *testing.T, task, msg string) {
	t.Helper()
	timeout := time.After(waitFor)
	ev := e.events
	for {
		ev.mu.Lock()
		for ; ev.seen < len(ev.log); ev.seen++ {
			if l := ev.log[ev.seen]; l.task == task && l.msg == msg {
				ev.seen++
				ev.mu.Unlock()
				return
			}
		}
		changed := ev.changed
		ev.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("emulator did not log %q for %s within %v", msg, task, waitFor)
		}
	}
}

// wantCode fails the test unless err carries the gRPC code want.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("got code %v (err %v), want %v", got, err, want)
	}
}
