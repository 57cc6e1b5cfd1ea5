package cloudtasks_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ct "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hookrun/hookrun/internal/cloudtasks"
	emulator "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/testenv"
)

// waitFor bounds every wait for a delivery.
const waitFor = 10 * time.Second

// delivery is one request the target got.
type delivery struct {
	at     time.Time
	method string
	path   string
	header http.Header
	body   string
}

// target stands in for the dispatcher's POST /tasks/deliver.
type target struct {
	url string
	got chan delivery
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{got: make(chan delivery, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		tg.got <- delivery{at: at, method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: string(body)}
	}))
	t.Cleanup(srv.Close)
	tg.url = srv.URL + "/tasks/deliver"
	return tg
}

func (tg *target) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-tg.got:
		return d
	case <-time.After(waitFor):
		t.Fatalf("no delivery within %v", waitFor)
		return delivery{}
	}
}

// none fails the test if the target got a delivery not taken yet.
func (tg *target) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-tg.got:
		t.Errorf("unexpected delivery of %s", d.header.Get("X-CloudTasks-TaskName"))
	default:
	}
}

// newScheduler runs the adapter against an in-process emulator on a free
// loopback port, in a project no other test uses, with its queue created.
// edit, if not nil, changes the config first.
func newScheduler(t *testing.T, targetURL string, edit func(*cloudtasks.Config)) (*cloudtasks.Scheduler, cloudtasks.Config) {
	t.Helper()
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	cfg := cloudtasks.Config{
		ProjectID: testenv.ProjectID(t),
		Location:  "local",
		Queue:     "deliveries",
		TargetURL: targetURL,
		Endpoint:  em.Addr(),
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := cloudtasks.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Runs before the emulator's cleanup: the client hangs up first.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := s.EnsureQueue(t.Context(), cloudtasks.QueueRetry{}); err != nil {
		t.Fatalf("EnsureQueue: %v", err)
	}
	return s, cfg
}

func TestSchedule(t *testing.T) {
	tg := newTarget(t)
	s, _ := newScheduler(t, tg.url, nil)
	id := cloudtasks.TaskID("tenant-1", "evt_1", "ep_1", "2")
	at := time.Now().Add(200 * time.Millisecond)
	if err := s.Schedule(t.Context(), id, at, []byte(`{"delivery":"d1"}`)); err != nil {
		t.Fatalf("Schedule: %v", err)
	}

	d := tg.next(t)
	// Cloud Tasks keeps schedule times to the microsecond.
	if earliest := at.Truncate(time.Microsecond); d.at.Before(earliest) {
		t.Errorf("delivered at %v, before %v", d.at, earliest)
	}
	if late := d.at.Sub(at); late > 2*time.Second {
		t.Errorf("delivered %v after the scheduled time", late)
	}
	for _, f := range []struct{ name, got, want string }{
		{"method", d.method, http.MethodPost},
		{"path", d.path, "/tasks/deliver"},
		{"body", d.body, `{"delivery":"d1"}`},
		{"Content-Type", d.header.Get("Content-Type"), "application/json"},
		{"X-CloudTasks-TaskName", d.header.Get("X-CloudTasks-TaskName"), id},
		{"X-CloudTasks-QueueName", d.header.Get("X-CloudTasks-QueueName"), "deliveries"},
		{"Authorization", d.header.Get("Authorization"), ""},
	} {
		if f.got != f.want {
			t.Errorf("%s: got %q, want %q", f.name, f.got, f.want)
		}
	}
}

func TestScheduleIsIdempotent(t *testing.T) {
	tg := newTarget(t)
	s, _ := newScheduler(t, tg.url, nil)
	ctx := t.Context()
	id := cloudtasks.TaskID("tenant-1", "evt_1", "ep_1", "2")
	at := time.Now().Add(100 * time.Millisecond)

	for i := range 2 {
		if err := s.Schedule(ctx, id, at, []byte(`{"try":1}`)); err != nil {
			t.Fatalf("Schedule #%d: %v", i+1, err)
		}
	}
	// A task scheduled later shows whether a second copy went out.
	if err := s.Schedule(ctx, "sentinel-1", at.Add(200*time.Millisecond), []byte(`{}`)); err != nil {
		t.Fatalf("Schedule sentinel: %v", err)
	}
	if got := tg.next(t).header.Get("X-CloudTasks-TaskName"); got != id {
		t.Errorf("first delivery: got task %s, want %s", got, id)
	}
	if got := tg.next(t).header.Get("X-CloudTasks-TaskName"); got != "sentinel-1" {
		t.Errorf("second delivery: got task %s, want the sentinel", got)
	}
	tg.none(t)

	// Once delivered, the name stays taken: scheduling it again is a no-op.
	if err := s.Schedule(ctx, id, time.Time{}, []byte(`{"try":2}`)); err != nil {
		t.Fatalf("Schedule after delivery: %v", err)
	}
	if err := s.Schedule(ctx, "sentinel-2", time.Now().Add(100*time.Millisecond), []byte(`{}`)); err != nil {
		t.Fatalf("Schedule sentinel: %v", err)
	}
	if got := tg.next(t).header.Get("X-CloudTasks-TaskName"); got != "sentinel-2" {
		t.Errorf("after re-scheduling a delivered task: got task %s, want only the sentinel", got)
	}
	tg.none(t)
}

