package cloudtasks_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"

	emulator "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	"github.com/hookrun/hookrun/internal/testenv"
)

func TestServeStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, em *emulator.Emulator) error
	}{
		{"on Close", func(_ context.CancelFunc, em *emulator.Emulator) error { return em.Close() }},
		{"on Close twice", func(_ context.CancelFunc, em *emulator.Emulator) error {
			if err := em.Close(); err != nil {
				return err
			}
			return em.Close()
		}},
		{"when the context ends", func(cancel context.CancelFunc, em *emulator.Emulator) error {
			cancel()
			return em.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			em, err := emulator.Serve(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if err := tt.stop(cancel, em); err != nil {
				t.Errorf("stop: got %v, want nil", err)
			}
			// Stopped means the port no longer accepts connections.
			if conn, err := net.Dial("tcp", em.Addr()); err == nil {
				conn.Close()
				t.Errorf("dial %s after stop: got a connection, want refused", em.Addr())
			}
		})
	}
}

func TestServeAddressInUse(t *testing.T) {
	em, err := emulator.Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	defer em.Close()
	if second, err := emulator.Serve(t.Context(), em.Addr()); err == nil {
		second.Close()
		t.Errorf("Serve on a busy %s: got nil error, want one", em.Addr())
	}
}

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
