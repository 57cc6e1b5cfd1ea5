package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestNDJSONReader(t *testing.T) {
	in := strings.Join([]string{
		`{"type":"user.created","data":{"n":1}}`,
		``,
		`{"id":"e-2","type":"user.deleted","data":{}}`,
		`not json`,
		`{"type":"user.created","data":[1]}`,
		`{"type":"user.created","data":{},"extra":1}`,
		`{"data":{}}`,
		`{"type":"a","data":{}} {"type":"b","data":{}}`,
		`{"type":"big","data":{"s":"` + strings.Repeat("x", maxLineBytes) + `"}}`,
		`{"type":"last","data":{}}`, // no newline at the end
	}, "\n")
	type got struct {
		line int
		typ  string
		bad  bool
	}
	want := []got{{1, "user.created", false}, {3, "user.deleted", false}, {4, "", true}, {5, "", true}, {6, "", true}, {7, "", true}, {8, "", true}, {9, "", true}, {10, "last", false}}
	r := newNDJSONReader(strings.NewReader(in))
	for i, w := range want {
		ev, line, err := r.next()
		var le *lineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("event %d: %v", i, err)
		}
		if g := (got{line, ev.Type, le != nil}); g != w {
			t.Errorf("event %d: got %+v (err %v), want %+v", i, g, err, w)
		}
	}
	if _, _, err := r.next(); err != io.EOF {
		t.Errorf("after the last line: %v, want io.EOF", err)
	}
}

// FuzzNDJSONReader feeds arbitrary input to the batch reader: it must end
// with io.EOF, never panic or loop, and every event it returns must have a
// type and object data.
func FuzzNDJSONReader(f *testing.F) {
	f.Add("{\"type\":\"a\",\"data\":{}}\n\n{\"id\":\"x\",\"type\":\"b\",\"data\":{\"k\":[1,2]}}")
	f.Add("{\"type\":\"a\",\"data\":{}}\r\n{")
	f.Add("\n\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := newNDJSONReader(strings.NewReader(in))
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatalf("more results than lines in %q", in)
			}
			ev, _, err := r.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var le *lineError
				if !errors.As(err, &le) {
					t.Fatalf("next: %v", err)
				}
				continue
			}
			if ev.Type == "" || checkData(ev.Data) != nil {
				t.Fatalf("accepted %+v", ev)
			}
		}
	})
}
