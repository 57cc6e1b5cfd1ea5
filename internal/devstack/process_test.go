package devstack

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer a test can read while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", what, d)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

func TestStopKillsWholeGroup(t *testing.T) {
	tests := []struct {
		name   string
		script string
	}{
		// The leader waits for its child, like the Firestore launcher.
		{"leader waits", `sleep 300 & echo "child=$!"; wait`},
		// The leader ignores SIGTERM, so only the SIGKILL fallback stops it.
		{"leader ignores TERM", `trap '' TERM; sleep 300 & echo "child=$!"; while :; do wait; done`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &syncBuffer{}
			p, err := Start(Command{Name: "group", Path: "sh", Args: []string{"-c", tt.script}, Output: out})
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			var child int
			eventually(t, 5*time.Second, "child pid printed", func() bool {
				_, after, ok := strings.Cut(out.String(), "child=")
				if !ok || !strings.Contains(after, "\n") {
					return false
				}
				child, err = strconv.Atoi(strings.TrimSpace(after))
				return err == nil
			})
			if !ProcessAlive(child) {
				t.Fatalf("child %d not running before Stop", child)
			}
			// A short ctx makes the ignoring leader hit the SIGKILL path
			// quickly instead of after the 10 s grace.
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if err := p.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if got := ProcessAlive(child); got {
				t.Errorf("grandchild %d alive after Stop = %v, want false", child, got)
			}
			if got := ProcessAlive(p.Pid()); got {
				t.Errorf("leader %d alive after Stop = %v, want false", p.Pid(), got)
			}
			select {
			case <-p.Done():
			default:
				t.Errorf("Done not closed after Stop")
			}
			if err := p.Stop(ctx); err != nil {
				t.Errorf("second Stop = %v, want nil", err)
			}
		})
	}
}

func TestEarlyExitIsReported(t *testing.T) {
	p, err := Start(Command{Name: "crasher", Path: "sh", Args: []string{"-c", "echo starting; echo 'bind: address in use' >&2; exit 3"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		p.Stop(context.Background())
		t.Fatal("process did not exit")
	}
	got := p.ExitReport().Error()
	for _, want := range []string{"crasher", "exit status 3", "starting", "bind: address in use"} {
		if !strings.Contains(got, want) {
			t.Errorf("ExitReport() = %q, want it to contain %q", got, want)
		}
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop after exit = %v, want nil", err)
	}
}

func TestStartMissingProgram(t *testing.T) {
	_, err := Start(Command{Name: "nothing", Path: "/nonexistent/program"})
	if err == nil || !strings.Contains(err.Error(), "start nothing") {
		t.Errorf("Start(missing) error = %v, want one naming the process", err)
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		name  string
		write string
		want  string
	}{
		{"empty", "", ""},
		{"few lines", "a\nb\n", "a\nb"},
		{"keeps last lines", strings.Repeat("x\n", 30) + "last\n", strings.Repeat("x\n", tailLines-1) + "last"},
		{"bounded bytes", strings.Repeat("y", 3*tailBytes) + "\nend", strings.Repeat("y", tailBytes-4) + "\nend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b tailBuffer
			b.Write([]byte(tt.write))
			if got := b.lastLines(tailLines); got != tt.want {
				t.Errorf("lastLines() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrefixWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"hello\n"}, "[x] hello\n"},
		{"two lines one write", []string{"a\nb\n"}, "[x] a\n[x] b\n"},
		{"line split across writes", []string{"he", "llo\nwor", "ld\n"}, "[x] hello\n[x] world\n"},
		{"no trailing newline", []string{"a\nb"}, "[x] a\n[x] b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := PrefixWriter(&out, "[x] ")
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
				}
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
		})
	}
}
