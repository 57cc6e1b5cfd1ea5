// Package devstack runs the local processes hookrun's development stack and
// tests need, chiefly Google's Pub/Sub and Firestore emulators, and makes sure
// none of them outlives its caller.
//
// The emulators' launcher scripts fork a JVM instead of exec'ing it, so
// killing the launcher alone leaves the JVM behind. Every process here runs in
// its own process group and is stopped as a group.
package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// stopGrace is how long Stop lets a group shut down after SIGTERM
	// before it sends SIGKILL. A JVM usually needs well under a second.
	stopGrace = 10 * time.Second
	// killWait bounds the wait for a group to vanish after SIGKILL, which
	// cannot be ignored, so only a stuck kernel makes it expire.
	killWait = 5 * time.Second
	// pollInterval is how often Stop checks whether a group is gone.
	pollInterval = 50 * time.Millisecond
	// tailBytes is how much recent output a Process keeps for error reports.
	tailBytes = 8 << 10
	// tailLines is how many lines of that output an error report shows.
	tailLines = 20
)

// Command describes a child process to start.
type Command struct {
	// Name labels the process in errors, e.g. "pubsub emulator".
	Name string
	// Path is the program to run; it is looked up in PATH if it has no slash.
	Path string
	// Args are the arguments after the program name.
	Args []string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Env is added to the caller's environment; later entries win.
	Env []string
	// Output receives the process's stdout and stderr; nil discards them.
	Output io.Writer
}

// Process is a child process running as the leader of its own process group.
// All its methods are safe for concurrent use.
type Process struct {
	name string
	cmd  *exec.Cmd
	pgid int
	tail *tailBuffer
	done chan struct{}
	err  error // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts c in a new process group. The leader gets SIGKILL when its
// parent dies, so a crashed caller does not leave it running; its own
// children (a launcher's JVM) are only reached by Stop. Strictly, the kernel
// watches the OS thread that started the leader, which Go ends only for a
// goroutine that exits while locked to its thread.
func Start(c Command) (*Process, error) {
	name := c.Name
	if name == "" {
		name = filepath.Base(c.Path)
	}
	tail := &tailBuffer{}
	out := io.Writer(tail)
	if c.Output != nil {
		out = io.MultiWriter(c.Output, tail)
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	// One writer value for both streams: exec then copies them through a
	// single pipe, so lines from stdout and stderr do not interleave mid-line.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A grandchild that survives the leader keeps the output pipe open;
	// without a bound, Wait (and so Done) would hang until it exits.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, pgid: cmd.Process.Pid, tail: tail, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the leader's process ID, which is also the group ID.
func (p *Process) Pid() int { return p.pgid }

// Done is closed when the leader has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns how the leader exited once Done is closed, nil before.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Tail returns the last lines the process wrote, for error reports.
func (p *Process) Tail() string { return p.tail.lastLines(tailLines) }

// ExitReport describes an exit the caller did not ask for: how the leader
// exited and what it last said. Call it after Done is closed.
func (p *Process) ExitReport() error {
	status := "exited"
	if err := p.Err(); err != nil {
		status = err.Error()
	}
	tail := p.Tail()
	if tail == "" {
		return fmt.Errorf("%s exited unexpectedly (%s) without output", p.name, status)
	}
	return fmt.Errorf("%s exited unexpectedly (%s); last output:\n%s", p.name, status, tail)
}

// Stop sends SIGTERM to the whole group, waits until every member is gone,
// and sends SIGKILL when the group takes longer than ctx allows or 10 s.
// Stop is idempotent and also cleans up after a leader that already exited,
// because its children may still run. It returns an error only if members
// are still alive after SIGKILL.
func (p *Process) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

func (p *Process) stop(ctx context.Context) error {
	select {
	case <-p.done:
		// Once the group is empty its ID may be reused by a stranger
		// that must not get our signals.
		if !groupAlive(p.pgid) {
			return nil
		}
	default:
	}
	graceCtx, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	p.stopChildren(graceCtx)
	signalGroup(p.pgid, syscall.SIGTERM)
	if p.waitGone(graceCtx) {
		return nil
	}
	signalGroup(p.pgid, syscall.SIGKILL)
	// SIGKILL needs no cooperation, so this wait ignores ctx: returning
	// early would be the one way to leave a JVM behind.
	killCtx, cancelKill := context.WithTimeout(context.Background(), killWait)
	defer cancelKill()
	if p.waitGone(killCtx) {
		return nil
	}
	return fmt.Errorf("stop %s: process group %d still alive after SIGKILL", p.name, p.pgid)
}

// stopChildren sends SIGTERM to the group's members other than the leader
// and waits until they are gone or ctx is done. Stopping a launcher's JVM
// before the launcher lets the launcher reap it; signalled together, the
// launcher may die first and orphan the JVM, which stays a zombie under an
// init that does not reap, as in many containers.
func (p *Process) stopChildren(ctx context.Context) {
	children := slices.DeleteFunc(groupMembers(p.pgid), func(pid int) bool { return pid == p.pgid })
	if len(children) == 0 {
		return
	}
	for _, pid := range children {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for slices.ContainsFunc(children, ProcessAlive) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// waitGone polls until the leader is reaped and no other group member is
// alive, or ctx is done.
func (p *Process) waitGone(ctx context.Context) bool {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	done := p.done // nil once the leader is reaped, so select stops firing on it
	for {
		select {
		case <-ctx.Done():
			return false
		case <-done:
			done = nil
		case <-t.C:
		}
		if done == nil && !groupAlive(p.pgid) {
			return true
		}
	}
}

// signalGroup signals every member of group pgid. ESRCH only means the
// group is already gone, which is what the caller wants.
func signalGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// groupAlive reports whether group pgid has a member that is not a zombie.
// kill(-pgid, 0) alone cannot tell: an orphan whose parent died first is a
// zombie until init reaps it, and some container inits never do.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return true // cannot look closer; trust kill, which found members
	}
	return len(groupMembers(pgid)) > 0
}

// groupMembers lists the processes in group pgid that are not zombies.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, pg, ok := procState(pid); ok && pg == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procState reads a process's state letter and process group from
// /proc/PID/stat. The command name may contain spaces and parentheses, so
// fields are counted from the last ')'.
func procState(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After ')': state ppid pgrp ...
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}

// ProcessAlive reports whether pid names a running process, counting a
// zombie as gone because it holds no resources but a table entry.
func ProcessAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, _, ok := procState(pid)
	return !ok || (state != 'Z' && state != 'X')
}

// PrefixWriter returns a writer that starts every line written to w with
// prefix, so several processes can share one terminal and stay readable.
// Each Write becomes one Write on w, which keeps lines whole on a shared
// terminal as long as processes write whole lines.
func PrefixWriter(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte(prefix), atStart: true}
}

type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  []byte
	atStart bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	var out []byte
	for len(b) > 0 {
		if p.atStart {
			out = append(out, p.prefix...)
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out, b, p.atStart = append(out, b...), nil, false
			break
		}
		out, b, p.atStart = append(out, b[:i+1]...), b[i+1:], true
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}

// tailBuffer keeps the most recent output of a process.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	s := strings.TrimRight(string(t.buf), "\n")
	t.mu.Unlock()
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
