package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run is one in-process run of the command line.
type runResult struct {
	code           int
	stdout, stderr string
}

// testEnv is an environment with its own config directory and the given
// variables, stdin not a terminal.
type testEnv struct {
	configDir string
	vars      map[string]string
}

func newTestEnv(t *testing.T, vars ...string) *testEnv {
	t.Helper()
	e := &testEnv{configDir: t.TempDir(), vars: map[string]string{}}
	for i := 0; i+1 < len(vars); i += 2 {
		e.vars[vars[i]] = vars[i+1]
	}
	return e
}

func (e *testEnv) run(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{
		Stdin:     strings.NewReader(stdin),
		Stdout:    &out,
		Stderr:    &errOut,
		Getenv:    func(k string) string { return e.vars[k] },
		ConfigDir: e.configDir,
	})
	return runResult{code, out.String(), errOut.String()}
}

// must runs args and stops the test unless they exit 0.
func (e *testEnv) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := e.run(t, stdin, args...)
	if r.code != ExitOK {
		t.Fatalf("hookrun %s: exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func TestUsageErrorsExit2(t *testing.T) {
	e := newTestEnv(t)
	for _, args := range [][]string{
		{"nope"},
		{"--no-such-flag"},
		{"-o", "yaml", "logout"},
		{"login"},
		{"login", "--url", "ftp://example.com"},
		{"login", "extra-arg", "--url", "http://example.com"},
		{"completion", "tcsh"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := e.run(t, "", args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d (usage); stderr: %s", r.code, ExitUsage, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "hookrun: ") {
				t.Errorf("stderr %q, want it to start with \"hookrun: \"", r.stderr)
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	e := newTestEnv(t)
	for shell, want := range map[string]string{
		"bash":       "__start_hookrun",
		"zsh":        "#compdef hookrun",
		"fish":       "complete -c hookrun",
		"powershell": "Register-ArgumentCompleter",
	} {
		t.Run(shell, func(t *testing.T) {
			out := e.must(t, "", "completion", shell)
			if !strings.Contains(out, want) {
				t.Errorf("completion %s: output lacks %q:\n%.300s", shell, want, out)
			}
		})
	}
	// The scripts call back into hookrun for candidates: the commands and
	// the -o values must come back.
	if out := e.must(t, "", "__complete", ""); !strings.Contains(out, "login") {
		t.Errorf("__complete \"\": %q lacks the login command", out)
	}
	if out := e.must(t, "", "__complete", "-o", ""); !strings.Contains(out, "ndjson") {
		t.Errorf("__complete -o \"\": %q lacks ndjson", out)
	}
}

func TestLoginSavesTheKeyForTheUserOnly(t *testing.T) {
	e := newTestEnv(t)
	const key = "hkr_secretsecretsecret"
	r := e.run(t, key+"\n", "login", "--url", "http://api.example/", "--tenant", "acme", "--key-stdin", "--no-verify")
	if r.code != ExitOK {
		t.Fatalf("login: exit %d; stderr %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Errorf("login wrote the key: stdout %q stderr %q", r.stdout, r.stderr)
	}
	path := filepath.Join(e.configDir, "config.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("config file mode %v, want 0600", perm)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Profiles["default"], (Profile{URL: "http://api.example", Key: key, Tenant: "acme"}); got != want {
		t.Errorf("saved profile %+v, want %+v", got, want)
	}

	// A second profile leaves the first alone; logout removes it again.
	e.must(t, "hkr_other\n", "login", "--profile", "staging", "--url", "https://staging.example", "--no-verify")
	if cfg, _ = loadConfig(path); len(cfg.Profiles) != 2 || cfg.Profiles["default"].Key != key {
		t.Errorf("profiles after a second login: %+v", cfg.Profiles)
	}
	e.must(t, "", "logout", "--profile", "staging")
	if r := e.run(t, "", "logout", "--profile", "staging"); r.code != ExitNotFound {
		t.Errorf("second logout: exit %d, want %d", r.code, ExitNotFound)
	}
	if r := e.run(t, "\n", "login", "--url", "http://api.example", "--no-verify"); r.code != ExitUsage {
		t.Errorf("login with an empty key: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestResolvePrecedence(t *testing.T) {
	e := newTestEnv(t)
	e.must(t, "saved-key\n", "login", "--url", "http://saved.example", "--tenant", "saved", "--no-verify")
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		flags globalFlags
		want  credentials
	}{
		{"saved", nil, globalFlags{}, credentials{"default", "http://saved.example", "saved-key", "saved"}},
		{"env over saved", map[string]string{envURL: "http://env.example/", envKey: "env-key", envTenant: "envt"}, globalFlags{},
			credentials{"default", "http://env.example", "env-key", "envt"}},
		{"flags over env", map[string]string{envURL: "http://env.example", envTenant: "envt"}, globalFlags{url: "http://flag.example", tenant: "flagt"},
			credentials{"default", "http://flag.example", "saved-key", "flagt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{env: Env{ConfigDir: e.configDir, Getenv: func(k string) string { return tc.vars[k] }}, flags: tc.flags}
			got, err := a.resolve()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("resolve() = %+v, want %+v", got, tc.want)
			}
		})
	}
	a := &app{env: Env{ConfigDir: t.TempDir(), Getenv: func(string) string { return "" }}}
	if _, err := a.resolve(); exitCode(err) != ExitAuth {
		t.Errorf("resolve with no login: %v (exit %d), want exit %d", err, exitCode(err), ExitAuth)
	}
}

func TestProgressIsDrawnOnlyOnATerminal(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		var stderr bytes.Buffer
		p := (&app{env: Env{Stderr: &stderr, StderrTerminal: terminal}}).progress()
		p.show(true, "sent %d events", 500)
		p.show(true, "sent %d events", 1000)
		p.done()
		switch got := stderr.String(); {
		case !terminal && got != "":
			t.Errorf("progress with stderr not a terminal wrote %q, want nothing", got)
		case terminal && (!strings.Contains(got, "\rsent 1000 events") || !strings.HasSuffix(got, "\r")):
			t.Errorf("progress on a terminal wrote %q, want the line redrawn and cleared at the end", got)
		}
	}
}
