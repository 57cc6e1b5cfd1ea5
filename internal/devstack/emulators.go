package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Environment variables the Google Cloud Go clients read to find an
// emulator, each holding "host:port".
const (
	PubSubHostEnv    = "PUBSUB_EMULATOR_HOST"
	FirestoreHostEnv = "FIRESTORE_EMULATOR_HOST"
)

// Environment variables that override where the emulator launchers are.
const (
	PubSubBinaryEnv    = "HOOKRUN_PUBSUB_EMULATOR"
	FirestoreBinaryEnv = "HOOKRUN_FIRESTORE_EMULATOR"
)

// Default launcher paths, as installed by the Google Cloud CLI's Debian
// packages.
const (
	DefaultPubSubBinary    = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
	DefaultFirestoreBinary = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
)

// ErrNotInstalled means an emulator launcher or the Java runtime it needs is
// missing. Tests branch on it: skip locally, fail in CI.
var ErrNotInstalled = errors.New("emulator not installed")

// installHint says what to install; both packages, since a machine that
// lacks one usually lacks the other.
const installHint = "install them with `apt-get install google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator` " +
	"and a Java 11+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"

// JVMOptionsEnv is the variable every JVM reads extra options from; the
// emulators get EmulatorJVMOptions through it, followed by the caller's
// own value, whose options win where both set one.
const JVMOptionsEnv = "JAVA_TOOL_OPTIONS"

// EmulatorJVMOptions are the JVM options the emulators run with.
//
// The emulators live for a test run, a bench run or a dev session, and
// under load their JVMs spent more CPU compiling than serving: in
// `scripts/bench`'s end-to-end scenario, the Firestore emulator's C2
// compiler thread took half a core for minutes after start, more than its
// request threads. C1 alone compiles quickly and reaches steady code within
// seconds; the serial collector spares two cores the default G1's
// threads. Measured on 2 cores (`scripts/bench -scenarios ingest`): the
// emulators' CPU per ingested event fell from about 1.2 ms (Pub/Sub) and
// 0.9 ms (Firestore) to about 0.5 and 0.25 ms, and ingest's events/s
// nearly doubled.
const EmulatorJVMOptions = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

// emulatorEnv is what an emulator's launcher gets added to its
// environment: EmulatorJVMOptions, then whatever options the caller set.
func emulatorEnv() []string {
	opts := EmulatorJVMOptions
	if own := os.Getenv(JVMOptionsEnv); own != "" {
		opts += " " + own
	}
	return []string{JVMOptionsEnv + "=" + opts}
}

// defaultStartTimeout allows for a cold JVM on a small, busy machine; a warm
// start takes two to five seconds.
const defaultStartTimeout = 60 * time.Second

// EmulatorConfig configures one emulator process.
type EmulatorConfig struct {
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// LogTo receives the emulator's output; nil discards it. Its last lines
	// are in the error either way if startup fails.
	LogTo io.Writer
	// DataDir is the emulator's working directory, where a JVM would drop
	// crash dumps; empty means the system temp directory. Neither emulator
	// persists data: every start is empty.
	DataDir string
	// StartTimeout bounds startup; 0 means 60 s.
	StartTimeout time.Duration
}

// Emulator is a running emulator listening on 127.0.0.1.
type Emulator struct {
	// Name is "pubsub" or "firestore".
	Name string
	// Host is the "127.0.0.1:port" clients connect to.
	Host string
	// HostEnv is the variable clients read Host from, e.g. PubSubHostEnv.
	HostEnv string

	proc *Process
}

// Env returns the environment a client process needs to use the emulator,
// e.g. []string{"PUBSUB_EMULATOR_HOST=127.0.0.1:8085"}.
func (e *Emulator) Env() []string { return []string{e.HostEnv + "=" + e.Host} }

// Pid returns the process ID of the emulator's launcher, which may be a
// script whose child is the JVM: its CPU is that of the whole tree.
func (e *Emulator) Pid() int { return e.proc.Pid() }

// Done is closed if the emulator exits; use ExitReport to say why.
func (e *Emulator) Done() <-chan struct{} { return e.proc.Done() }

// ExitReport describes how the emulator exited and its last output.
func (e *Emulator) ExitReport() error { return e.proc.ExitReport() }

// Stop stops the emulator and its JVM; see Process.Stop.
func (e *Emulator) Stop(ctx context.Context) error { return e.proc.Stop(ctx) }

