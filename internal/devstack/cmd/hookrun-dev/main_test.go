package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
)

// runAsCommand makes the test binary hookrun-dev itself when set, so the
// tests run the real main, exit codes and all, without building it.
const runAsCommand = "HOOKRUN_DEV_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(runAsCommand) == "1" {
		os.Args = append([]string{"hookrun-dev"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// hookrunDev runs hookrun-dev with args in an empty directory with an empty
// TMPDIR, and returns its stdout, stderr and exit code.
func hookrunDev(t *testing.T, args ...string) (stdout, stderr string, code int, cwd, tmp string) {
	t.Helper()
	cwd, tmp = t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), runAsCommand+"=1", "TMPDIR="+tmp)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("hookrun-dev %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code, cwd, tmp
}

// TestHelpAnswersWithoutSideEffects asks every subcommand for help in each
// way and checks the answer is on stdout with status 0, and that nothing
// was started or written (test would make its emulators' log directory in
// TMPDIR, up its .bin/logs in the working directory).
func TestHelpAnswersWithoutSideEffects(t *testing.T) {
	type helpCase struct {
		args []string
		want string // how stdout starts
	}
	var cases []helpCase
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		cases = append(cases, helpCase{args, "usage: hookrun-dev [-json] <command>"})
	}
	for name := range commands {
		for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}} {
			cases = append(cases, helpCase{args, "usage: hookrun-dev " + name})
		}
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code, cwd, tmp := hookrunDev(t, c.args...)
			if code != 0 {
				t.Errorf("exit code %d, want 0; stderr:\n%s", code, stderr)
			}
			if !strings.HasPrefix(stdout, c.want) {
				t.Errorf("stdout does not start with %q:\n%s", c.want, stdout)
			}
			if stderr != "" {
				t.Errorf("stderr, want none:\n%s", stderr)
			}
			for _, dir := range []string{cwd, tmp} {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Errorf("left %d entries in %s", len(entries), dir)
				}
			}
		})
	}
}

func TestMistakesGoToStderr(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"-nope"}, {"test", "-nope"}, {"up", "extra"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code, _, _ := hookrunDev(t, args...)
			if code == 0 {
				t.Errorf("exit code 0, want a failure")
			}
			if stdout != "" {
				t.Errorf("stdout, want none:\n%s", stdout)
			}
			if stderr == "" {
				t.Error("stderr is empty, want the mistake")
			}
		})
	}
}

// TestPortInUseNamesItsVariable holds a port and starts the stack with one
// of its ports set to it: the answer names the variable to change, before
// anything is built or started.
func TestPortInUseNamesItsVariable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	for _, p := range stackPorts {
		t.Run(p.env, func(t *testing.T) {
			env := map[string]string{p.env: strconv.Itoa(busy)}
			// Every other port is a free one, so only the held one is busy.
			for _, q := range stackPorts {
				if q.env != p.env {
					env[q.env] = strconv.Itoa(freePort(t))
				}
			}
			ports, err := readPorts(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			err = checkPortsFree(ports)
			if err == nil {
				t.Fatalf("port %d is held, but checkPortsFree found every port free", busy)
			}
			for _, want := range []string{p.env, strconv.Itoa(busy), p.what} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			for _, q := range stackPorts {
				if q.env != p.env && strings.Contains(err.Error(), q.env) {
					t.Errorf("error %q names %s, whose port is free", err, q.env)
				}
			}
		})
	}
	t.Run("whole command", func(t *testing.T) {
		t.Setenv("HOOKRUN_PUBSUB_PORT", strconv.Itoa(busy))
		for _, q := range stackPorts {
			if q.env != "HOOKRUN_PUBSUB_PORT" {
				t.Setenv(q.env, strconv.Itoa(freePort(t)))
			}
		}
		// Were the check to miss, the start would fail fast here rather
		// than start anything: no emulator, no module to build.
		t.Setenv("HOOKRUN_PUBSUB_EMULATOR", filepath.Join(t.TempDir(), "none"))
		_, stderr, code, cwd, _ := hookrunDev(t, "up")
		if code == 0 || !strings.Contains(stderr, "HOOKRUN_PUBSUB_PORT") {
			t.Errorf("up with a busy HOOKRUN_PUBSUB_PORT: exit %d, stderr:\n%s\nwant a failure naming HOOKRUN_PUBSUB_PORT", code, stderr)
		}
		if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
			t.Errorf("up made %d entries in its working directory before checking its ports", len(entries))
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestExportLinesPaste runs the banner's emulator settings through a shell
// and checks the shell then holds each setting as it was.
func TestExportLinesPaste(t *testing.T) {
	env := []string{
		"PUBSUB_EMULATOR_HOST=127.0.0.1:8085",
		"FIRESTORE_EMULATOR_HOST=127.0.0.1:8086",
		"GOOGLE_CLOUD_PROJECT=hookrun-local",
		"ODD=it's a value with spaces; and $dollars",
	}
	lines := exportLines(env)
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "export ") {
			t.Errorf("line %q is not an export line", l)
		}
	}
	if !strings.Contains(lines, "export PUBSUB_EMULATOR_HOST=127.0.0.1:8085\n") {
		t.Errorf("plain values are quoted or changed:\n%s", lines)
	}
	script := lines + "\nenv\n"
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash ran the export lines with %v:\n%s", err, lines)
	}
	got := strings.Split(string(out), "\n")
	for _, kv := range env {
		found := false
		for _, g := range got {
			found = found || g == kv
		}
		if !found {
			t.Errorf("after pasting, the shell lacks %q; the lines were:\n%s", kv, lines)
		}
	}
}

// TestScriptsListWhatTheCommandsTake checks the usage the scripts print
// without building hookrun-dev agrees with what hookrun-dev takes: every
// port variable of up in scripts/dev (and the README's table), every flag
// of bench in scripts/bench.
func TestScriptsListWhatTheCommandsTake(t *testing.T) {
	root := testenv.RepoRoot(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dev, readme := read("scripts/dev"), read("README.md")
	for _, p := range stackPorts {
		line := regexp.MustCompile(`(?m)^.*\b` + p.env + `\b.*$`)
		for name, text := range map[string]string{"scripts/dev": dev, "README.md": readme} {
			l := line.FindString(text)
			if l == "" || !strings.Contains(l, strconv.Itoa(p.def)) {
				t.Errorf("%s has no line with %s and its default %d (got %q)", name, p.env, p.def, l)
			}
		}
	}

	stdout, _, code, _, _ := hookrunDev(t, "bench", "-h")
	if code != 0 {
		t.Fatalf("bench -h: exit %d", code)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(stdout, -1)
	if len(flags) == 0 {
		t.Fatalf("bench -h lists no flags:\n%s", stdout)
	}
	bench := read("scripts/bench")
	for _, f := range flags {
		if !regexp.MustCompile(`(?m)^#\s+-` + f[1] + `\b`).MatchString(bench) {
			t.Errorf("scripts/bench's usage does not describe -%s", f[1])
		}
	}
}
