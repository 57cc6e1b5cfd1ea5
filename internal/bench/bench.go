// Package bench measures hookrun the way its users pay for it on Cloud Run:
// CPU time per event and per delivery (from the kernel's own accounting of
// each service process), memory, throughput against the machine's and the
// Pub/Sub emulator's ceilings, and cold starts. It runs the local stack
// (internal/devstack) on this machine and nothing outside it; scripts/bench
// is its command line.
//
// Load comes from vegeta, as a library, with fixed 1 KiB payloads; every
// load scenario runs a warm-up first that no figure includes.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
)

// Config configures a run. Zero fields take the defaults of the mode.
type Config struct {
	// Quick runs every scenario for a moment, to check the harness (CI);
	// its figures are too short to compare.
	Quick bool
	// Duration is the measured part of each load scenario; Warmup runs
	// before it and counts for nothing.
	Duration, Warmup time.Duration
	// Producers is the number of concurrent producers of the ingest, baseline
	// and end-to-end scenarios.
	Producers int
	// ColdStarts is how many times each service is started cold.
	ColdStarts int
	// GOMAXPROCS of the services: 1 by default, which is what Go sets on
	// Cloud Run with infra's default CPU limit of 1 (Go reads the
	// container's limit). Zero means the default, -1 leaves Go's own
	// choice on this machine.
	GOMAXPROCS int
	// ProfileDir, when set, receives CPU profiles of ingest and the
	// dispatcher taken during the measured part of the load scenarios.
	ProfileDir string
	// Scenarios are the names (ScenarioNames) of the scenarios to run;
	// the baseline runs too, and so does any scenario a named one compares
	// its figures with. None means all.
	Scenarios []string

	// ProjectID isolates the run's data in the emulators.
	ProjectID string
	// PubSubHost and FirestoreHost use emulators that already run (the
	// tests') instead of starting new ones.
	PubSubHost, FirestoreHost string
	// Output receives the services' and emulators' logs; nil discards them.
	Output io.Writer
	// Log receives progress; nil means slog.Default().
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	def := Config{Duration: 10 * time.Second, Warmup: 2 * time.Second, Producers: 32, ColdStarts: 10}
	if c.Quick {
		def = Config{Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Producers: 8, ColdStarts: 3}
	}
	c.Duration = cmp.Or(c.Duration, def.Duration)
	c.Warmup = cmp.Or(c.Warmup, def.Warmup)
	c.Producers = cmp.Or(c.Producers, def.Producers)
	c.ColdStarts = cmp.Or(c.ColdStarts, def.ColdStarts)
	c.GOMAXPROCS = cmp.Or(c.GOMAXPROCS, 1)
	c.ProjectID = cmp.Or(c.ProjectID, "hookrun-bench")
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Validate reports the first problem with c, with defaults applied.
func (c Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.Duration < 500*time.Millisecond:
		return fmt.Errorf("duration %v: at least 500ms, or the kernel's 10 ms CPU ticks dominate", d.Duration)
	case d.Warmup < 0:
		return fmt.Errorf("warm-up %v is negative", d.Warmup)
	case d.Producers < 1 || d.Producers > 1024:
		return fmt.Errorf("producers %d: 1 to 1024", d.Producers)
	case d.ColdStarts < 1 || d.ColdStarts > 100:
		return fmt.Errorf("cold starts %d: 1 to 100", d.ColdStarts)
	case d.GOMAXPROCS < -1 || d.GOMAXPROCS > 256:
		return fmt.Errorf("GOMAXPROCS %d: 1 to 256, or -1 for Go's own choice", d.GOMAXPROCS)
	}
	_, err := selectScenarios(d.Scenarios)
	return err
}

// payloadBytes is the size of every event body the producers send.
const payloadBytes = 1024

// eventBody is a producer's POST /v1/events body of exactly payloadBytes
// for eventType, its data padded with a fixed string.
func eventBody(eventType string) []byte {
	head := `{"type":"` + eventType + `","data":{"user_id":"usr_2fd4e1c67a2d28fce","plan":"pro","padding":"`
	tail := `"}}`
	pad := payloadBytes - len(head) - len(tail)
	return []byte(head + strings.Repeat("x", max(pad, 0)) + tail)
}

// batchEvents is the events of one request of the batch scenario, and
// batchProducers its producers: as many batches as one ingest instance
// runs at once (ingest's maxBatchesInFlight); more would only wait.
const batchEvents, batchProducers = 100, 8

// batchBody is a POST /v1/events:batch body of n events, each the
// producers' payload for eventType, without IDs: each is a new event.
func batchBody(eventType string, n int) []byte {
	events := bytes.Repeat(append(eventBody(eventType), ','), n)
	return append(append([]byte(`{"events":[`), events[:len(events)-1]...), "]}"...)
}

