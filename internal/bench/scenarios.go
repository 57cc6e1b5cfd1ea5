package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// Targets, in the figures' units. Issue #17's CPU targets are multiples
// of the bare handler's CPU per request measured in the same run, just
// before the scenario (bench.rebase), so that they hold on a slower or
// busier machine alike; memory and cold start are issue #7's.
const (
	ingestCPUTimes     = 6   // ingest CPU per event sent alone, × the bare handler's per request
	batchCPUTimes      = 2   // ingest CPU per event sent in a batch, × the same
	dispatcherCPUTimes = 8   // dispatcher CPU per delivery, attempt record included, × the same
	targetCeilingRatio = 60  // % of the emulator's push ceiling, end to end
	targetIngestP50    = 10  // ms, a single post's answer
	targetE2EP50       = 20  // ms, send → delivered, end to end
	targetRSS          = 64  // MiB per service at steady load
	targetColdStart    = 100 // ms from process start to healthy
	drainTimeout       = 90 * time.Second
	// pushesQuiet is how long the events subscription pushes nothing
	// before a scenario starts.
	pushesQuiet = 500 * time.Millisecond
)

// ingestCPUTarget, batchCPUTarget and dispatcherCPUTarget are the CPU
// targets in µs for this run: 0 (none) until the baseline ran.
func (b *bench) ingestCPUTarget() float64     { return ingestCPUTimes * b.baselineCPU }
func (b *bench) batchCPUTarget() float64      { return batchCPUTimes * b.baselineCPU }
func (b *bench) dispatcherCPUTarget() float64 { return dispatcherCPUTimes * b.baselineCPU }

// baselineLoad is the producers' load on the bare baseline service.
func (b *bench) baselineLoad() load {
	return load{
		URL:       b.baseline + "/v1/events",
		Header:    map[string][]string{"Content-Type": {"application/json"}},
		Body:      eventBody("bench.baseline"),
		Producers: b.cfg.Producers,
	}
}

// runBaseline puts the producers' load on the bare baseline service: the
// ceiling of this machine and harness for a POST answered 202.
func (b *bench) runBaseline(ctx context.Context) (Scenario, error) {
	res, use, err := b.measure(ctx, "baseline", b.baselineLoad(), nil, map[string]int{"baseline": b.baselinePID}, nil)
	if err != nil {
		return Scenario{}, err
	}
	b.baselineRate = rate(res.ok, res.to.Sub(res.from))
	b.baselineCPU = perOp(use["baseline"].CPU, res.ok)
	return Scenario{
		Description: fmt.Sprintf("%d producers POST 1 KiB to a bare net/http handler that reads the body and answers 202", b.cfg.Producers),
		Figures: append([]Figure{figure("requests/s", b.baselineRate, "/s")},
			serviceFigures(res, use["baseline"], "CPU per request", "peak RSS", limits{})...),
	}, nil
}

// rebaseShare is the part of a load scenario's warm-up and duration that
// rebase measures the bare handler for: 3 s of a full run's 10 s.
const rebaseShare = 0.3

// rebase measures the bare handler's CPU per request again, for a moment
// just before a scenario whose CPU targets are multiples of it, and
// returns it as that scenario's figure. This machine's speed drifts by a
// third and more over minutes (the bare handler's CPU per request went
// from 31 to 55 µs between runs of one evening, and within a run): a
// multiple of the baseline taken minutes before measured that drift as
// much as hookrun.
func (b *bench) rebase(ctx context.Context) (Figure, error) {
	warmup := time.Duration(rebaseShare * float64(b.cfg.Warmup))
	// At least Validate's floor for a window, for the kernel's ticks.
	d := max(time.Duration(rebaseShare*float64(b.cfg.Duration)), 500*time.Millisecond)
	res, use, err := b.measureFor(ctx, warmup, d, "rebase", b.baselineLoad(), nil, map[string]int{"baseline": b.baselinePID}, nil)
	if err != nil {
		return Figure{}, fmt.Errorf("bare handler: %w", err)
	}
	b.baselineCPU = perOp(use["baseline"].CPU, res.ok)
	return figure(rebasedFigure, b.baselineCPU, "µs"), nil
}

