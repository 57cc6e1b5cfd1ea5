// Package logtest captures what code logs through slog's default logger, in
// the production format, so tests can assert on log lines (one line per
// request, no secret in any line).
package logtest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hookrun/hookrun/internal/logging"
)

// Buffer holds captured log output. It is safe for concurrent writers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the JSON log lines written so far, failing the test on a
// line that is not JSON.
func (b *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Capture makes slog's default logger write to a new Buffer, at debug
// level, until the test ends. Tests using it must not run in parallel.
func Capture(t testing.TB) *Buffer {
	t.Helper()
	b := &Buffer{}
	prev := slog.Default()
	slog.SetDefault(logging.New(b, slog.LevelDebug))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return b
}
