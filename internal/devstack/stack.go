package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/cloudtasks"
	"github.com/hookrun/hookrun/internal/emulator"
	ctemu "github.com/hookrun/hookrun/internal/emulator/cloudtasks"
	smemu "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/pubsub"
)

// Topic and subscription names of the local stack, as in production.
const (
	EventsTopic          = "events"
	DeadLettersTopic     = "dead-letters"
	PushDeadLetterTopic  = "events-dead-letter"
	DispatchSubscription = "events-dispatcher"
	// PushDeadLetterSubscription records what the dispatcher could not
	// process.
	PushDeadLetterSubscription = "events-dead-letter-recorder"
	// DeadLettersLocalSubscription is a pull subscription on the
	// dead-letters topic, local only, for a developer to watch the
	// announcements of dead letters (README, "Publish from your own code
	// against the local stack").
	DeadLettersLocalSubscription = "dead-letters-local"
	// TasksQueue and TasksLocation name the retry queue.
	TasksQueue    = "deliveries"
	TasksLocation = "local"
)

// ensureQueue creates the retry queue in the Cloud Tasks emulator. Its own
// retries only cover a dispatcher that is down or answers 5xx; hookrun's
// schedule is made of separate tasks.
func (s *Stack) ensureQueue(ctx context.Context) error {
	sched, err := cloudtasks.New(ctx, cloudtasks.Config{
		ProjectID: s.cfg.ProjectID,
		Location:  TasksLocation,
		Queue:     TasksQueue,
		TargetURL: s.DispatcherURL + "/tasks/deliver",
		Endpoint:  s.tasks.Addr(),
	})
	if err != nil {
		return err
	}
	defer sched.Close()
	return sched.EnsureQueue(ctx, cloudtasks.QueueRetry{MaxAttempts: -1, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second})
}

// StackConfig configures the local stack. Zero ports pick free ones.
type StackConfig struct {
	// ProjectID isolates this stack's data in shared emulators.
	ProjectID string
	// AdminToken of the ingest API; empty generates one.
	AdminToken string

	IngestPort, DispatcherPort, ReceiverPort                     int
	PubSubPort, FirestorePort, SecretManagerPort, CloudTasksPort int
	// The ports of ingest's and the dispatcher's Prometheus endpoints
	// (HOOKRUN_METRICS_PORT).
	IngestMetricsPort, DispatcherMetricsPort int

	// PubSubHost and FirestoreHost use emulators that are already running
	// (the tests' ones) instead of starting new ones.
	PubSubHost, FirestoreHost string

	// BinDir receives the built service binaries; empty means a temp dir.
	BinDir string
	// Prebuilt says BinDir already holds the binaries, built by an
	// earlier StartStack of this process with the same BinDir: tests that
	// start a stack each link the services once, not once per test.
	Prebuilt bool
	// Output receives every process's output, each line prefixed with its
	// name; nil discards it.
	Output io.Writer
	// EmulatorOutput receives the emulators' (verbose) output; nil means
	// Output.
	EmulatorOutput io.Writer
	// Env is added to every service's environment (LOG_LEVEL, say).
	Env []string
	// Pprof serves the profiler of ingest and the dispatcher on a free
	// loopback port each (PprofURL).
	Pprof bool
	// PullEvents makes the events subscription a pull subscription that
	// the dispatcher pulls (HOOKRUN_PULL_SUBSCRIPTION) instead of one
	// that pushes to it; SetPull switches a running stack.
	PullEvents bool
}

// Stack is the running local stack: emulators, ingest and dispatcher. The
// sample receiver is started separately (StartReceiver) because it needs
// the endpoint's signing secret, which exists only once hookrun made it.
type Stack struct {
	cfg           StackConfig
	IngestURL     string
	DispatcherURL string
	// IngestMetricsURL and DispatcherMetricsURL are the services'
	// Prometheus endpoints (…/metrics).
	IngestMetricsURL, DispatcherMetricsURL string
	AdminToken                             string
	// Env is the emulator environment clients of this stack need.
	Env []string

	emulators []*Emulator
	sm        *emulator.Server
	tasks     *emulator.Server
	procs     []*Process
	relay     *relayServer
	binDir    string
	bins      map[string]string
	// services by name, to restart one (the tests kill the dispatcher).
	services map[string]*service
}

