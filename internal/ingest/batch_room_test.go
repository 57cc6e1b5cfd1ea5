package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A batch that finds no room in time is refused as UNAVAILABLE, to retry
// after a second; room given back serves the next.
func TestBatchRoom(t *testing.T) {
	room := batchRoom{slots: make(chan struct{}, 2), wait: 10 * time.Millisecond}
	ctx := context.Background()
	first, err := room.take(ctx)
	if err != nil {
		t.Fatalf("first batch: %v", err)
	}
	if _, err := room.take(ctx); err != nil {
		t.Fatalf("second batch: %v", err)
	}
	_, err = room.take(ctx)
	var e *hookrun.Error
	if !errors.As(err, &e) || e.Code != hookrun.CodeUnavailable || e.RetryAfter != time.Second {
		t.Fatalf("third batch: %v, want UNAVAILABLE with a RetryAfter of 1s", err)
	}
	first()
	if _, err := room.take(ctx); err != nil {
		t.Errorf("batch after room was given back: %v", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := room.take(gone); !errors.Is(err, context.Canceled) {
		t.Errorf("batch of a client gone: %v, want its context's error", err)
	}
}