func TestScheduleErrors(t *testing.T) {
	const marker = "SECRET-PAYLOAD"
	s, _ := newScheduler(t, "http://127.0.0.1:1/tasks/deliver", nil)
	fits := []byte(strings.Repeat("x", cloudtasks.MaxBodyBytes))
	tooLarge := []byte(strings.Repeat(marker, cloudtasks.MaxBodyBytes/len(marker)+1))

	tests := []struct {
		name        string
		id          string
		body        []byte
		wantErr     bool
		wantTooLong bool
	}{
		{"largest body", "largest", fits, false, false},
		{"body one byte over", "over", append(fits, 'x'), true, true},
		{"body far over", "far-over", tooLarge, true, true},
		{"empty task ID", "", []byte(marker), true, false},
		{"task ID with a slash", "a/b", []byte(marker), true, false},
		{"task ID of 501", strings.Repeat("a", 501), []byte(marker), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Schedule(t.Context(), tt.id, time.Now().Add(time.Hour), tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got %v, want error: %v", err, tt.wantErr)
			}
			if got := errors.Is(err, cloudtasks.ErrTooLarge); got != tt.wantTooLong {
				t.Errorf("errors.Is(%v, ErrTooLarge): got %v, want %v", err, got, tt.wantTooLong)
			}
			if err != nil && strings.Contains(err.Error(), marker) {
				t.Errorf("error %q contains the body", err)
			}
		})
	}
}

func TestScheduleWithoutQueue(t *testing.T) {
	_, cfg := newScheduler(t, "http://127.0.0.1:1/tasks/deliver", nil)
	cfg.Queue = "missing"
	missing, err := cloudtasks.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer missing.Close()
	if err := missing.Schedule(t.Context(), "t", time.Time{}, []byte("SECRET")); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("got %v, want an error that names the queue and not the body", err)
	}
}

func TestScheduleOIDC(t *testing.T) {
	tests := []struct {
		name string
		edit func(*cloudtasks.Config)
		want string
	}{
		{"off", nil, ""},
		{"on", func(c *cloudtasks.Config) { c.OIDCServiceAccount = "tasks@p.iam.gserviceaccount.com" }, "Bearer " + emulator.FakeOIDCToken},
		{"with audience", func(c *cloudtasks.Config) {
			c.OIDCServiceAccount, c.OIDCAudience = "tasks@p.iam.gserviceaccount.com", "https://dispatcher.example"
		}, "Bearer " + emulator.FakeOIDCToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			s, _ := newScheduler(t, tg.url, tt.edit)
			if err := s.Schedule(t.Context(), "oidc", time.Time{}, []byte(`{}`)); err != nil {
				t.Fatalf("Schedule: %v", err)
			}
			if got := tg.next(t).header.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnsureQueue(t *testing.T) {
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	defer em.Close()
	cfg := cloudtasks.Config{ProjectID: testenv.ProjectID(t), Location: "local", Queue: "deliveries", TargetURL: "http://127.0.0.1:1/x", Endpoint: em.Addr()}
	s, err := cloudtasks.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()

	retry := cloudtasks.QueueRetry{MaxAttempts: 5, MinBackoff: time.Second, MaxBackoff: time.Minute}
	if err := s.EnsureQueue(t.Context(), retry); err != nil {
		t.Fatalf("EnsureQueue: %v", err)
	}
	// A second call, with another config, leaves the queue as it is.
	if err := s.EnsureQueue(t.Context(), cloudtasks.QueueRetry{MaxAttempts: 9}); err != nil {
		t.Fatalf("EnsureQueue again: %v", err)
	}
	if err := s.EnsureQueue(t.Context(), cloudtasks.QueueRetry{MinBackoff: time.Minute, MaxBackoff: time.Second}); err == nil {
		t.Errorf("EnsureQueue with MinBackoff over MaxBackoff: got nil, want an error")
	}

	c, err := ct.NewClient(t.Context(), option.WithEndpoint(em.Addr()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer c.Close()
	q, err := c.GetQueue(t.Context(), &cloudtaskspb.GetQueueRequest{Name: "projects/" + cfg.ProjectID + "/locations/local/queues/deliveries"})
	if err != nil {
		t.Fatalf("GetQueue: %v", err)
	}
	rc := q.GetRetryConfig()
	if rc.GetMaxAttempts() != 5 || rc.GetMinBackoff().AsDuration() != time.Second || rc.GetMaxBackoff().AsDuration() != time.Minute {
		t.Errorf("retry config: got %v, want 5 attempts, 1s to 1m", rc)
	}
}
