// Package testenv gives integration tests the emulators that scripts/test
// started, and a fresh project ID per test so tests never see each other's
// data without restarting an emulator; and the repository's root and a
// command runner, for the offline checks of the build and deploy files.
//
// Locally, a test whose emulator is not running is skipped with a hint; with
// CI=true it fails, because CI must run every integration test.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PubSubHost returns PUBSUB_EMULATOR_HOST or stops the test.
func PubSubHost(t testing.TB) string { return need(t, "PUBSUB_EMULATOR_HOST") }

// FirestoreHost returns FIRESTORE_EMULATOR_HOST or stops the test.
func FirestoreHost(t testing.TB) string { return need(t, "FIRESTORE_EMULATOR_HOST") }

// ProjectID returns a project ID no other test uses. The Pub/Sub emulator
// refuses names shorter than 3 characters; this one is always longer.
func ProjectID(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random project id: %v", err)
	}
	return "test-" + hex.EncodeToString(b[:])
}

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

func need(t testing.TB, env string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if InCI() {
		t.Fatalf("%s is not set: CI must run the emulator tests; run them through scripts/test", env)
	}
	t.Skipf("%s is not set; run scripts/test to start the emulators", env)
	return ""
}

// RepoRoot returns the repository root: the nearest directory above the
// test's own that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root not found: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Run runs name with args in dir, with the test's environment plus env, and
// returns its standard output. It stops the test when the command fails,
// showing everything it wrote. GOWORK is off: a go.work above a temporary
// directory must not change what builds.
func Run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), dir, err, out, stderr.String())
	}
	return string(out)
}
