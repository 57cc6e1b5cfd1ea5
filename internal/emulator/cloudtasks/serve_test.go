package cloudtasks_test

import (
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"

	emulator "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/testenv"
)

func TestCloseCancelsDispatches(t *testing.T) {
	em, err := emulator.Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	defer em.Close()
	c := newClient(t, em.Addr())
	// The target holds the attempt until its request is cancelled; the
	// default dispatch deadline would keep it for 10 minutes.
	cancelled := make(chan struct{})
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-t.Context().Done():
		}
		return http.StatusOK
	})
	location := "projects/" + testenv.ProjectID(t) + "/locations/local"
	q, err := c.CreateQueue(t.Context(), &cloudtaskspb.CreateQueueRequest{Parent: location, Queue: &cloudtaskspb.Queue{Name: location + "/queues/q"}})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	for _, at := range []time.Time{{}, time.Now().Add(time.Hour)} { // one in flight, one waiting
		if _, err := c.CreateTask(t.Context(), &cloudtaskspb.CreateTaskRequest{Parent: q.GetName(), Task: httpTask(q.GetName(), "", rc.url, at, "{}")}); err != nil {
			t.Fatalf("CreateTask: %v", err)
		}
	}
	rc.next(t)
	c.Close()

	if err := em.Close(); err != nil {
		t.Errorf("Close: got %v, want nil", err)
	}
	select {
	case <-cancelled:
	case <-time.After(waitFor):
		t.Errorf("the attempt in flight was not cancelled by Close")
	}
}