// rebasedFigure names the bare handler's CPU per request measured just
// before a scenario, which its CPU targets are multiples of.
const rebasedFigure = "bare handler CPU per request, just before"

// runIngest puts the producers' load on ingest, for a tenant without
// endpoints: ingest authenticates, validates and publishes each event to
// Pub/Sub before its 202, and records it in Firestore after. Nothing is
// pushed meanwhile (measureIngest).
func (b *bench) runIngest(ctx context.Context) (Scenario, error) {
	t, err := b.newTenant(ctx, "bench-ingest", nil)
	if err != nil {
		return Scenario{}, err
	}
	res, use, err := b.measureIngest(ctx, "ingest", b.producerLoad(t, "bench.ingest"))
	if err != nil {
		return Scenario{}, err
	}
	r := rate(res.ok, res.to.Sub(res.from))
	b.ingestRate, b.ingestCPU = r, perOp(use["ingest"].CPU, res.ok)
	return Scenario{
		Description: fmt.Sprintf("%d producers POST 1 KiB events to /v1/events without an id (API key, Pub/Sub publish before 202, Firestore record after), with Pub/Sub's pushes held", b.cfg.Producers),
		Figures: slices.Concat([]Figure{
			figure("events/s accepted", r, "/s"),
			figure("of baseline requests/s", percent(r, b.baselineRate), "%"),
		}, serviceFigures(res, use["ingest"], "ingest CPU per event", "ingest peak RSS", limits{cpu: b.ingestCPUTarget(), p50: targetIngestP50, rss: targetRSS}),
			emulatorFigures(use, res.ok)),
	}, nil
}

// measureIngest measures load l on ingest alone, with its stores: the
// events subscription holds its pushes meanwhile, as a dispatcher and
// Pub/Sub's deliveries run on other machines in production, and on this
// one would take CPU from ingest. The events, for a tenant without
// endpoints, are discarded after.
func (b *bench) measureIngest(ctx context.Context, scenario string, l load) (_ loadResult, _ map[string]usage, err error) {
	release, err := b.stack.HoldEvents(ctx)
	if err != nil {
		return loadResult{}, nil, fmt.Errorf("hold the events' pushes: %w", err)
	}
	defer func() {
		if rerr := release(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release the events' pushes: %w", rerr))
		}
	}()
	return b.measure(ctx, scenario, l, []string{"ingest", pubsubEmulator, firestoreEmulator}, nil, nil)
}

// runIngestBatch puts the producers' load on ingest as batches of
// batchEvents events, for a tenant without endpoints, and compares the
// CPU per event and events/s with the single posts of runIngest.
func (b *bench) runIngestBatch(ctx context.Context) (Scenario, error) {
	t, err := b.newTenant(ctx, "bench-batch", nil)
	if err != nil {
		return Scenario{}, err
	}
	l := b.producerLoad(t, "bench.batch")
	l.URL = b.stack.IngestURL + "/v1/events:batch"
	l.Body = batchBody("bench.batch", batchEvents)
	l.MaxBody = 64 << 10 // batchEvents results
	l.Producers = min(l.Producers, batchProducers)
	res, use, err := b.measureIngest(ctx, "batch", l)
	if err != nil {
		return Scenario{}, err
	}
	window := res.to.Sub(res.from)
	r := rate(res.events, window)
	cpu := perOp(use["ingest"].CPU, res.events)
	m := res.metrics.Latencies
	return Scenario{
		Description: fmt.Sprintf("%d producers POST batches of %d 1 KiB events to /v1/events:batch, with Pub/Sub's pushes held, against the single posts of the ingest scenario", l.Producers, batchEvents),
		Figures: append([]Figure{
			figure("events/s accepted", r, "/s"),
			figure("times single posts' events/s", ratio(r, b.ingestRate), "×"),
			figure("requests/s", rate(res.ok, window), "/s"),
			figure("latency p50", millis(m.P50), "ms"),
			figure("latency p99", millis(m.P99), "ms"),
			atMost(figure("ingest CPU per event", cpu, "µs"), b.batchCPUTarget()),
			figure("of single posts' CPU per event", percent(cpu, b.ingestCPU), "%"),
			atMost(figure("ingest peak RSS", mebibytes(use["ingest"].PeakRSS), "MiB"), targetRSS),
			figure("failed requests", float64(res.failed), ""),
			figure("refused events", float64(res.refused), ""),
		}, emulatorFigures(use, res.events)...),
	}, nil
}