type service struct {
	proc  *Process
	port  int
	out   io.Writer
	env   []string
	pprof string // base URL of its profiler, if it serves one
}

// StartStack builds the services and starts emulators and services, ready to
// serve. On error, whatever was started is stopped.
func StartStack(ctx context.Context, cfg StackConfig) (_ *Stack, err error) {
	if cfg.ProjectID == "" {
		cfg.ProjectID = "hookrun-local"
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.EmulatorOutput == nil {
		cfg.EmulatorOutput = cfg.Output
	}
	s := &Stack{cfg: cfg, AdminToken: cfg.AdminToken}
	if s.AdminToken == "" {
		s.AdminToken = randomToken()
	}
	defer func() {
		if err != nil {
			_ = s.Stop(context.WithoutCancel(ctx))
		}
	}()

	built := make(chan error, 1)
	go func() { built <- s.build(ctx) }() // compile while the JVMs boot

	if err := s.startEmulators(ctx); err != nil {
		return nil, err
	}
	if err := <-built; err != nil {
		return nil, err
	}
	if err := s.startServices(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) startEmulators(ctx context.Context) error {
	pubsubHost, firestoreHost := s.cfg.PubSubHost, s.cfg.FirestoreHost
	if pubsubHost == "" {
		e, err := StartPubSub(ctx, EmulatorConfig{Port: s.cfg.PubSubPort, LogTo: PrefixWriter(s.cfg.EmulatorOutput, "pubsub     | ")})
		if err != nil {
			return err
		}
		s.emulators = append(s.emulators, e)
		pubsubHost = e.Host
	}
	if firestoreHost == "" {
		e, err := StartFirestore(ctx, EmulatorConfig{Port: s.cfg.FirestorePort, LogTo: PrefixWriter(s.cfg.EmulatorOutput, "firestore  | ")})
		if err != nil {
			return err
		}
		s.emulators = append(s.emulators, e)
		firestoreHost = e.Host
	}
	sm, err := smemu.Serve(ctx, "127.0.0.1:"+strconv.Itoa(s.cfg.SecretManagerPort))
	if err != nil {
		return fmt.Errorf("start secret manager emulator: %w", err)
	}
	s.sm = sm
	tasks, err := ctemu.Serve(ctx, "127.0.0.1:"+strconv.Itoa(s.cfg.CloudTasksPort))
	if err != nil {
		return fmt.Errorf("start cloud tasks emulator: %w", err)
	}
	s.tasks = tasks
	s.Env = []string{
		PubSubHostEnv + "=" + pubsubHost,
		FirestoreHostEnv + "=" + firestoreHost,
		"HOOKRUN_SECRETMANAGER_ENDPOINT=" + sm.Addr(),
		"HOOKRUN_CLOUDTASKS_ENDPOINT=" + tasks.Addr(),
		"GOOGLE_CLOUD_PROJECT=" + s.cfg.ProjectID,
	}
	return nil
}

// build compiles the three services into BinDir.
func (s *Stack) build(ctx context.Context) error {
	dir := s.cfg.BinDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "hookrun-bin-"); err != nil {
			return err
		}
	}
	s.binDir = dir
	s.bins = map[string]string{}
	for name, pkg := range map[string]string{"ingest": "./run/ingest", "dispatcher": "./run/dispatcher", "receiver": "./functions/receiver/cmd"} {
		out := filepath.Join(dir, name)
		s.bins[name] = out
		if s.cfg.Prebuilt {
			continue
		}
		if err := Build(ctx, pkg, out); err != nil {
			return err
		}
	}
	return nil
}