// bench is one run: the stack, the sink that receives deliveries, and the
// tenants the scenarios made.
type bench struct {
	cfg         Config
	stack       *devstack.Stack
	api         *devstack.Client
	sink        *sink
	baseline    string // URL of the bare baseline service
	baselinePID int
	log         *slog.Logger

	// Figures later scenarios compare against.
	baselineRate, ceilingRate, pullCeilingRate float64
	// baselineCPU is the bare handler's CPU-µs per request, which the CPU
	// targets are multiples of.
	baselineCPU float64
	// ingestRate and ingestCPU are single posts' events/s and CPU-µs per
	// event, for the batch scenario.
	ingestRate, ingestCPU float64
	e2e                   tenant
}

// tenant is a tenant the bench made, with its API key.
type tenant struct {
	ID, APIKey string
}

// The emulators' names, as Stack.Emulator and bench.startWatch know them.
const pubsubEmulator, firestoreEmulator = "pubsub", "firestore"

// scenario is one entry of the run list.
type scenario struct {
	// slug names it in Config.Scenarios (scripts/bench -scenarios), short
	// to type; it is also the prefix of its CPU profiles, if it takes any.
	slug string
	// name is its Scenario.Name, in the table and the JSON: Run sets it
	// on what the scenario returns.
	name string
	// needs are the slugs of earlier scenarios whose figures its own
	// compare against, or whose tenant it uses.
	needs []string
	// rebased: its CPU targets are multiples of the bare handler's CPU
	// per request, measured again just before it (bench.rebase).
	rebased bool
	run     func(*bench, context.Context) (Scenario, error)
}

// scenarios is the run list, in the order the scenarios run.
var scenarios = []scenario{
	{slug: "baseline", name: "baseline", run: (*bench).runBaseline},
	{slug: "ingest", name: "ingest", rebased: true, run: (*bench).runIngest},
	{slug: "ceiling", name: "push ceiling", run: func(b *bench, ctx context.Context) (Scenario, error) { return b.runCeiling(ctx, false) }},
	{slug: "pullceiling", name: "pull ceiling", run: func(b *bench, ctx context.Context) (Scenario, error) { return b.runCeiling(ctx, true) }},
	{slug: "e2e", name: "end to end", needs: []string{"ceiling"}, rebased: true, run: func(b *bench, ctx context.Context) (Scenario, error) {
		return b.runEndToEnd(ctx, false)
	}},
	{slug: "e2epull", name: "end to end, pull", needs: []string{"ceiling", "pullceiling"}, rebased: true, run: func(b *bench, ctx context.Context) (Scenario, error) {
		return b.runEndToEnd(ctx, true)
	}},
	{slug: "push", name: "dispatcher", rebased: true, run: (*bench).runDirectPush},
	{slug: "fan10", name: "fan-out 10", rebased: true, run: func(b *bench, ctx context.Context) (Scenario, error) { return b.runFanOut(ctx, 10) }},
	{slug: "fan100", name: "fan-out 100", rebased: true, run: func(b *bench, ctx context.Context) (Scenario, error) { return b.runFanOut(ctx, 100) }},
	{slug: "retry", name: "retry", run: (*bench).runRetry},
	{slug: "receiver", name: "receiver", run: (*bench).runReceiver},
	// It sends through the end-to-end scenario's tenant and sink group, and
	// restarts the receiver the receiver scenario started.
	{slug: "cold", name: "cold start", needs: []string{"e2e", "receiver"}, run: (*bench).runColdStart},
	// Last: the records of the events it accepts, many times those of the
	// other scenarios, slow the Firestore emulator's queries (it scans
	// every document it holds for each), the cold start's first delivery
	// among them.
	{slug: "batch", name: "ingest batch", needs: []string{"ingest"}, rebased: true, run: (*bench).runIngestBatch},
}

// ScenarioNames returns the names Config.Scenarios takes, in run order.
func ScenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.slug
	}
	return names
}

// ParseScenarios reads a comma-separated list of scenario names
// (ScenarioNames), as scripts/bench -scenarios takes it, for
// Config.Scenarios; an unknown name is an error that lists the known.
func ParseScenarios(list string) ([]string, error) {
	var names []string
	for n := range strings.SplitSeq(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no scenario in %q; the scenarios are %s", list, strings.Join(ScenarioNames(), ", "))
	}
	if _, err := selectScenarios(names); err != nil {
		return nil, err
	}
	return names, nil
}

