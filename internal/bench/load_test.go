package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A gated producer's event is sent when it gets its token, not when it
// began waiting for one: end-to-end latency must not include the previous
// event's trip.
func TestGatedLoadTimesTheSendNotTheWait(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":"evt_%d"}`, n.Add(1))
	}))
	defer srv.Close()

	gate := make(chan struct{}, 1)
	const hold = 300 * time.Millisecond
	var released atomic.Value
	go func() {
		time.Sleep(hold)
		released.Store(time.Now())
		gate <- struct{}{}
	}()
	l := load{URL: srv.URL, Producers: 1, Gate: gate}
	res, err := l.run(context.Background(), hold+500*time.Millisecond)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	at, ok := res.sent["evt_1"]
	if !ok || len(res.sent) != 1 {
		t.Fatalf("sent = %v, want one event, evt_1", res.sent)
	}
	rel := released.Load().(time.Time)
	if at.Before(rel) {
		t.Errorf("evt_1 sent at %v, %v before its token was given: the wait counted as the trip", at.Format(time.StampMicro), rel.Sub(at))
	}
	if d := res.accepted["evt_1"].Sub(at); d < 0 || d > hold {
		t.Errorf("send → accepted = %v, want the request's own round trip", d)
	}
}
