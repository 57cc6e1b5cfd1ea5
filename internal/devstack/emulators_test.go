package devstack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
)

func TestStartEmulators(t *testing.T) {
	tests := []struct {
		name    string
		start   func(context.Context, EmulatorConfig) (*Emulator, error)
		hostEnv string
	}{
		{"pubsub", StartPubSub, PubSubHostEnv},
		{"firestore", StartFirestore, FirestoreHostEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			log := &syncBuffer{}
			e, err := tt.start(ctx, EmulatorConfig{LogTo: log, DataDir: t.TempDir()})
			if errors.Is(err, ErrNotInstalled) && !testenv.InCI() {
				t.Skipf("emulator not installed: %v", err)
			}
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			stopped := false
			defer func() {
				if !stopped {
					e.Stop(context.Background())
				}
			}()

			if got, wantPrefix := e.Host, "127.0.0.1:"; !strings.HasPrefix(got, wantPrefix) {
				t.Errorf("Host = %q, want prefix %q", got, wantPrefix)
			}
			if got, want := strings.Join(e.Env(), " "), tt.hostEnv+"="+e.Host; got != want {
				t.Errorf("Env() = %q, want %q", got, want)
			}
			if err := WaitHTTP(ctx, "http://"+e.Host+"/"); err != nil {
				t.Errorf("GET / after start: %v", err)
			}
			// The JVM says which options it picked up from the
			// environment: the emulators' own (EmulatorJVMOptions).
			if want := "Picked up " + JVMOptionsEnv + ": " + EmulatorJVMOptions; !strings.Contains(log.String(), want) {
				t.Errorf("emulator output lacks %q: its JVM did not get the emulators' options", want)
			}
			pid := e.proc.Pid()

			if err := e.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			stopped = true
			if groupAlive(pid) {
				t.Errorf("process group %d alive after Stop, want gone", pid)
			}
			if c, err := net.DialTimeout("tcp", e.Host, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after Stop", e.Host)
			}
			if t.Failed() {
				t.Logf("emulator output:\n%s", log.String())
			}
		})
	}
}

func TestEmulatorJVMOptionsKeepTheCallers(t *testing.T) {
	t.Setenv(JVMOptionsEnv, "")
	if got, want := emulatorEnv(), []string{JVMOptionsEnv + "=" + EmulatorJVMOptions}; !slices.Equal(got, want) {
		t.Errorf("emulatorEnv() = %q, want %q", got, want)
	}
	// The caller's options come last, so the JVM lets them win (here: C2
	// back on).
	t.Setenv(JVMOptionsEnv, "-XX:TieredStopAtLevel=4")
	if got, want := emulatorEnv(), []string{JVMOptionsEnv + "=" + EmulatorJVMOptions + " -XX:TieredStopAtLevel=4"}; !slices.Equal(got, want) {
		t.Errorf("emulatorEnv() with the caller's options = %q, want %q", got, want)
	}
}

func TestStartEmulatorNotInstalled(t *testing.T) {
	t.Setenv(PubSubBinaryEnv, filepath.Join(t.TempDir(), "missing"))
	_, err := StartPubSub(context.Background(), EmulatorConfig{})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("StartPubSub() error = %v, want ErrNotInstalled", err)
	}
	for _, want := range []string{PubSubBinaryEnv, "apt-get install google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator", "Java"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStartEmulatorJavaMissing(t *testing.T) {
	t.Setenv(FirestoreBinaryEnv, fakeLauncher(t, "exit 0"))
	t.Setenv("JAVA", filepath.Join(t.TempDir(), "no-java"))
	_, err := StartFirestore(context.Background(), EmulatorConfig{})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "java") {
		t.Fatalf("StartFirestore() error = %v, want ErrNotInstalled naming java", err)
	}
}