// selectScenarios returns the scenarios named, in run order, with those
// they need: the baseline always (the CPU targets are multiples of it),
// and each one's needs (the push ceiling with an end-to-end scenario, and
// the pull ceiling too with end to end by pull, for their % of the
// ceilings; ingest with ingest batch, for the comparison with single
// posts; end to end and the receiver with cold start). No names selects
// them all.
func selectScenarios(names []string) ([]scenario, error) {
	if len(names) == 0 {
		return scenarios, nil
	}
	want := map[string]bool{"baseline": true}
	for _, n := range names {
		if !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.slug == n }) {
			return nil, fmt.Errorf("no scenario %q; the scenarios are %s", n, strings.Join(ScenarioNames(), ", "))
		}
		want[n] = true
	}
	// Needs are earlier in the list, so one pass from its end also
	// brings in what a need needs.
	for i := len(scenarios) - 1; i >= 0; i-- {
		if want[scenarios[i].slug] {
			for _, n := range scenarios[i].needs {
				want[n] = true
			}
		}
	}
	var out []scenario
	for _, s := range scenarios {
		if want[s.slug] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Run starts the local stack, runs the scenarios cfg selects (all by
// default) in order, stops the stack and returns the figures. A scenario
// that fails ends the run.
func Run(ctx context.Context, cfg Config) (_ *Results, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	run, err := selectScenarios(cfg.Scenarios)
	if err != nil {
		return nil, err
	}
	res := &Results{
		Started: time.Now(),
		Quick:   cfg.Quick,
		Machine: thisMachine(),
		Settings: Settings{
			Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(), Producers: cfg.Producers,
			PayloadBytes: payloadBytes, ColdStarts: cfg.ColdStarts, GOMAXPROCS: cfg.GOMAXPROCS,
		},
	}
	b := &bench{cfg: cfg, log: cfg.Log}
	if b.sink, err = startSink(); err != nil {
		return nil, err
	}
	defer b.sink.close()

	b.log.Info("starting the local stack")
	output := cfg.Output
	if output == nil {
		output = io.Discard
	}
	b.stack, err = devstack.StartStack(ctx, devstack.StackConfig{
		ProjectID:     cfg.ProjectID,
		PubSubHost:    cfg.PubSubHost,
		FirestoreHost: cfg.FirestoreHost,
		Output:        output,
		Env:           serviceEnv(cfg),
		Pprof:         cfg.ProfileDir != "",
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		// The stack must go even when ctx is cancelled (Ctrl-C).
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, b.stack.Stop(stopCtx))
	}()
	b.api = &devstack.Client{BaseURL: b.stack.IngestURL}
	stopBaseline, err := b.startBaseline(ctx)
	if err != nil {
		return nil, err
	}
	defer stopBaseline()

	for _, s := range run {
		// What the previous scenario published reaches the dispatcher
		// first (a fan-out's events, for one, may take seconds to be
		// pushed after it), so that it does not load this one.
		qctx, cancel := context.WithTimeout(ctx, drainTimeout)
		err := b.stack.WaitPushesQuiet(qctx, pushesQuiet)
		cancel()
		if err != nil {
			return res, fmt.Errorf("before scenario %s: %w", s.name, err)
		}
		var base Figure
		if s.rebased {
			if base, err = b.rebase(ctx); err != nil {
				return res, fmt.Errorf("before scenario %s: %w", s.name, err)
			}
		}
		b.log.Info("scenario", "name", s.name)
		sc, err := s.run(b, ctx)
		if err != nil {
			return res, fmt.Errorf("scenario %s: %w", s.name, err)
		}
		sc.Name = s.name
		if s.rebased {
			sc.Figures = append(sc.Figures, base)
		}
		res.Scenarios = append(res.Scenarios, sc)
	}
	return res, nil
}

// serviceEnv is the environment every service of the stack (and the
// baseline) gets.
func serviceEnv(cfg Config) []string {
	if cfg.GOMAXPROCS < 1 {
		return nil
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(cfg.GOMAXPROCS)}
}

// startBaseline builds and starts the bare baseline service.
func (b *bench) startBaseline(ctx context.Context) (stop func(), err error) {
	bin := filepath.Join(b.stack.BinDir(), "baseline")
	if err := devstack.Build(ctx, "./internal/bench/baseline", bin); err != nil {
		return nil, err
	}
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := devstack.Start(devstack.Command{Name: "baseline", Path: bin, Env: append(serviceEnv(b.cfg), "PORT="+strconv.Itoa(port))})
	if err != nil {
		return nil, err
	}
	stop = func() { _ = p.Stop(context.Background()) }
	b.baseline = "http://127.0.0.1:" + strconv.Itoa(port)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := devstack.WaitHTTP(wctx, b.baseline+"/healthz"); err != nil {
		stop()
		return nil, fmt.Errorf("baseline service: %w\n%s", err, p.Tail())
	}
	b.baselinePID = p.Pid()
	return stop, nil
}

// newTenant creates a tenant; extra fields (retry_policy…) go into the
// create body.
func (b *bench) newTenant(ctx context.Context, id string, extra map[string]any) (tenant, error) {
	body := map[string]any{"id": id, "name": "bench " + id}
	for k, v := range extra {
		body[k] = v
	}
	var out struct {
		APIKey string `json:"api_key"`
	}
	if err := b.api.Do(ctx, http.MethodPost, "/v1/tenants", b.stack.AdminToken, body, &out); err != nil {
		return tenant{}, fmt.Errorf("create tenant %s: %w", id, err)
	}
	return tenant{ID: id, APIKey: out.APIKey}, nil
}

// addEndpoint creates an endpoint at the sink's path for eventTypes and
// verifies it (the sink answers the challenge).
func (b *bench) addEndpoint(ctx context.Context, t tenant, path string, eventTypes ...string) error {
	id, _, err := b.api.CreateEndpoint(ctx, t.APIKey, t.ID, b.sink.URL+path, eventTypes)
	if err != nil {
		return fmt.Errorf("create endpoint %s: %w", path, err)
	}
	if err := b.api.VerifyEndpoint(ctx, t.APIKey, t.ID, id); err != nil {
		return fmt.Errorf("verify endpoint %s: %w", path, err)
	}
	return nil
}

// send sends one event of the producers' payload as tenant t and returns
// its ID.
func (b *bench) send(ctx context.Context, t tenant, eventType string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := b.api.Do(ctx, http.MethodPost, "/v1/events", t.APIKey, json.RawMessage(eventBody(eventType)), &out); err != nil {
		return "", fmt.Errorf("send %s event: %w", eventType, err)
	}
	return out.ID, nil
}

// producerLoad is the closed-loop load of the bench's producers on ingest,
// as tenant t, with events of eventType.
func (b *bench) producerLoad(t tenant, eventType string) load {
	return load{
		URL:       b.stack.IngestURL + "/v1/events",
		Header:    http.Header{"Authorization": {"Bearer " + t.APIKey}, "Content-Type": {"application/json"}},
		Body:      eventBody(eventType),
		Producers: b.cfg.Producers,
	}
}

// measure runs l for the warm-up (results dropped), then for the duration
// while watching the named processes (stack services and emulators, see
// startWatch; profiling the services that serve a profiler, with
// -profile). The baseline process is not a stack service:
// it is watched through pid. settle, when set, runs after the load and
// before the watch ends (to wait for deliveries whose CPU belongs to the
// window).
func (b *bench) measure(ctx context.Context, scenario string, l load, services []string, pids map[string]int, settle func(loadResult)) (loadResult, map[string]usage, error) {
	return b.measureFor(ctx, b.cfg.Warmup, b.cfg.Duration, scenario, l, services, pids, settle)
}

// measureFor is measure with a warm-up and a duration of its own.
func (b *bench) measureFor(ctx context.Context, warmup, d time.Duration, scenario string, l load, services []string, pids map[string]int, settle func(loadResult)) (loadResult, map[string]usage, error) {
	if warmup > 0 {
		if _, err := l.run(ctx, warmup); err != nil {
			return loadResult{}, nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	w, err := b.startWatch(services, pids)
	if err != nil {
		return loadResult{}, nil, err
	}
	profiled := b.profile(ctx, scenario, d, services...)
	res, err := l.run(ctx, d)
	if err == nil && settle != nil {
		settle(res)
	}
	use, werr := w.stop()
	err = errors.Join(err, werr, profiled())
	return res, use, err
}

// tenantWithEndpoint creates a tenant with one verified endpoint at the
// sink's path for eventType.
func (b *bench) tenantWithEndpoint(ctx context.Context, id, path, eventType string) (tenant, error) {
	t, err := b.newTenant(ctx, id, nil)
	if err != nil {
		return tenant{}, err
	}
	return t, b.addEndpoint(ctx, t, path, eventType)
}

// startWatch watches the named stack services and the extra processes.
// The names may include the emulators' (pubsubEmulator, firestoreEmulator):
// each is watched as a process tree, its launcher and the JVM under it,
// when the stack started it itself; a shared one (the tests') also serves
// others, so it is left out and so are its figures.
func (b *bench) startWatch(services []string, extra map[string]int) (*watch, error) {
	pids, trees := map[string]int{}, map[string]int{}
	for _, n := range services {
		if n == pubsubEmulator || n == firestoreEmulator {
			if e := b.stack.Emulator(n); e != nil {
				trees[n] = e.Pid()
			}
			continue
		}
		pid, err := b.stack.PID(n)
		if err != nil {
			return nil, err
		}
		pids[n] = pid
	}
	for n, pid := range extra {
		pids[n] = pid
	}
	return startWatch(pids, trees)
}
