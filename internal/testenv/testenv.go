// Package testenv gives integration tests the emulators that scripts/test
// started, and a fresh project ID per test so tests never see each other's
// data without restarting an emulator.
//
// Locally, a test whose emulator is not running is skipped with a hint; with
// CI=true it fails, because CI must run every integration test.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
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
