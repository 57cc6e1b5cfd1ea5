package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// CostTableHeader starts the README's table of what each path of an event
// costs (Performance, "Cost and scale"). The tests that count a service's
// operations on a path (internal/ingest, internal/dispatch) check its row.
const CostTableHeader = "| path | Firestore reads | Firestore writes | Pub/Sub messages | Cloud Tasks operations |"

// CostRow is a row of the cost table: Firestore reads, Firestore writes,
// Pub/Sub messages, Cloud Tasks operations.
type CostRow [4]int

// CostTable returns the README's cost table, by row label.
func CostTable(t testing.TB) map[string]CostRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start := slices.Index(lines, CostTableHeader)
	if start < 0 {
		t.Fatalf("README.md has no line %q", CostTableHeader)
	}
	out := map[string]CostRow{}
	for _, line := range lines[start+2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Fatalf("README.md cost row %q: want 5 cells", line)
		}
		var row CostRow
		for i, c := range cells[1:] {
			if row[i], err = strconv.Atoi(strings.TrimSpace(c)); err != nil {
				t.Fatalf("README.md cost row %q: cell %d is not a count", line, i+2)
			}
		}
		out[strings.TrimSpace(cells[0])] = row
	}
	return out
}

// Calls counts calls by name, for a test double that counts what a path
// asks of a dependency. It is safe for concurrent use; the zero value is
// ready.
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// Add counts one call of name.
func (c *Calls) Add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

// Take returns the calls counted since the last Take, by name.
func (c *Calls) Take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = nil
	if out == nil {
		out = map[string]int{}
	}
	return out
}
