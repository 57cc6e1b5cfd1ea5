package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// TestREADMEListsTheExitCodes keeps the README's table of exit codes, which
// scripts are written against, and the help's summary in step with the
// codes the commands exit with.
func TestREADMEListsTheExitCodes(t *testing.T) {
	want := []int{ExitOK, ExitError, ExitUsage, ExitNotFound, ExitAuth, ExitPartial, ExitConflict, ExitTemporary, ExitInterrupted}
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| exit code | meaning |")
	if !ok {
		t.Fatal("README.md has no table of exit codes (| exit code | meaning |)")
	}
	var got []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(strings.SplitN(table, "\n\n", 2)[0], -1) {
		n, _ := strconv.Atoi(m[1])
		got = append(got, n)
	}
	if !slices.Equal(got, want) {
		t.Errorf("README's exit codes %v, want %v", got, want)
	}
	help := (&app{env: Env{}}).rootCmd().Long
	for _, code := range want {
		if !regexp.MustCompile(`\b` + strconv.Itoa(code) + ` [a-z]`).MatchString(help) {
			t.Errorf("hookrun --help does not mention exit code %d", code)
		}
	}
}
