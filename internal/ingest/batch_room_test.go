package ingest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Batches take room by their declared length, at most a batch's limit,
// or that limit when their length is unknown; one that finds no room in
// time is refused as UNAVAILABLE, and room given back serves the next.
func TestBatchRoom(t *testing.T) {
	room := batchRoom{bytes: semaphore.NewWeighted(2*maxBatchBytes + 100), wait: 10 * time.Millisecond}
	request := func(length int64) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/events:batch", nil)
		r.ContentLength = length
		return r
	}
	declaredOver, err := room.take(request(maxBatchBytes * 3)) // takes maxBatchBytes
	if err != nil {
		t.Fatalf("first batch: %v", err)
	}
	if _, err := room.take(request(-1)); err != nil { // unknown: maxBatchBytes
		t.Fatalf("batch of unknown length: %v", err)
	}
	small, err := room.take(request(100))
	if err != nil {
		t.Fatalf("small batch in the room left: %v", err)
	}
	_, err = room.take(request(1))
	var e *hookrun.Error
	if hookrun.ErrorCode(err) != hookrun.CodeUnavailable || !errors.As(err, &e) || e.RetryAfter != time.Second {
		t.Fatalf("batch without room: %v, want UNAVAILABLE with a RetryAfter of 1s", err)
	}
	small()
	if _, err := room.take(request(100)); err != nil {
		t.Errorf("batch after room was given back: %v", err)
	}
	declaredOver()
	if _, err := room.take(request(maxBatchBytes)); err != nil {
		t.Errorf("full batch after room was given back: %v", err)
	}
}
