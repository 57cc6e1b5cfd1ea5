package ingest_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func TestMetricsRoutes(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	ep := e.createEndpoint(t, "acme", key, "https://a.example/h")
	// Ten events in the window, delivered to the endpoint: nine
	// succeeded, one is dead.
	received := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		ev := hookrun.Event{ID: fmt.Sprintf("evt_%d", i), TenantID: "acme", Type: "user.created", Data: []byte(`{}`), ReceivedAt: received}
		d := hookrun.Delivery{TenantID: "acme", EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type, EventAt: received, State: hookrun.DeliverySucceeded}
		if i == 0 {
			d.State = hookrun.DeliveryDead
		}
		if err := errors.Join(e.store.SaveEvent(t.Context(), ev, "m"), e.store.SetDeliveryState(t.Context(), d)); err != nil {
			t.Fatal(err)
		}
	}

	w := e.do(t, http.MethodGet, "/v1/tenants/acme/metrics?since=2026-11-20T00:00:00Z&until=2026-11-21T00:00:00Z", key, "")
	got := decode[hookrun.Metrics](t, w)
	if w.Code != http.StatusOK || got.EventsReceived != 10 || got.Succeeded != 9 || got.Dead != 1 || !got.Since.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("tenant metrics = %d %+v", w.Code, got)
	}
	w = e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/"+ep.ID+"/metrics", key, "")
	if w.Code != http.StatusOK {
		t.Fatalf("endpoint metrics = %d %s", w.Code, w.Body)
	}
	e.store.mu.Lock()
	q := e.store.metricsQueries[len(e.store.metricsQueries)-1]
	e.store.mu.Unlock()
	if q.endpointID != ep.ID || q.until.Sub(q.since) != 24*time.Hour {
		t.Errorf("endpoint query = %+v, want the endpoint and the last 24h by default", q)
	}

	t.Run("series", func(t *testing.T) {
		w := e.do(t, http.MethodGet, "/v1/tenants/acme/metrics?since=2026-11-20T00:00:00Z&until=2026-11-21T00:00:00Z&step=5h", key, "")
		got := decode[hookrun.Metrics](t, w)
		if w.Code != http.StatusOK || len(got.Series) != 5 {
			t.Fatalf("series = %d, %d buckets, want 5: %s", w.Code, len(got.Series), w.Body)
		}
		if last := got.Series[4]; !last.Since.Equal(time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)) || !last.Until.Equal(got.Until) {
			t.Errorf("last bucket [%v, %v), want [20:00, until) cut at until", last.Since, last.Until)
		}
		// The events came at 12:00: the third bucket, [10:00, 15:00).
		for i, b := range got.Series {
			if want := map[bool]int64{true: 10}[i == 2]; b.EventsReceived != want || b.Series != nil {
				t.Errorf("bucket %d: %d events (series %v), want %d and no series", i, b.EventsReceived, b.Series, want)
			}
		}
		if got.Series[2].SuccessRate == nil || *got.Series[2].SuccessRate != 0.9 {
			t.Errorf("bucket 2 success rate %v, want 0.9", got.Series[2].SuccessRate)
		}
	})

	for _, bad := range []struct{ path, field string }{
		{"/v1/tenants/acme/metrics?step=soon", "step"},
		{"/v1/tenants/acme/metrics?step=1s", "step"},
		{"/v1/tenants/acme/metrics?step=10m", "at most 48"},
		{"/v1/tenants/acme/metrics?since=yesterday", "since"},
		{"/v1/tenants/acme/metrics?since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z", "since"},
		{"/v1/tenants/acme/metrics?since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "90 days"},
	} {
		wantError(t, e.do(t, http.MethodGet, bad.path, key, ""), http.StatusBadRequest, hookrun.CodeInvalidArgument, bad.field)
	}
	wantError(t, e.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/ep_nope/metrics", key, ""), http.StatusNotFound, hookrun.CodeNotFound, "")
}