// runCeiling measures how fast, and with what latency, the Pub/Sub
// emulator hands 1 KiB messages to a bare consumer: by push to the sink,
// or by streaming pull to a receiver in the bench process. Publishers keep
// Producers messages in flight, each publishing its next message once one
// has arrived, as the end-to-end producers do, so the end-to-end scenarios
// compare with it: what hookrun adds is the difference.
//
// The emulator paces both ways with fixed sleeps (seen in its classes): a
// push subscription's loop sleeps 100 ms whenever it finds no message, and
// a streaming pull sends what it has, then sleeps 50 ms. Hence a latency
// here that no consumer can beat.
func (b *bench) runCeiling(ctx context.Context, pull bool) (_ Scenario, err error) {
	group, how, unit := "ceiling", "push to a bare receiver", "pushes/s"
	if pull {
		group, how, unit = "pullceiling", "streaming pull by a bare subscriber", "messages/s"
	}
	topic, sub := "bench-"+group, "bench-"+group+"-sub"
	admin, err := pubsub.NewAdmin(ctx, b.cfg.ProjectID, b.stack.PubSubOptions()...)
	if err != nil {
		return Scenario{}, err
	}
	defer admin.Close()
	if err := admin.EnsureTopic(ctx, topic); err != nil {
		return Scenario{}, err
	}
	if pull {
		err = admin.EnsurePullSubscription(ctx, sub, topic)
	} else {
		err = admin.EnsurePushSubscription(ctx, pubsub.PushSubscription{
			ID: sub, Topic: topic, Endpoint: b.sink.URL + "/" + group + "/0", AckDeadline: 60 * time.Second,
		})
	}
	if err != nil {
		return Scenario{}, err
	}
	if pull {
		stop, err := b.pullToSink(ctx, sub, group)
		if err != nil {
			return Scenario{}, err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	pub, err := pubsub.NewPublisher(ctx, pubsub.Config{ProjectID: b.cfg.ProjectID, Topic: topic}, b.stack.PubSubOptions()...)
	if err != nil {
		return Scenario{}, err
	}
	defer pub.Close()

	data := eventBody("bench." + group)
	gate := b.sink.gate(group, b.cfg.Producers)
	var (
		mu   sync.Mutex
		sent = map[string]time.Time{} // by message ID
	)
	from := time.Now().Add(b.cfg.Warmup)
	to := from.Add(b.cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, to)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	for range b.cfg.Producers {
		g.Go(func() error {
			for {
				select {
				case <-gate:
				case <-gctx.Done():
					return nil
				}
				at := time.Now()
				id, err := pub.Publish(ctx, data, map[string]string{wire.AttrTenantID: "bench-" + group})
				if err != nil {
					return err
				}
				if at.After(from) {
					mu.Lock()
					sent[id] = at
					mu.Unlock()
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return Scenario{}, fmt.Errorf("publish: %w", err)
	}
	ids := slices.Collect(maps.Keys(sent))
	dctx, cancelDrain := context.WithTimeout(ctx, drainTimeout)
	defer cancelDrain()
	missing := b.sink.wait(dctx, group, ids, 1)
	r := rate(b.sink.deliveredBetween(group, from, to), to.Sub(from))
	if pull {
		b.pullCeilingRate = r
	} else {
		b.ceilingRate = r
	}
	lat := latencies(sent, b.sink.arrivals(group, ids))
	return Scenario{
		Description: fmt.Sprintf("the Pub/Sub emulator's %s, 1 KiB messages, %d in flight", how, b.cfg.Producers),
		Figures: []Figure{
			figure(unit, r, "/s"),
			figure("publish → arrived p50", millis(percentile(lat, 0.50)), "ms"),
			figure("publish → arrived p99", millis(percentile(lat, 0.99)), "ms"),
			figure("not arrived after drain", float64(missing), ""),
		},
	}, nil
}

// pullToSink receives the subscription's messages by streaming pull, as the
// dispatcher's pull mode does, noting each in the sink's group and
// acknowledging it; stop ends the receiving.
func (b *bench) pullToSink(ctx context.Context, sub, group string) (stop func() error, err error) {
	rcv, err := pubsub.NewReceiver(ctx, pubsub.ReceiverConfig{
		ProjectID: b.cfg.ProjectID, Subscription: sub, HandlerTimeout: time.Minute, DrainTimeout: 10 * time.Second,
	}, b.stack.PubSubOptions()...)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() {
		done <- rcv.Receive(rctx, func(_ context.Context, env *wire.PushEnvelope) error {
			b.sink.note(group, env.Message.MessageID, "/"+group+"/0", time.Now())
			return nil
		})
	}()
	return func() error {
		cancel()
		return errors.Join(<-done, rcv.Close())
	}, nil
}

// runEndToEnd sends the producers' load through ingest to one endpoint at
// the sink: accepted → published → pushed → signed and delivered. With
// pull, the dispatcher pulls the events subscription by streaming pull
// instead (HOOKRUN_PULL_SUBSCRIPTION) for the scenario, under a tenant and
// sink group of its own, and the stack is switched back to push after it.
func (b *bench) runEndToEnd(ctx context.Context, pull bool) (_ Scenario, err error) {
	group, how := "e2e", "Pub/Sub push"
	if pull {
		group, how = "e2epull", "Pub/Sub streaming pull"
		if err := b.stack.SetPull(ctx, true); err != nil {
			return Scenario{}, fmt.Errorf("switch the dispatcher to pull: %w", err)
		}
		defer func() {
			if serr := b.stack.SetPull(context.WithoutCancel(ctx), false); serr != nil {
				err = errors.Join(err, fmt.Errorf("switch the dispatcher back to push: %w", serr))
			}
		}()
	}
	t, err := b.tenantWithEndpoint(ctx, "bench-"+group, "/"+group+"/0", "bench.e2e")
	if err != nil {
		return Scenario{}, err
	}
	if !pull {
		b.e2e = t
	}
	l := b.producerLoad(t, "bench.e2e")
	l.Gate = b.sink.gate(group, b.cfg.Producers)
	// The dispatcher's CPU is read once what was accepted has arrived, so
	// it covers every delivery the sink counts in the same window.
	var (
		ids     []string
		missing int
		drained time.Time
	)
	res, use, err := b.measure(ctx, group, l, []string{"ingest", "dispatcher", pubsubEmulator, firestoreEmulator}, nil, func(res loadResult) {
		dctx, cancel := context.WithTimeout(ctx, drainTimeout)
		defer cancel()
		ids = res.ids()
		missing = b.sink.wait(dctx, group, ids, 1)
		drained = time.Now()
	})
	if err != nil {
		return Scenario{}, err
	}
	window := res.to.Sub(res.from)
	r := rate(b.sink.deliveredBetween(group, res.from, res.to), window)
	// The target is a share of the push ceiling either way; by
	// pull, the pull ceiling says what the emulator allows.
	shares := []Figure{atLeast(figure("of push ceiling", percent(r, b.ceilingRate), "%"), targetCeilingRatio)}
	if pull {
		shares = append(shares, figure("of pull ceiling", percent(r, b.pullCeilingRate), "%"))
	}
	lat := latencies(res.sent, b.sink.arrivals(group, ids))
	return Scenario{
		Description: fmt.Sprintf("%d events in flight through ingest, %s and the dispatcher to one endpoint; a producer sends its next event once one arrived", b.cfg.Producers, how),
		Figures: slices.Concat([]Figure{
			figure("events/s accepted", rate(res.ok, window), "/s"),
			figure("deliveries/s", r, "/s"),
		}, shares, []Figure{
			atMost(figure("send → delivered p50", millis(percentile(lat, 0.50)), "ms"), targetE2EP50),
			figure("send → delivered p99", millis(percentile(lat, 0.99)), "ms"),
			atMost(figure("dispatcher CPU per delivery", perOp(use["dispatcher"].CPU, b.sink.deliveredBetween(group, res.from, drained)), "µs"), b.dispatcherCPUTarget()),
			atMost(figure("ingest CPU per event", perOp(use["ingest"].CPU, res.ok), "µs"), b.ingestCPUTarget()),
			atMost(figure("ingest peak RSS", mebibytes(use["ingest"].PeakRSS), "MiB"), targetRSS),
			atMost(figure("dispatcher peak RSS", mebibytes(use["dispatcher"].PeakRSS), "MiB"), targetRSS),
			figure("failed requests", float64(res.failed), ""),
			figure("undelivered after drain", float64(missing), ""),
		}, emulatorFigures(use, res.ok)),
	}, nil
}

// runDirectPush posts Pub/Sub push envelopes straight to the dispatcher,
// Producers at a time, for a tenant with one endpoint at the sink. Real
// Pub/Sub pushes many messages to an instance at once; the emulator pushes
// one at a time (its push loop pulls, pushes and acks a single message), so
// the end-to-end scenario cannot show the dispatcher's cost at the
// concurrency it meets in production. This one does: each push is one
// event's first delivery, answered once delivered (its record follows,
// batched, as the dispatcher's attempt log writes it).
func (b *bench) runDirectPush(ctx context.Context) (Scenario, error) {
	t, err := b.tenantWithEndpoint(ctx, "bench-push", "/push/0", "bench.push")
	if err != nil {
		return Scenario{}, err
	}
	data := eventBody("bench.push")
	var seq atomic.Int64
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	l := load{
		URL:       b.stack.DispatcherURL + "/pubsub/push",
		Header:    map[string][]string{"Content-Type": {"application/json"}},
		Producers: b.cfg.Producers,
		Next: func(tg *vegeta.Target) {
			n := strconv.FormatInt(seq.Add(1), 10)
			now := time.Now()
			e := hookrun.Event{ID: "evt_" + runID + "_" + n, TenantID: t.ID, Type: "bench.push", Data: data, Source: hookrun.SourceAPI, ReceivedAt: now}
			tg.Body = pushEnvelope(e, runID+n, now)
		},
	}
	res, use, err := b.measure(ctx, "push", l, []string{"dispatcher"}, nil, nil)
	if err != nil {
		return Scenario{}, err
	}
	return Scenario{
		Description: fmt.Sprintf("%d concurrent Pub/Sub pushes straight to the dispatcher (no emulator), one endpoint at the sink", b.cfg.Producers),
		Figures: append([]Figure{figure("deliveries/s", rate(res.ok, res.to.Sub(res.from)), "/s")},
			serviceFigures(res, use["dispatcher"], "dispatcher CPU per delivery", "dispatcher peak RSS", limits{cpu: b.dispatcherCPUTarget(), rss: targetRSS})...),
	}, nil
}

// pushEnvelope is the body Pub/Sub POSTs for a message carrying e, as
// ingest publishes it.
func pushEnvelope(e hookrun.Event, messageID string, published time.Time) []byte {
	b, _ := json.Marshal(wire.PushEnvelope{ // strings, bytes and a time: cannot fail
		Message: wire.Message{
			Data:        e.Data,
			Attributes:  wire.Event(e).Attributes(),
			MessageID:   messageID,
			PublishTime: published,
		},
		Subscription: "projects/hookrun-bench/subscriptions/events-dispatcher",
		// hookrun's subscription has a dead-letter policy, so Pub/Sub
		// counts deliveries; this is each message's first.
		DeliveryAttempt: 1,
	})
	return b
}

// runFanOut sends events one at a time to a tenant with n endpoints at the
// sink, each event after the last reached all of them.
func (b *bench) runFanOut(ctx context.Context, n int) (Scenario, error) {
	name := "fan" + strconv.Itoa(n)
	t, err := b.newTenant(ctx, "bench-"+name, nil)
	if err != nil {
		return Scenario{}, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error { return b.addEndpoint(gctx, t, fmt.Sprintf("/%s/%d", name, i), "bench.fanout") })
	}
	if err := g.Wait(); err != nil {
		return Scenario{}, err
	}
	send := func() (time.Duration, error) {
		start := time.Now()
		id, err := b.send(ctx, t, "bench.fanout")
		if err != nil {
			return 0, err
		}
		wctx, cancel := context.WithTimeout(ctx, drainTimeout)
		defer cancel()
		if missing := b.sink.wait(wctx, name, []string{id}, n); missing > 0 {
			return 0, fmt.Errorf("event %s did not reach all %d endpoints in %v", id, n, drainTimeout)
		}
		return b.sink.arrivals(name, []string{id})[id].Sub(start), nil
	}
	if _, err := send(); err != nil { // warm-up: caches, connections
		return Scenario{}, err
	}
	w, err := b.startWatch([]string{"dispatcher"}, nil)
	if err != nil {
		return Scenario{}, err
	}
	profiled := b.profile(ctx, name, b.cfg.Duration, "dispatcher")
	var took []time.Duration
	start := time.Now()
	for len(took) < 3 || time.Since(start) < b.cfg.Duration {
		d, err := send()
		if err != nil {
			_, _ = w.stop()
			return Scenario{}, err
		}
		took = append(took, d)
	}
	elapsed := time.Since(start)
	use, err := w.stop()
	if err = errors.Join(err, profiled()); err != nil {
		return Scenario{}, err
	}
	deliveries := len(took) * n
	return Scenario{
		Description: fmt.Sprintf("one event at a time to %d endpoints, the next once all %d have it", n, n),
		Figures: []Figure{
			figure("events", float64(len(took)), ""),
			figure("send → all delivered p50", millis(percentile(took, 0.50)), "ms"),
			figure("send → all delivered max", millis(slices.Max(took)), "ms"),
			figure("deliveries/s", rate(deliveries, elapsed), "/s"),
			atMost(figure("dispatcher CPU per delivery", perOp(use["dispatcher"].CPU, deliveries), "µs"), b.dispatcherCPUTarget()),
			atMost(figure("dispatcher peak RSS", mebibytes(use["dispatcher"].PeakRSS), "MiB"), targetRSS),
		},
	}, nil
}

// retryRate is the events a second of the retry scenario: low enough that
// both halves run unsaturated, so their CPU per delivery compares.
const retryRate = 20

// runRetry sends the same paced load twice to one tenant: to an endpoint
// that accepts every first attempt, then to one that fails every first
// attempt and accepts the second (a retry through Cloud Tasks). The
// difference in the dispatcher's CPU per delivery is the price of a retry.
func (b *bench) runRetry(ctx context.Context) (Scenario, error) {
	t, err := b.newTenant(ctx, "bench-retry", map[string]any{"retry_policy": map[string]any{
		"initial_delay": "1s", "multiplier": 2, "max_delay": "4s", "max_attempts": 5, "jitter": 0.2,
	}})
	if err != nil {
		return Scenario{}, err
	}
	if err := b.addEndpoint(ctx, t, "/steady/0", "bench.steady"); err != nil {
		return Scenario{}, err
	}
	if err := b.addEndpoint(ctx, t, "/"+failFirst+"/0", "bench.flaky"); err != nil {
		return Scenario{}, err
	}
	half := func(group, eventType string) (perDelivery time.Duration, lat []time.Duration, err error) {
		l := b.producerLoad(t, eventType)
		l.Producers, l.Rate = 4, retryRate
		w, err := b.startWatch([]string{"dispatcher"}, nil)
		if err != nil {
			return 0, nil, err
		}
		res, err := l.run(ctx, b.cfg.Duration)
		if err != nil {
			_, _ = w.stop()
			return 0, nil, err
		}
		dctx, cancel := context.WithTimeout(ctx, drainTimeout)
		defer cancel()
		ids := res.ids()
		missing := b.sink.wait(dctx, group, ids, 1)
		use, err := w.stop()
		if err != nil {
			return 0, nil, err
		}
		if missing > 0 {
			return 0, nil, fmt.Errorf("%d of %d %s events undelivered after %v", missing, len(ids), eventType, drainTimeout)
		}
		return use["dispatcher"].CPU / time.Duration(len(ids)), latencies(res.accepted, b.sink.arrivals(group, ids)), nil
	}
	steady, _, err := half("steady", "bench.steady")
	if err != nil {
		return Scenario{}, err
	}
	retried, lat, err := half(failFirst, "bench.flaky")
	if err != nil {
		return Scenario{}, err
	}
	return Scenario{
		Description: fmt.Sprintf("%d events/s for %v to an endpoint that accepts at once, then to one that fails every first attempt (retry after 1 s ± 20%%)", retryRate, b.cfg.Duration),
		Figures: []Figure{
			figure("dispatcher CPU per delivery, first attempt", micros(steady), "µs"),
			figure("dispatcher CPU per delivery, retried", micros(retried), "µs"),
			figure("extra CPU per retried delivery", micros(retried-steady), "µs"),
			figure("accept → delivered on retry p50", millis(percentile(lat, 0.50)), "ms"),
		},
	}, nil
}

// runReceiver puts the producers' load on the sample receiver tenants
// deploy: Standard Webhooks deliveries of 1 KiB, each with a fresh
// webhook-id and a valid signature, verified and acknowledged inline.
func (b *bench) runReceiver(ctx context.Context) (Scenario, error) {
	secret := signature.NewSecret()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		return Scenario{}, err
	}
	url, err := b.stack.StartReceiver(ctx, secret, 0, nil)
	if err != nil {
		return Scenario{}, err
	}
	signer := signature.NewSigner(key)
	body := []byte(`{"id":"evt_bench","type":"bench.receiver","timestamp":"2026-11-23T00:00:00Z","data":` + string(eventBody("bench.receiver")) + `}`)
	var seq atomic.Int64
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	l := load{
		URL:       url + "/",
		Header:    map[string][]string{"Content-Type": {"application/json"}},
		Body:      body,
		Producers: b.cfg.Producers,
		Next: func(tg *vegeta.Target) {
			id := "msg_" + runID + strconv.FormatInt(seq.Add(1), 36)
			ts := time.Now().Unix()
			tg.Header.Set("webhook-id", id)
			tg.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			tg.Header.Set("webhook-signature", signer.Sign(id, ts, body))
		},
	}
	res, use, err := b.measure(ctx, "receiver", l, []string{"receiver"}, nil, nil)
	if err != nil {
		return Scenario{}, err
	}
	return Scenario{
		Description: fmt.Sprintf("%d senders POST signed 1 KiB webhooks to the sample receiver (verified, deduplicated, handled inline)", b.cfg.Producers),
		Figures: append([]Figure{figure("webhooks/s", rate(res.ok, res.to.Sub(res.from)), "/s")},
			serviceFigures(res, use["receiver"], "receiver CPU per webhook", "receiver peak RSS", limits{rss: targetRSS})...),
	}, nil
}

// runColdStart restarts each service ColdStarts times, as Cloud Run starts
// a new instance, and times process start to the first 200 on /healthz.
// Then, with ingest and the dispatcher both fresh, it sends one event and
// times the dispatcher's start to that event's delivery: a cold start's
// first delivery, with empty caches and new connections on both services.
func (b *bench) runColdStart(ctx context.Context) (Scenario, error) {
	healthy := map[string][]time.Duration{}
	var firstDelivery []time.Duration
	for range b.cfg.ColdStarts {
		for _, name := range []string{"receiver", "ingest", "dispatcher"} {
			d, err := b.stack.Restart(ctx, name)
			if err != nil {
				return Scenario{}, err
			}
			healthy[name] = append(healthy[name], d)
		}
		at := time.Now()
		id, err := b.send(ctx, b.e2e, "bench.e2e")
		if err != nil {
			return Scenario{}, err
		}
		wctx, cancel := context.WithTimeout(ctx, drainTimeout)
		missing := b.sink.wait(wctx, "e2e", []string{id}, 1)
		cancel()
		if missing > 0 {
			return Scenario{}, fmt.Errorf("event %s never reached the sink after a cold start", id)
		}
		firstDelivery = append(firstDelivery, healthy["dispatcher"][len(healthy["dispatcher"])-1]+b.sink.arrivals("e2e", []string{id})[id].Sub(at))
	}
	return Scenario{
		Description: fmt.Sprintf("median of %d starts: process start to first 200 on /healthz, and the dispatcher's start to the first event delivered through fresh ingest and dispatcher processes", b.cfg.ColdStarts),
		Figures: []Figure{
			atMost(figure("ingest start → healthy", millis(percentile(healthy["ingest"], 0.5)), "ms"), targetColdStart),
			atMost(figure("dispatcher start → healthy", millis(percentile(healthy["dispatcher"], 0.5)), "ms"), targetColdStart),
			atMost(figure("receiver start → healthy", millis(percentile(healthy["receiver"], 0.5)), "ms"), targetColdStart),
			figure("cold dispatcher and ingest: start → first delivery", millis(percentile(firstDelivery, 0.5)), "ms"),
		},
	}, nil
}

// serviceFigures are the figures of a load on one service: the requests'
// latencies, the service's CPU per request and peak memory (held to their
// targets where one is given, not 0), and the requests that failed.
func serviceFigures(res loadResult, u usage, cpuName, rssName string, l limits) []Figure {
	m := res.metrics.Latencies
	target := func(f Figure, bound float64) Figure {
		if bound > 0 {
			return atMost(f, bound)
		}
		return f
	}
	return []Figure{
		target(figure("latency p50", millis(m.P50), "ms"), l.p50),
		figure("latency p95", millis(m.P95), "ms"),
		figure("latency p99", millis(m.P99), "ms"),
		target(figure(cpuName, perOp(u.CPU, res.ok), "µs"), l.cpu),
		target(figure(rssName, mebibytes(u.PeakRSS), "MiB"), l.rss),
		figure("failed requests", float64(res.failed), ""),
	}
}

// emulatorFigures are the emulators' CPU per accepted event, of the n
// events a window accepted, for the comparison of hookrun with its
// stores and queue. Only the emulators the stack started itself are in use
// (bench.startWatch): a shared one also serves others, and its figure would
// be wrong, so it is left out.
func emulatorFigures(use map[string]usage, n int) []Figure {
	var out []Figure
	for _, e := range []struct{ name, figure string }{
		{pubsubEmulator, "Pub/Sub emulator CPU per event"},
		{firestoreEmulator, "Firestore emulator CPU per event"},
	} {
		if u, ok := use[e.name]; ok {
			out = append(out, figure(e.figure, perOp(u.CPU, n), "µs"))
		}
	}
	return out
}

// limits are the targets serviceFigures holds figures to; 0 is none.
type limits struct{ cpu, p50, rss float64 }

// latencies returns, for each event that arrived, arrival − start, where
// start is when it was sent or accepted (loadResult.sent, .accepted).
func latencies(start, arrived map[string]time.Time) []time.Duration {
	out := make([]time.Duration, 0, len(arrived))
	for id, at := range arrived {
		if from, ok := start[id]; ok {
			out = append(out, at.Sub(from))
		}
	}
	return out
}

// percentile returns the q-quantile (nearest rank) of ds, 0 for none.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func perOp(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return micros(cpu) / float64(n)
}

func percent(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
