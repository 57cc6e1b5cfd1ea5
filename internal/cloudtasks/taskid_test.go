package cloudtasks_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/cloudtasks"
)

var validTaskID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)

func TestTaskID(t *testing.T) {
	long := strings.Repeat("é/", 1000)
	tests := []struct {
		name         string
		parts        []string
		wantReadable string // after the 64 hex digits and "_"; "" for none
	}{
		{"typical", []string{"tenant-1", "evt_01J9", "ep_7", "3"}, "tenant-1_evt-01J9_ep-7_3"},
		{"special characters", []string{"a.b/c", "ü"}, "a-b-c_-"},
		{"no parts", nil, ""},
		{"empty parts", []string{"", ""}, ""},
		{"long parts are cut", []string{long, long}, strings.Repeat("-", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := cloudtasks.TaskID(tt.parts...)
			if !validTaskID.MatchString(id) {
				t.Fatalf("TaskID(%q) = %q: not a valid task ID", tt.parts, id)
			}
			if again := cloudtasks.TaskID(tt.parts...); again != id {
				t.Errorf("not deterministic: %q then %q", id, again)
			}
			hash, readable, _ := strings.Cut(id, "_")
			if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
				t.Errorf("got prefix %q, want 64 hex digits", hash)
			}
			if readable != tt.wantReadable {
				t.Errorf("readable part: got %q, want %q", readable, tt.wantReadable)
			}
		})
	}
}

func TestTaskIDDistinct(t *testing.T) {
	// Each set would collide with naive joining or character replacement.
	sets := [][][]string{
		{{"a_b", "c"}, {"a", "b_c"}},
		{{"a.b"}, {"a/b"}, {"a-b"}},
		{{"x"}, {"x", ""}, {"", "x"}},
		{{strings.Repeat("a", 300) + "1"}, {strings.Repeat("a", 300) + "2"}},
		{{"t", "e", "ep", "1"}, {"t", "e", "ep", "2"}},
	}
	for _, set := range sets {
		seen := map[string][]string{}
		for _, parts := range set {
			id := cloudtasks.TaskID(parts...)
			if prev, ok := seen[id]; ok {
				t.Errorf("TaskID(%q) = TaskID(%q) = %q", parts, prev, id)
			}
			seen[id] = parts
		}
	}
}
