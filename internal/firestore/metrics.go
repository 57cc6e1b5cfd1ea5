package firestore

import (
	"context"
	"fmt"
	"sync"
	"time"

	fs "cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Metrics aggregates a tenant's deliveries (of one endpoint, when
// endpointID is set) for events received in [since, until), with COUNT and
// SUM aggregation queries: no delivery document is read. Every query asks
// for all shards (shards.go), so that composite indexes with the shard
// before the timestamp serve them (CompositeIndexes); events are counted
// once accepted.
func (s *Store) Metrics(ctx context.Context, tenantID, endpointID string, since, until time.Time) (hookrun.Metrics, error) {
	m := hookrun.Metrics{Since: since, Until: until}
	window := func(q fs.Query, field string) fs.Query {
		return q.Where(field, ">=", since).Where(field, "<", until)
	}
	deliveries := s.tenantRef(tenantID).Collection("deliveries").Where("shard", "in", allShards)
	if endpointID != "" {
		deliveries = deliveries.Where("endpoint_id", "==", endpointID)
	}
	inWindow := window(deliveries, "event_time")

	var (
		mu           sync.Mutex
		latencySumMS float64
		buckets      = make([]int64, len(hookrun.LatencyBuckets)+1)
	)
	g, ctx := errgroup.WithContext(ctx)
	count := func(q fs.Query, dst *int64) {
		g.Go(func() error {
			res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
			if err != nil {
				return coded(err, "metrics")
			}
			n, err := intValue(res["n"])
			mu.Lock()
			*dst = n
			mu.Unlock()
			return err
		})
	}
	// sums runs one query of at most five SUMs (Firestore's limit); it
	// counts only the deliveries that have every one of the fields.
	sums := func(fields []string, set func(field string, v *firestorepb.Value)) {
		g.Go(func() error {
			aq := inWindow.NewAggregationQuery()
			for _, f := range fields {
				aq = aq.WithSum(f, f)
			}
			res, err := aq.Get(ctx)
			if err != nil {
				return coded(err, "metrics")
			}
			mu.Lock()
			defer mu.Unlock()
			for _, f := range fields {
				v, _ := res[f].(*firestorepb.Value)
				set(f, v)
			}
			return nil
		})
	}

	if endpointID == "" {
		events := s.tenantRef(tenantID).Collection("events").Where("state", "==", eventAccepted).Where("shard", "in", allShards)
		count(window(events, "receive_time"), &m.EventsReceived)
	} else {
		count(inWindow, &m.EventsReceived) // the events that matched the endpoint
	}
	count(inWindow, &m.Deliveries)
	count(window(deliveries.Where("state", "==", string(hookrun.DeliverySucceeded)), "event_time"), &m.Succeeded)
	count(window(deliveries.Where("state", "==", string(hookrun.DeliveryRetrying)), "event_time"), &m.Retrying)
	count(window(deliveries.Where("state", "==", string(hookrun.DeliveryDead)), "event_time"), &m.Dead)
	sums([]string{"attempt_count", "failed_attempts", "latency_sum_ms"}, func(f string, v *firestorepb.Value) {
		switch f {
		case "attempt_count":
			m.Attempts, _ = intValue(v)
		case "failed_attempts":
			m.FailedAttempts, _ = intValue(v)
		case "latency_sum_ms":
			latencySumMS = numberValue(v)
		}
	})
	// One query per bucket: a delivery has only the buckets its attempts
	// hit (RecordAttempt), and a query of several SUMs would skip it.
	for i := range buckets {
		sums([]string{latencyBucketField(i)}, func(_ string, v *firestorepb.Value) {
			buckets[i], _ = intValue(v)
		})
	}
	if err := g.Wait(); err != nil {
		return hookrun.Metrics{}, err
	}
	m.Derive(latencySumMS, buckets)
	return m, nil
}

func intValue(v any) (int64, error) {
	pv, ok := v.(*firestorepb.Value)
	if !ok {
		return 0, fmt.Errorf("aggregation result %T is not a value", v)
	}
	if _, isDouble := pv.GetValueType().(*firestorepb.Value_DoubleValue); isDouble {
		return int64(pv.GetDoubleValue()), nil
	}
	return pv.GetIntegerValue(), nil
}

func numberValue(v *firestorepb.Value) float64 {
	if _, isInt := v.GetValueType().(*firestorepb.Value_IntegerValue); isInt {
		return float64(v.GetIntegerValue())
	}
	return v.GetDoubleValue()
}
