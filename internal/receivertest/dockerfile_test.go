package receivertest_test

import (
	"path/filepath"
	"testing"

	"github.com/hookrun/hookrun/internal/dockerfile/dockerfiletest"
)

// The receiver's Dockerfile builds with the receiver's folder as the
// context, as a tenant who copied the folder builds it: every path is
// relative to that folder, and its go.mod names the Go version.
func TestDockerfile(t *testing.T) {
	dir := receiverDir(t)
	stages := dockerfiletest.Parse(t, filepath.Join(dir, "Dockerfile"), nil)
	build, gb := dockerfiletest.BuildStage(t, stages)

	t.Run("build stage Go matches go.mod", func(t *testing.T) {
		dockerfiletest.CheckGoImage(t, build, dockerfiletest.GoVersion(t, dir))
	})
	t.Run("copies what the build needs", func(t *testing.T) {
		dockerfiletest.CheckCopies(t, dir, build, gb)
	})
	t.Run("go build with the same flags", func(t *testing.T) {
		dockerfiletest.BuildStatic(t, dir, gb)
	})
	t.Run("final stage is small and non-root", func(t *testing.T) {
		dockerfiletest.CheckFinalStage(t, stages[len(stages)-1], build, gb)
	})
}
