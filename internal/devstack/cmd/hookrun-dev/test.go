package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
)

func init() {
	register("test", command{
		summary: "run tests (default: go test ./...) against fresh Pub/Sub and Firestore emulators",
		run:     runTest,
	})
}

// emulatorStopTimeout bounds the graceful part of stopping the emulators;
// Process.Stop kills whatever is left after it.
const emulatorStopTimeout = 15 * time.Second

func runTest(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	report := fs.Bool("report", false, "the command's output is go test -json events: show each package as it finishes, the output of failing tests, and the slowest packages at the end")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: hookrun-dev test [-report] [-- command [args...]]

Starts the Pub/Sub and Firestore emulators on free ports, runs the command
(default: go test ./...) with PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST
set, stops the emulators, and exits with the command's status. Emulator logs
go to a temporary directory that is kept and printed when anything fails.

`)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		argv = []string{"go", "test", "./..."}
	}

	logDir, err := os.MkdirTemp("", "hookrun-dev-test-")
	if err != nil {
		return fmt.Errorf("create emulator log dir: %w", err)
	}
	defer func() {
		if err != nil {
			slog.Error("emulator logs kept", "dir", logDir)
			return
		}
		os.RemoveAll(logDir)
	}()

	emus, err := startEmulators(ctx, logDir)
	if err != nil {
		return err
	}
	defer stopEmulators(emus)

	var env []string
	for _, e := range emus {
		env = append(env, e.Env()...)
		slog.Info("emulator ready", "emulator", e.Name, e.HostEnv, e.Host)
	}
	return runChild(ctx, argv, env, *report)
}

// runChild runs argv in the foreground with env added and returns its exit
// status as a childExit error. With report, its stdout is go test -json,
// shown through reportGoTest.
func runChild(ctx context.Context, argv, env []string, report bool) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	var events io.ReadCloser
	if report {
		cmd.Stdout = nil
		var err error
		if events, err = cmd.StdoutPipe(); err != nil {
			return fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
		}
	}
	// A terminal's Ctrl-C reaches the child directly. A SIGTERM sent to
	// hookrun-dev alone (a CI timeout) is passed on as an interrupt, which
	// lets go test report and clean up, and Kill follows if it does not.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	slog.Info("running", "command", strings.Join(argv, " "))
	err := cmd.Start()
	if err == nil && events != nil {
		// Read to the end before Wait, which closes the pipe.
		if rerr := reportGoTest(events, os.Stdout); rerr != nil {
			slog.Error("read go test -json; the rest follows as it is", "error", rerr)
			_, _ = io.Copy(os.Stdout, events)
		}
	}
	if err == nil {
		err = cmd.Wait()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return childExit{argv: argv, err: exitErr}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// childExit forwards a child's failed exit to main's exit code.
type childExit struct {
	argv []string
	err  *exec.ExitError
}

func (c childExit) Error() string { return strings.Join(c.argv, " ") + ": " + c.err.Error() }

func (c childExit) Unwrap() error { return c.err }

// ExitCode is the child's status, or 128+signal as a shell reports a child
// killed by a signal.
func (c childExit) ExitCode() int {
	if ws, ok := c.err.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return c.err.ExitCode()
}

// runningEmulator is an emulator with its log file and a watcher that
// reports a crash while the tests run.
type runningEmulator struct {
	*devstack.Emulator
	log      *os.File
	stopping chan struct{}
}

// startEmulators starts both emulators at once, which saves a JVM start's
// worth of seconds. If either fails, the other is stopped.
func startEmulators(ctx context.Context, logDir string) ([]*runningEmulator, error) {
	starts := []struct {
		name  string
		start func(context.Context, devstack.EmulatorConfig) (*devstack.Emulator, error)
	}{
		{"pubsub", devstack.StartPubSub},
		{"firestore", devstack.StartFirestore},
	}
	running := make([]*runningEmulator, len(starts))
	errs := make([]error, len(starts))
	var wg sync.WaitGroup
	for i, s := range starts {
		wg.Go(func() { running[i], errs[i] = startEmulator(ctx, logDir, s.name, s.start) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stopEmulators(running)
		return nil, err
	}
	return running, nil
}

func startEmulator(ctx context.Context, logDir, name string, start func(context.Context, devstack.EmulatorConfig) (*devstack.Emulator, error)) (*runningEmulator, error) {
	path := filepath.Join(logDir, name+".log")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s emulator log: %w", name, err)
	}
	e, err := start(ctx, devstack.EmulatorConfig{LogTo: f, DataDir: logDir})
	if err != nil {
		f.Close()
		if errors.Is(err, devstack.ErrNotInstalled) {
			return nil, err // it never ran, so the log is empty
		}
		return nil, fmt.Errorf("%w (log: %s)", err, path)
	}
	r := &runningEmulator{Emulator: e, log: f, stopping: make(chan struct{})}
	go func() {
		select {
		case <-e.Done():
			slog.Error("emulator exited while the tests ran", "emulator", name, "error", e.ExitReport(), "log", path)
		case <-r.stopping:
		}
	}()
	return r, nil
}

// stopEmulators stops every emulator in parallel, whatever ctx the caller
// had: after Ctrl-C the emulators must go all the more.
func stopEmulators(emus []*runningEmulator) {
	ctx, cancel := context.WithTimeout(context.Background(), emulatorStopTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range emus {
		if e == nil {
			continue
		}
		wg.Go(func() {
			close(e.stopping)
			if err := e.Stop(ctx); err != nil {
				slog.Error("stop emulator", "emulator", e.Name, "error", err)
			}
			e.log.Close()
		})
	}
	wg.Wait()
}
