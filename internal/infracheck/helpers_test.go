package infracheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// problems is what a check found wrong: one self-contained line each,
// naming the file and line where it can.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// report fails t with every problem, sorted so that runs compare.
func report(t *testing.T, what string, ps problems) {
	t.Helper()
	if len(ps) == 0 {
		return
	}
	sorted := slices.Clone(ps)
	slices.Sort(sorted)
	t.Errorf("%s: %d problem(s):\n  %s", what, len(sorted), strings.Join(sorted, "\n  "))
}

// expectProblems checks a check's result on a fixture: none when want is
// empty, else at least one problem containing each of want.
func expectProblems(t *testing.T, got problems, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("got problems, want none:\n  %s", strings.Join(got, "\n  "))
		}
		return
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem mentions %q; got:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
}

// newProblems returns the problems of after that before does not have: what
// breaking a copy of the real files added, whatever state the real files
// are in.
func newProblems(before, after problems) problems {
	var out problems
	for _, p := range after {
		if !slices.Contains(before, p) {
			out = append(out, p)
		}
	}
	return out
}

// writeFiles writes files (slash-separated path relative to a new temporary
// directory → content) and returns the directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// realInfraCopy copies the repository's infra/ to an infra/ in a temporary
// directory for a test to break, and returns the copy. It stops the test when there is
// no infra/ to copy: the check against the real files reports that.
func realInfraCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "infra")
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("no infra/ to break a copy of: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "infra")
	copyTree(t, src, dst)
	return dst
}

// editFile replaces the first occurrence of old in the file at path with
// new, failing the test when old is not there.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q to replace", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendFile appends s to the file at path, creating it if needed.
func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