// Pause freezes the emulator (SIGSTOP to its process group): it keeps its
// connections but answers nothing, as a stalled dependency does, so fault
// tests can watch hookrun ride one out. Resume undoes it; a paused
// emulator only stops once resumed or after Stop's grace period.
func (e *Emulator) Pause() { signalGroup(e.proc.Pid(), syscall.SIGSTOP) }

// Resume lets a paused emulator run again (SIGCONT).
func (e *Emulator) Resume() { signalGroup(e.proc.Pid(), syscall.SIGCONT) }

// emulatorKind is what differs between the emulators.
type emulatorKind struct {
	name, binaryEnv, defaultBinary, hostEnv string
	args                                    func(host string, port int) []string
}

var (
	pubsubKind = emulatorKind{
		name: "pubsub", binaryEnv: PubSubBinaryEnv, defaultBinary: DefaultPubSubBinary, hostEnv: PubSubHostEnv,
		args: func(host string, port int) []string {
			return []string{"--host=" + host, "--port=" + strconv.Itoa(port)}
		},
	}
	firestoreKind = emulatorKind{
		name: "firestore", binaryEnv: FirestoreBinaryEnv, defaultBinary: DefaultFirestoreBinary, hostEnv: FirestoreHostEnv,
		args: func(host string, port int) []string {
			return []string{"start", "--host=" + host, "--port=" + strconv.Itoa(port)}
		},
	}
)

// StartPubSub starts Google's Pub/Sub emulator and returns once it serves
// requests. It delivers push subscriptions for real.
func StartPubSub(ctx context.Context, cfg EmulatorConfig) (*Emulator, error) {
	return startEmulator(ctx, pubsubKind, cfg)
}

// StartFirestore starts Google's Firestore emulator (native mode) and
// returns once it serves requests.
func StartFirestore(ctx context.Context, cfg EmulatorConfig) (*Emulator, error) {
	return startEmulator(ctx, firestoreKind, cfg)
}

func startEmulator(ctx context.Context, k emulatorKind, cfg EmulatorConfig) (*Emulator, error) {
	bin, err := findLauncher(k)
	if err != nil {
		return nil, err
	}
	port := cfg.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, fmt.Errorf("start %s emulator: %w", k.name, err)
		}
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = os.TempDir()
	}
	const host = "127.0.0.1" // never a public interface: the emulators have no auth
	proc, err := Start(Command{
		Name:   k.name + " emulator",
		Path:   bin,
		Args:   k.args(host, port),
		Dir:    dir,
		Env:    emulatorEnv(),
		Output: cfg.LogTo,
	})
	if err != nil {
		return nil, err
	}
	e := &Emulator{Name: k.name, Host: net.JoinHostPort(host, strconv.Itoa(port)), HostEnv: k.hostEnv, proc: proc}
	if err := e.waitReady(ctx, cfg.StartTimeout); err != nil {
		// Stop must run even if ctx is cancelled, or the JVM stays behind.
		stopErr := proc.Stop(context.WithoutCancel(ctx))
		return nil, errors.Join(err, stopErr)
	}
	return e, nil
}

// waitReady waits until the emulator accepts connections and answers
// GET / with 200, and fails at once if it exits first.
func (e *Emulator) waitReady(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	defer cancelTimeout()
	go func() {
		select {
		case <-e.proc.Done():
			cancel(e.proc.ExitReport())
		case <-ctx.Done():
		}
	}()
	err := WaitTCP(ctx, e.Host)
	if err == nil {
		err = WaitHTTP(ctx, "http://"+e.Host+"/")
	}
	if err == nil {
		return nil
	}
	select {
	case <-e.proc.Done():
		// The exit explains more than a refused connection does.
		return fmt.Errorf("start %s emulator: %w", e.Name, e.proc.ExitReport())
	default:
	}
	if tail := e.proc.Tail(); tail != "" {
		return fmt.Errorf("start %s emulator: not ready: %w; last output:\n%s", e.Name, err, tail)
	}
	return fmt.Errorf("start %s emulator: not ready: %w", e.Name, err)
}

// findLauncher returns the emulator's launcher script, checking first that
// it and the Java runtime it starts exist.
func findLauncher(k emulatorKind) (string, error) {
	bin, from := os.Getenv(k.binaryEnv), "$"+k.binaryEnv
	if bin == "" {
		bin, from = k.defaultBinary, "default path"
	}
	if err := isExecutable(bin); err != nil {
		return "", fmt.Errorf("%s emulator (%s): %w: %v; %s", k.name, from, ErrNotInstalled, err, installHint)
	}
	if err := findJava(); err != nil {
		return "", fmt.Errorf("%s emulator: %w: %v; %s", k.name, ErrNotInstalled, err, installHint)
	}
	return bin, nil
}