func TestStartEmulatorCrashIsReported(t *testing.T) {
	t.Setenv(PubSubBinaryEnv, fakeLauncher(t, `echo "Exception: port $2 already in use" >&2; exit 1`))
	t.Setenv("JAVA", "sh") // the fake needs no JVM; any executable satisfies the check
	start := time.Now()
	_, err := StartPubSub(context.Background(), EmulatorConfig{})
	if err == nil {
		t.Fatal("StartPubSub(crashing launcher) = nil error, want the crash")
	}
	for _, want := range []string{"pubsub emulator", "exit status 1", "already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Failing fast, not after the 60 s start timeout.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("crash reported after %v, want well under the start timeout", d)
	}
}

// fakeLauncher writes an executable shell script standing in for an
// emulator launcher.
func fakeLauncher(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "launcher")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatalf("write fake launcher: %v", err)
	}
	return path
}

func TestWaitTCPAndHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitTCP(ctx, srv.Listener.Addr().String()); err != nil {
		t.Errorf("WaitTCP(listening) = %v, want nil", err)
	}
	if err := WaitHTTP(ctx, srv.URL+"/"); err != nil {
		t.Errorf("WaitHTTP(200) = %v, want nil", err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	if err := WaitHTTP(short, srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("WaitHTTP(404) = %v, want a timeout naming the status", err)
	}

	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	closed := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	short2, cancelShort2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort2()
	if err := WaitTCP(short2, closed); err == nil {
		t.Errorf("WaitTCP(closed port) = nil, want an error")
	}
}

// fakeListener is a listener on a given port, for portRecord.take.
type fakeListener struct {
	net.Listener
	port   int
	closed *int
}

func (l fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.port} }
func (l fakeListener) Close() error   { *l.closed++; return nil }

func TestFreePortNeverGivesAPortTwice(t *testing.T) {
	// The kernel offers a port again once its listener closed: the
	// stack asks for its services' ports one after the other.
	offers := []int{5000, 5000, 5000, 5001}
	closed := 0
	listen := func() (net.Listener, error) {
		p := offers[0]
		offers = offers[1:]
		return fakeListener{port: p, closed: &closed}, nil
	}
	r := portRecord{given: map[int]bool{}}
	var got []int
	for range 2 {
		p, err := r.take(listen)
		if err != nil {
			t.Fatalf("take: %v", err)
		}
		got = append(got, p)
	}
	if want := []int{5000, 5001}; !slices.Equal(got, want) {
		t.Errorf("ports = %v, want %v", got, want)
	}
	if closed != 4 {
		t.Errorf("%d listeners closed, want all 4", closed)
	}

	// Only ports given before: an error, not a loop without end.
	r = portRecord{given: map[int]bool{5000: true}}
	n := 0
	_, err := r.take(func() (net.Listener, error) { n++; return fakeListener{port: 5000, closed: &closed}, nil })
	if err == nil || n != maxPortTries {
		t.Errorf("take with only old offers: error %v after %d offers, want an error after %d", err, n, maxPortTries)
	}

	// A port taken meanwhile: the next one.
	r = portRecord{given: map[int]bool{}}
	taken := true
	p, err := r.take(func() (net.Listener, error) {
		if taken {
			taken = false
			return nil, errors.New("bind: address already in use")
		}
		return fakeListener{port: 5002, closed: &closed}, nil
	})
	if err != nil || p != 5002 {
		t.Errorf("take after a taken port = %d, %v; want 5002", p, err)
	}

	// The real ones: distinct, and below the ephemeral range, where no
	// outgoing connection takes them.
	lo, hi := quietPorts()
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort()
		if err != nil {
			t.Fatalf("FreePort: %v", err)
		}
		if seen[p] {
			t.Errorf("FreePort gave %d twice", p)
		}
		seen[p] = true
		if hi > lo && (p < lo || p >= hi) {
			t.Errorf("FreePort = %d, want it in [%d, %d), below the ephemeral range", p, lo, hi)
		}
	}
}
