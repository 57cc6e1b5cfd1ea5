package infracheck

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
)

// helpExceptions are scripts not held to TestScriptsAnswerHelp, with why.
var helpExceptions = map[string]string{}

// helpBudget bounds one -h: printing a comment takes milliseconds, so a
// script that reaches it is building or starting something.
const helpBudget = 20 * time.Second

// TestScriptsAnswerHelp runs every script in scripts/ with -h and with
// --help, from an unrelated directory and with a HOME, TMPDIR and Go build
// cache of its own, and checks that each prints its own usage on stdout,
// exits 0 and leaves everything as it was: no build (the empty GOCACHE
// stays empty, nothing changes in .bin/), no temporary directory (where an
// emulator's logs would go), no file in the working directory.
func TestScriptsAnswerHelp(t *testing.T) {
	root := testenv.RepoRoot(t)
	scripts, err := filepath.Glob(filepath.Join(root, "scripts", "*"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, script := range scripts {
		name := filepath.Base(script)
		if fi, err := os.Stat(script); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue // scripts/lib and the like: not run by a user
		}
		if why, ok := helpExceptions[name]; ok {
			t.Logf("scripts/%s not checked: %s", name, why)
			continue
		}
		ran++
		for _, flag := range []string{"-h", "--help"} {
			t.Run(name+" "+flag, func(t *testing.T) {
				t.Parallel()
				checkHelp(t, root, name, flag)
			})
		}
	}
	if ran == 0 {
		t.Fatal("no script found in scripts/")
	}
}

func checkHelp(t *testing.T, root, name, flag string) {
	tmp := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"home", "cwd", "tmp", "gocache"} {
		dirs[d] = filepath.Join(tmp, d)
		if err := os.Mkdir(dirs[d], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	binBefore := tree(t, filepath.Join(root, ".bin"))
	// A relative path from elsewhere, as a user in another directory types it.
	rel, err := filepath.Rel(dirs["cwd"], filepath.Join(root, "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), helpBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, rel, flag)
	cmd.Dir = dirs["cwd"]
	// A script that builds or starts something anyway is stopped whole at
	// the deadline, its go build or emulator with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Env = append(os.Environ(), "HOME="+dirs["home"], "TMPDIR="+dirs["tmp"], "GOCACHE="+dirs["gocache"])
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/%s %s: %v (ctx: %v)\nstdout:\n%s\nstderr:\n%s", name, flag, err, ctx.Err(), stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "scripts/"+name) {
		t.Errorf("scripts/%s %s: stdout does not mention scripts/%s:\n%s", name, flag, name, stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("scripts/%s %s: wrote to stderr:\n%s", name, flag, stderr.String())
	}
	for what, dir := range dirs {
		if got := tree(t, dir); len(got) > 0 {
			t.Errorf("scripts/%s %s: left files in its %s: %v", name, flag, what, keys(got))
		}
	}
	if binAfter := tree(t, filepath.Join(root, ".bin")); !sameTree(binBefore, binAfter) {
		t.Errorf("scripts/%s %s changed .bin/", name, flag)
	}
}

// tree maps every path under dir to its modification time; a missing dir
// is an empty tree.
func tree(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == dir {
				return fs.SkipAll
			}
			return err
		}
		if path == dir {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[path] = fi.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for p, m := range a {
		if n, ok := b[p]; !ok || !n.Equal(m) {
			return false
		}
	}
	return true
}

func keys(m map[string]time.Time) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