// findJava looks for java the way the launchers do: $JAVA (Firestore's
// launcher), $JAVA_HOME/bin/java (Pub/Sub's), then PATH.
func findJava() error {
	if j := os.Getenv("JAVA"); j != "" {
		if _, err := exec.LookPath(j); err != nil {
			return fmt.Errorf("java from $JAVA: %w", err)
		}
		return nil
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		return isExecutable(filepath.Join(home, "bin", "java"))
	}
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("java: %w", err)
	}
	return nil
}

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// FreePort returns a free port on 127.0.0.1, never one it handed out
// before in this process.
//
// It picks among ports below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), at random, and checks each by
// listening on it. A port from the ephemeral range, which is what the
// kernel gives for port 0, can be taken before the caller binds it by any
// outgoing connection's local end, and the tests make thousands; the
// kernel also offers such a port again once its listener closed, and a
// stack picks its services' ports one after the other before it starts
// them. Another process can still take a port before whoever asked binds
// it; an emulator or service then exits and the caller sees why.
func FreePort() (int, error) {
	lo, hi := quietRange()
	return freePorts.take(func() (net.Listener, error) {
		if lo >= hi {
			return net.Listen("tcp", "127.0.0.1:0")
		}
		return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(lo+rand.IntN(hi-lo)))
	})
}

// quietRange is quietPorts, read once.
var quietRange = sync.OnceValues(quietPorts)

// quietPorts returns the range [lo, hi) FreePort picks from: from 20000 up
// to the ephemeral range's start. An empty range (an unusual ephemeral
// range, or none to read) leaves the choice to the kernel.
func quietPorts() (lo, hi int) {
	const from = 20000
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	start, err := strconv.Atoi(f[0])
	if err != nil || start-from < 1000 {
		return 0, 0
	}
	return from, start
}

// freePorts is the record of the ports FreePort handed out.
var freePorts = portRecord{given: map[int]bool{}}

// maxPortTries bounds how many ports FreePort asks for before it gives up.
const maxPortTries = 100

type portRecord struct {
	mu    sync.Mutex
	given map[int]bool
}

// take returns a port of a listener listen opens that was not given
// before. The listeners of ports given before stay open until it returns,
// so that the kernel offers another.
func (r *portRecord) take(listen func() (net.Listener, error)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lastErr error
	for range maxPortTries {
		l, err := listen()
		if err != nil {
			lastErr = err // taken: try another
			continue
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		if !r.given[port] {
			r.given[port] = true
			return port, nil
		}
	}
	if lastErr != nil {
		return 0, fmt.Errorf("find free port: no free port in %d tries: %w", maxPortTries, lastErr)
	}
	return 0, fmt.Errorf("find free port: only ports handed out before, %d times", maxPortTries)
}

// readyInterval is how often WaitTCP and WaitHTTP try again; every HTTP
// try is a line in an emulator's log, so not much more often.
const readyInterval = 100 * time.Millisecond

// WaitTCP polls until addr accepts a TCP connection or ctx is done.
func WaitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	return poll(ctx, "connect to "+addr, readyInterval, func(ctx context.Context) error {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// serviceReadyInterval is how often a starting service's /healthz is
// tried: a refused loopback connect costs microseconds, and the time to
// healthy is a figure scripts/bench reports, so it must not be rounded up
// to readyInterval.
const serviceReadyInterval = 2 * time.Millisecond

// WaitHTTP polls until a GET of url answers 200 OK or ctx is done.
func WaitHTTP(ctx context.Context, url string) error {
	return waitHTTP(ctx, url, readyInterval)
}

func waitHTTP(ctx context.Context, url string, every time.Duration) error {
	return poll(ctx, "GET "+url, every, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
}

// poll calls try every interval until it succeeds or ctx is done. Each try
// gets at most a second, so one hung attempt cannot eat the deadline.
func poll(ctx context.Context, what string, every time.Duration, try func(context.Context) error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	var last error
	for {
		tryCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := try(tryCtx)
		cancel()
		if err == nil {
			return nil
		}
		// A try cut short by ctx says nothing new; keep the one before.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, context.Cause(ctx), last)
		case <-t.C:
		}
	}
}
