package receivertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/cloudtasks"
	ctemu "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// The Cloud Tasks hand-off through hookrun's in-process Cloud Tasks
// emulator, which dispatches real HTTP tasks: two receiver instances take
// the same webhook-id, one task reaches POST /process.
func TestCloudTasksHandoffEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	em, err := ctemu.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start Cloud Tasks emulator: %v", err)
	}
	t.Cleanup(func() { em.Close() })

	secret := signature.NewSecret()
	// The consumer counts pushes at the HTTP level, below its own dedupe.
	handled := make(chan receiver.Webhook, 10)
	consumer, err := receiver.New(receiver.Config{Secret: secret, ProcessAuth: receiver.ProcessNone},
		receiver.Deps{Handle: func(_ context.Context, wh receiver.Webhook) error { handled <- wh; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		pushes = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushes[r.Header.Get("X-CloudTasks-TaskName")]++
		mu.Unlock()
		consumer.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	project := testenv.ProjectID(t)
	cfg := receiver.Config{
		Secret:             secret,
		HandoffTasksQueue:  "projects/" + project + "/locations/local/queues/receiver",
		HandoffTasksURL:    srv.URL + receiver.ProcessPath,
		CloudTasksEndpoint: em.Addr(),
	}
	admin, err := cloudtasks.New(ctx, cloudtasks.Config{ProjectID: project, Location: "local", Queue: "receiver", TargetURL: cfg.HandoffTasksURL, Endpoint: em.Addr()})
	if err != nil {
		t.Fatalf("cloudtasks.New: %v", err)
	}
	defer admin.Close()
	if err := admin.EnsureQueue(ctx, cloudtasks.QueueRetry{}); err != nil {
		t.Fatalf("EnsureQueue: %v", err)
	}
	var instances []*receiver.Receiver
	for range 2 {
		rc, err := receiver.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { rc.Close() })
		instances = append(instances, rc)
	}

	for _, d := range []struct {
		rc *receiver.Receiver
		id string
	}{{instances[0], "msg_1"}, {instances[1], "msg_1"}, {instances[1], "msg_2"}} {
		if w := post(t, d.rc, secret, d.id, testBody); w.Code != http.StatusAccepted {
			t.Fatalf("%s: status = %d, want 202 (body %s)", d.id, w.Code, w.Body)
		}
	}
	got := map[string]string{}
	for len(got) < 2 {
		select {
		case wh := <-handled:
			got[wh.ID] = string(wh.Body)
		case <-ctx.Done():
			t.Fatalf("handled %v before the deadline, want msg_1 and msg_2", got)
		}
	}
	if got["msg_1"] != testBody || got["msg_2"] != testBody {
		t.Errorf("handled bodies %v, want the raw body for both", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pushes) != 2 {
		t.Errorf("tasks pushed: %v, want one per webhook-id", pushes)
	}
}
