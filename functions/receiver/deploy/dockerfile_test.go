package deploy_test

import (
	"path/filepath"
	"testing"

	"github.com/hookrun/hookrun/internal/dockerfile/dockerfiletest"
	"github.com/hookrun/hookrun/internal/testenv"
)

func TestDockerfile(t *testing.T) {
	root := testenv.RepoRoot(t)
	stages := dockerfiletest.Parse(t, filepath.Join(root, "functions", "receiver", "Dockerfile"), nil)
	build, gb := dockerfiletest.BuildStage(t, stages)

	t.Run("build stage Go matches go.mod", func(t *testing.T) {
		dockerfiletest.CheckGoImage(t, build, dockerfiletest.GoVersion(t, root))
	})
	t.Run("copies what the build needs", func(t *testing.T) {
		dockerfiletest.CheckCopies(t, root, build, gb)
	})
	t.Run("go build with the same flags", func(t *testing.T) {
		dockerfiletest.BuildStatic(t, root, gb)
	})
	t.Run("final stage is small and non-root", func(t *testing.T) {
		dockerfiletest.CheckFinalStage(t, stages[len(stages)-1], build, gb)
	})
}