// Build compiles the main package pkg of the hookrun module (a path such as
// "./run/ingest") into the binary out.
func Build(ctx context.Context, pkg, out string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

func (s *Stack) startServices(ctx context.Context) error {
	ps, err := pubsub.NewAdmin(ctx, s.cfg.ProjectID, emulatorOption(s.Env)...)
	if err != nil {
		return err
	}
	defer ps.Close()
	for _, t := range []string{EventsTopic, DeadLettersTopic, PushDeadLetterTopic} {
		if err := ps.EnsureTopic(ctx, t); err != nil {
			return err
		}
	}
	if err := ps.EnsurePullSubscription(ctx, DeadLettersLocalSubscription, DeadLettersTopic); err != nil {
		return err
	}

	ingestPort, err := portOrFree(s.cfg.IngestPort)
	if err != nil {
		return err
	}
	dispatcherPort, err := portOrFree(s.cfg.DispatcherPort)
	if err != nil {
		return err
	}
	s.DispatcherURL = "http://127.0.0.1:" + strconv.Itoa(dispatcherPort)
	ingestMetrics, err := s.metricsPort(s.cfg.IngestMetricsPort, &s.IngestMetricsURL)
	if err != nil {
		return err
	}
	dispatcherMetrics, err := s.metricsPort(s.cfg.DispatcherMetricsPort, &s.DispatcherMetricsURL)
	if err != nil {
		return err
	}
	if err := s.ensureQueue(ctx); err != nil {
		return err
	}
	// A pushed events subscription pushes through the relay, which
	// numbers each message's pushes (deliveryAttempt) as production
	// Pub/Sub does and the emulator does not. It answers a push in no
	// less time than the emulator waits for one.
	s.relay, err = startPushRelay(s.DispatcherURL, eventsAckDeadline+10*time.Second, PrefixWriter(s.cfg.Output, "relay      | "))
	if err != nil {
		return err
	}
	env := []string{dispatcherMetrics,
		"HOOKRUN_PUSH_AUTH=none",              // the emulators' requests carry no OIDC token
		"HOOKRUN_ALLOW_PRIVATE_NETWORKS=true", // the sample receiver is on loopback
		"HOOKRUN_TASKS_LOCATION=" + TasksLocation,
		"HOOKRUN_TASKS_TARGET_URL=" + s.DispatcherURL + "/tasks/deliver",
	}
	// A dispatcher that pulls needs its subscription as it starts.
	if s.cfg.PullEvents {
		if err := s.ensureEventsSubscription(ctx, ps, true); err != nil {
			return err
		}
		env = append(env, pullEnv)
	}
	if err := s.startService(ctx, "dispatcher", dispatcherPort, env...); err != nil {
		return err
	}
	// Subscribe only once the dispatcher is up, so the first push finds it.
	if !s.cfg.PullEvents {
		if err := s.ensureEventsSubscription(ctx, ps, false); err != nil {
			return err
		}
	}
	// What the events subscription gives up on is recorded, not lost.
	// Pushed directly: without a dead-letter policy of its own, this
	// subscription's pushes carry no deliveryAttempt in production either.
	if err := ps.EnsurePushSubscription(ctx, pubsub.PushSubscription{
		ID:       PushDeadLetterSubscription,
		Topic:    PushDeadLetterTopic,
		Endpoint: s.DispatcherURL + "/pubsub/dead-letter",
	}); err != nil {
		return err
	}
	s.IngestURL = "http://127.0.0.1:" + strconv.Itoa(ingestPort)
	return s.startService(ctx, "ingest", ingestPort, ingestMetrics,
		"HOOKRUN_ADMIN_TOKEN="+s.AdminToken,
		"HOOKRUN_ALLOW_HTTP_ENDPOINTS=true",
		"HOOKRUN_ALLOW_PRIVATE_NETWORKS=true", // challenges reach loopback receivers
		"HOOKRUN_TASKS_LOCATION="+TasksLocation,
		"HOOKRUN_RETIRE_TARGET_URL="+s.DispatcherURL+"/tasks/retire-secret",
	)
}

// eventsAckDeadline is the events subscription's ack deadline.
const eventsAckDeadline = 60 * time.Second

// pullEnv makes the dispatcher pull the events subscription.
const pullEnv = "HOOKRUN_PULL_SUBSCRIPTION=" + DispatchSubscription

// ensureEventsSubscription makes the events subscription push to the
// dispatcher through the relay or, with pull, a pull subscription: with
// the same dead-letter policy either way, as production would have it, so
// that Pub/Sub counts a message's deliveries (deliveryAttempt) both ways.
func (s *Stack) ensureEventsSubscription(ctx context.Context, ps *pubsub.Admin, pull bool) error {
	sub := pubsub.PushSubscription{
		ID:                  DispatchSubscription,
		Topic:               EventsTopic,
		Endpoint:            s.relay.URL + "/pubsub/push",
		AckDeadline:         eventsAckDeadline,
		DeadLetterTopic:     PushDeadLetterTopic,
		MaxDeliveryAttempts: 10,
	}
	if pull {
		sub.Endpoint = ""
	}
	return ps.EnsurePushSubscription(ctx, sub)
}

// SetPull switches the events subscription of a running stack to pull
// (the dispatcher restarted pulling it) or back to push, and restarts the
// dispatcher gracefully (as Restart) even when it is in that mode already.
// The events not yet handled are handled in the new mode.
func (s *Stack) SetPull(ctx context.Context, pull bool) error {
	svc, ok := s.services["dispatcher"]
	if !ok {
		return errors.New("the stack has no dispatcher")
	}
	ps, err := pubsub.NewAdmin(ctx, s.cfg.ProjectID, emulatorOption(s.Env)...)
	if err != nil {
		return err
	}
	defer ps.Close()
	svc.env = slices.DeleteFunc(slices.Clone(svc.env), func(kv string) bool { return kv == pullEnv })
	if pull {
		// Pushes stop before the dispatcher starts pulling.
		if err := s.ensureEventsSubscription(ctx, ps, true); err != nil {
			return err
		}
		svc.env = append(svc.env, pullEnv)
	}
	if _, err := s.Restart(ctx, "dispatcher"); err != nil {
		return err
	}
	s.cfg.PullEvents = pull
	if pull {
		return nil
	}
	// Pushes start once the dispatcher no longer pulls.
	return s.ensureEventsSubscription(ctx, ps, false)
}

// HoldEvents stops the events subscription's pushes to the dispatcher, so
// that a load can be put on ingest alone: on this machine, the emulator's
// pushes and the dispatcher's answers would take CPU from ingest, which in
// production they never share. What is published meanwhile waits in the
// subscription, as for a consumer that is down. release discards it (the
// subscription is deleted and made again, empty) and pushes resume: for
// events that are only a load, not for ones a test expects delivered.
// A stack whose dispatcher pulls cannot hold its events.
func (s *Stack) HoldEvents(ctx context.Context) (release func(context.Context) error, err error) {
	if s.cfg.PullEvents {
		return nil, errors.New("the dispatcher pulls the events subscription: there are no pushes to hold")
	}
	ps, err := pubsub.NewAdmin(ctx, s.cfg.ProjectID, emulatorOption(s.Env)...)
	if err != nil {
		return nil, err
	}
	if err := s.ensureEventsSubscription(ctx, ps, true); err != nil {
		return nil, errors.Join(err, ps.Close())
	}
	return func(ctx context.Context) error {
		defer ps.Close()
		if err := ps.DeleteSubscription(ctx, DispatchSubscription); err != nil {
			return err
		}
		return s.ensureEventsSubscription(ctx, ps, false)
	}, nil
}

// metricsPort picks the port of a service's Prometheus endpoint (port, or
// a free one), sets *url to the endpoint, and returns the service's
// setting for it.
func (s *Stack) metricsPort(port int, url *string) (string, error) {
	port, err := portOrFree(port)
	if err != nil {
		return "", err
	}
	*url = "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"
	return "HOOKRUN_METRICS_PORT=" + strconv.Itoa(port), nil
}

// StartReceiver starts the sample receiver with the endpoint's signing
// secret and returns its URL. Its output goes to the stack's output and to
// also, when not nil, so callers can watch for deliveries.
func (s *Stack) StartReceiver(ctx context.Context, secret string, port int, also io.Writer) (string, error) {
	port, err := portOrFree(port)
	if err != nil {
		return "", err
	}
	out := PrefixWriter(s.cfg.Output, "receiver   | ")
	if also != nil {
		out = io.MultiWriter(out, also)
	}
	if _, err := s.run(ctx, "receiver", port, out, "WEBHOOK_SECRET="+secret); err != nil {
		return "", err
	}
	return "http://127.0.0.1:" + strconv.Itoa(port), nil
}

func (s *Stack) startService(ctx context.Context, name string, port int, env ...string) error {
	_, err := s.run(ctx, name, port, PrefixWriter(s.cfg.Output, fmt.Sprintf("%-10s | ", name)), env...)
	return err
}

// run starts a service and waits until its /healthz answers 200. It returns
// how long that took from just before the process was started: the cold
// start that scripts/bench reports.
func (s *Stack) run(ctx context.Context, name string, port int, out io.Writer, env ...string) (time.Duration, error) {
	if s.services == nil {
		s.services = map[string]*service{}
	}
	svc := &service{port: port, out: out, env: env}
	s.services[name] = svc
	base := append(append([]string{}, s.Env...), "PORT="+strconv.Itoa(port), "HOOKRUN_LISTEN_HOST=127.0.0.1")
	if s.cfg.Pprof && name != "receiver" {
		pp, err := FreePort()
		if err != nil {
			return 0, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(pp)
		svc.pprof = "http://" + addr
		base = append(base, "HOOKRUN_PPROF_ADDR="+addr)
	}
	start := time.Now()
	p, err := Start(Command{
		Name:   name,
		Path:   s.bins[name],
		Env:    append(append(base, s.cfg.Env...), env...),
		Output: out,
	})
	if err != nil {
		return 0, err
	}
	s.procs = append(s.procs, p)
	svc.proc = p
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ready := make(chan error, 1)
	go func() {
		ready <- waitHTTP(wctx, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz", serviceReadyInterval)
	}()
	select {
	case err := <-ready:
		if err != nil {
			return 0, fmt.Errorf("%s did not become healthy: %w\n%s", name, err, p.Tail())
		}
		return time.Since(start), nil
	case <-p.Done():
		return 0, fmt.Errorf("%s exited during startup: %w", name, p.ExitReport())
	}
}

// WaitPushesQuiet waits until the events subscription has pushed nothing
// for quiet: what was published before has reached the dispatcher (the
// emulator pushes a backlog without pause). A benchmark calls it between
// scenarios, so that one's backlog does not run into the next one's
// figures.
func (s *Stack) WaitPushesQuiet(ctx context.Context, quiet time.Duration) error {
	if s.relay == nil {
		return errors.New("the stack has no push relay")
	}
	for {
		wait := quiet - time.Since(s.relay.lastPush())
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pushes still arriving: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// BinDir is where the stack's binaries were built.
func (s *Stack) BinDir() string { return s.binDir }

// GcloudEnv points gcloud's pubsub commands at the stack's Pub/Sub
// emulator and project, without credentials ("NAME=value" pairs): gcloud
// reads no PUBSUB_EMULATOR_HOST.
func (s *Stack) GcloudEnv() []string {
	host := ""
	for _, kv := range s.Env {
		if v, ok := strings.CutPrefix(kv, PubSubHostEnv+"="); ok {
			host = v
		}
	}
	return []string{
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://" + host + "/",
		"CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
		"CLOUDSDK_CORE_PROJECT=" + s.cfg.ProjectID,
	}
}

// PubSubOptions are the client options that reach the stack's Pub/Sub
// emulator.
func (s *Stack) PubSubOptions() []option.ClientOption { return emulatorOption(s.Env) }

// PprofURL is the base URL of the named service's profiler
// (http://127.0.0.1:port, serving /debug/pprof/), or "" when
// StackConfig.Pprof is off.
func (s *Stack) PprofURL(name string) string {
	if svc, ok := s.services[name]; ok {
		return svc.pprof
	}
	return ""
}

// PID returns the process ID of the named service ("ingest", "dispatcher",
// "receiver"), for reading its CPU time and memory from /proc.
func (s *Stack) PID(name string) (int, error) {
	svc, ok := s.services[name]
	if !ok {
		return 0, fmt.Errorf("no service %q", name)
	}
	return svc.proc.Pid(), nil
}

// Crashed returns a channel that yields the first process of the stack that
// exits on its own.
func (s *Stack) Crashed() <-chan error {
	ch := make(chan error, 1)
	for _, p := range s.procs {
		go func() { <-p.Done(); ch <- p.ExitReport() }()
	}
	for _, e := range s.emulators {
		go func() { <-e.Done(); ch <- e.ExitReport() }()
	}
	return ch
}

// Stop stops services first, then emulators, and leaves no process behind.
func (s *Stack) Stop(ctx context.Context) error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		errs = append(errs, s.procs[i].Stop(ctx))
	}
	if s.relay != nil {
		errs = append(errs, s.relay.Close())
	}
	if s.sm != nil {
		errs = append(errs, s.sm.Close())
	}
	if s.tasks != nil {
		errs = append(errs, s.tasks.Close())
	}
	for _, e := range s.emulators {
		errs = append(errs, e.Stop(ctx))
	}
	return errors.Join(errs...)
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the hookrun module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

func portOrFree(p int) (int, error) {
	if p != 0 {
		return p, nil
	}
	return FreePort()
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "hkr-admin-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// emulatorOption points a Pub/Sub client at the stack's emulator without
// relying on this process's own PUBSUB_EMULATOR_HOST.
func emulatorOption(env []string) []option.ClientOption {
	for _, kv := range env {
		if host, ok := strings.CutPrefix(kv, PubSubHostEnv+"="); ok {
			return gcpcall.LocalEndpoint(host)
		}
	}
	return nil
}

// KillAndRestart kills a service with SIGKILL, as a crash or an OOM would,
// and starts it again on the same port with the same configuration.
func (s *Stack) KillAndRestart(ctx context.Context, name string) error {
	if err := s.Kill(ctx, name); err != nil {
		return err
	}
	return s.StartService(ctx, name)
}

// Kill kills a service with SIGKILL and waits until it is gone, leaving it
// down: a test can then act while it is (send events that queue up, change
// an endpoint) before StartService brings it back.
func (s *Stack) Kill(ctx context.Context, name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("no service %q", name)
	}
	signalGroup(svc.proc.Pid(), syscall.SIGKILL)
	select {
	case <-svc.proc.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartService starts a service that was killed (Kill) again, on the same
// port with the same configuration, and waits until it is healthy.
func (s *Stack) StartService(ctx context.Context, name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("no service %q", name)
	}
	_, err := s.run(ctx, name, svc.port, svc.out, svc.env...)
	return err
}

// Emulator returns the emulator named "pubsub" or "firestore" that the
// stack started itself, or nil when it uses a shared one (PubSubHost,
// FirestoreHost): only its own may be paused without disturbing others.
func (s *Stack) Emulator(name string) *Emulator {
	for _, e := range s.emulators {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Restart stops a service as Cloud Run scales one in (SIGTERM, graceful
// shutdown) and starts a fresh process on the same port with the same
// configuration. It returns the new process's time from start to its first
// 200 on /healthz.
func (s *Stack) Restart(ctx context.Context, name string) (time.Duration, error) {
	svc, ok := s.services[name]
	if !ok {
		return 0, fmt.Errorf("no service %q", name)
	}
	if err := svc.proc.Stop(ctx); err != nil {
		return 0, fmt.Errorf("stop %s: %w", name, err)
	}
	return s.run(ctx, name, svc.port, svc.out, svc.env...)
}
