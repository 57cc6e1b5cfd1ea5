package deploytest_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/dockerfile/dockerfiletest"
	"github.com/hookrun/hookrun/internal/testenv"
)

const (
	// runDockerfile builds ingest and the dispatcher; the receiver keeps
	// functions/receiver/Dockerfile, which internal/receivertest tests.
	runDockerfile = "run/Dockerfile"
	serviceArg    = "SERVICE"
)

// runServices are the services run/Dockerfile builds: the directories
// right under run/ that hold a main package. A main package deeper down
// is a tool that goes with a service (run/ingest/hookrun, the CLI), not
// a service.
func runServices(t *testing.T, root string) []string {
	t.Helper()
	out := testenv.Run(t, root, nil, "go", "list", "-f", "{{if eq .Name \"main\"}}{{.Dir}}{{end}}", "./run/...")
	var names []string
	for _, dir := range strings.Fields(out) {
		if filepath.Dir(dir) == filepath.Join(root, "run") {
			names = append(names, filepath.Base(dir))
		}
	}
	if len(names) == 0 {
		t.Fatal("no main packages under run/")
	}
	return names
}

// TestRunDockerfile checks run/Dockerfile for each service under run/, as
// docker build --build-arg SERVICE=<service> would read it, and runs its go
// build: once per service, the slow part.
func TestRunDockerfile(t *testing.T) {
	root := testenv.RepoRoot(t)
	goVersion := dockerfiletest.GoVersion(t, root)
	for _, svc := range runServices(t, root) {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			stages := dockerfiletest.Parse(t, filepath.Join(root, runDockerfile), map[string]string{serviceArg: svc})
			build, gb := dockerfiletest.BuildStage(t, stages)
			if want := "./run/" + svc; path.Clean(gb.Pkgs[0]) != path.Clean(want) {
				t.Errorf("go build %s, want %s", gb.Pkgs[0], want)
			}
			dockerfiletest.CheckGoImage(t, build, goVersion)
			dockerfiletest.CheckCopies(t, root, build, gb)
			dockerfiletest.CheckFinalStage(t, stages[len(stages)-1], build, gb)
			dockerfiletest.BuildStatic(t, root, gb)
		})
	}
}

// TestRunDockerfileNeedsService: without --build-arg SERVICE the file must
// not quietly build some default service.
func TestRunDockerfileNeedsService(t *testing.T) {
	root := testenv.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, runDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.EqualFold(f[0], "ARG") && strings.HasPrefix(f[1], serviceArg+"=") {
			t.Errorf("%s: %q gives SERVICE a default; an image built without --build-arg would be that service", runDockerfile, line)
		}
	}
}
