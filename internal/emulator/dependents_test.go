package emulator_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// The emulators are for the local stack and tests: the services and the
// adapters they run in production reach an emulator only through
// gcpcall.LocalEndpoint, never by importing it.
func TestProductionDoesNotImportTheEmulators(t *testing.T) {
	const emulators = "github.com/hookrun/hookrun/internal/emulator"
	deps := func(t *testing.T, pkg string) []string {
		t.Helper()
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
		cmd.Dir = testenv.RepoRoot(t)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, tt := range []struct {
		pkg  string
		want bool
	}{
		{"./run/ingest", false},
		{"./run/dispatcher", false},
		{"./internal/cloudtasks", false},
		{"./internal/secretmanager", false},
		// The local stack does import them: the check can see an import.
		{"./internal/devstack", true},
	} {
		t.Run(tt.pkg, func(t *testing.T) {
			got := slices.ContainsFunc(deps(t, tt.pkg), func(p string) bool {
				return p == emulators || strings.HasPrefix(p, emulators+"/")
			})
			if got != tt.want {
				t.Errorf("%s depends on %s: %v, want %v", tt.pkg, emulators, got, tt.want)
			}
		})
	}
}
