package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// goTestJSON is `go test -json` of a module with a passing package (a), a
// failing one (b: TestBad/sub fails, TestBad/fine passes, TestOK passes),
// one that does not build (c) and one without tests (d), cut to what the
// report reads.
const goTestJSON = `{"ImportPath":"m/c [m/c.test]","Action":"build-output","Output":"# m/c [m/c.test]\n"}
{"ImportPath":"m/c [m/c.test]","Action":"build-output","Output":"c/c_test.go:3:27: undefined: undefined\n"}
{"ImportPath":"m/c [m/c.test]","Action":"build-fail"}
{"Action":"start","Package":"m/a"}
{"Action":"start","Package":"m/b"}
{"Action":"start","Package":"m/c"}
{"Action":"output","Package":"m/c","Output":"FAIL\tm/c [build failed]\n"}
{"Action":"fail","Package":"m/c","Elapsed":0,"FailedBuild":"m/c [m/c.test]"}
{"Action":"start","Package":"m/d"}
{"Action":"output","Package":"m/d","Output":"?   \tm/d\t[no test files]\n"}
{"Action":"skip","Package":"m/d","Elapsed":0}
{"Action":"run","Package":"m/b","Test":"TestOK"}
{"Action":"output","Package":"m/b","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"m/b","Test":"TestOK","Output":"    b_test.go:3: passing test's log\n"}
{"Action":"output","Package":"m/b","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"m/b","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"m/a","Test":"TestA"}
{"Action":"output","Package":"m/a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"m/a","Test":"TestA","Output":"    a_test.go:3: a's log\n"}
{"Action":"output","Package":"m/a","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"m/a","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"m/a","Output":"PASS\n"}
{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t7.500s\n"}
{"Action":"pass","Package":"m/a","Elapsed":7.5}
{"Action":"run","Package":"m/b","Test":"TestBad"}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"=== PAUSE TestBad\n"}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"=== CONT  TestBad\n"}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"    b_test.go:4: shown\n"}
{"Action":"run","Package":"m/b","Test":"TestBad/sub"}
{"Action":"output","Package":"m/b","Test":"TestBad/sub","Output":"=== RUN   TestBad/sub\n"}
{"Action":"output","Package":"m/b","Test":"TestBad/sub","Output":"    b_test.go:4: boom\n"}
{"Action":"output","Package":"m/b","Test":"TestBad/sub","Output":"--- FAIL: TestBad/sub (0.00s)\n"}
{"Action":"fail","Package":"m/b","Test":"TestBad/sub","Elapsed":0}
{"Action":"run","Package":"m/b","Test":"TestBad/fine"}
{"Action":"output","Package":"m/b","Test":"TestBad/fine","Output":"=== RUN   TestBad/fine\n"}
{"Action":"output","Package":"m/b","Test":"TestBad/fine","Output":"    b_test.go:4: fine subtest's log\n"}
{"Action":"output","Package":"m/b","Test":"TestBad/fine","Output":"--- PASS: TestBad/fine (0.00s)\n"}
{"Action":"pass","Package":"m/b","Test":"TestBad/fine","Elapsed":0}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"m/b","Test":"TestBad","Elapsed":0}
{"Action":"run","Package":"m/b","Test":"TestSkip"}
{"Action":"output","Package":"m/b","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"m/b","Test":"TestSkip","Elapsed":0}
{"Action":"output","Package":"m/b","Output":"FAIL\n"}
{"Action":"output","Package":"m/b","Output":"FAIL\tm/b\t12.250s\n"}
{"Action":"fail","Package":"m/b","Elapsed":12.25}
`

// wantReport is what a person sees of goTestJSON: the compiler's errors
// and each package's line as they come, the failing tests' output in full,
// no passing test's output and no go test bookkeeping, then the summary.
const wantReport = `# m/c [m/c.test]
c/c_test.go:3:27: undefined: undefined
FAIL	m/c [build failed]
?   	m/d	[no test files]
ok  	m/a	7.500s
=== RUN   TestBad
    b_test.go:4: shown
--- FAIL: TestBad (0.00s)
=== RUN   TestBad/sub
    b_test.go:4: boom
--- FAIL: TestBad/sub (0.00s)
FAIL
FAIL	m/b	12.250s

slowest packages:
     12.2s  m/b
      7.5s  m/a

FAIL: 2 of 4 packages: m/c, m/b

tests: 3 passed, 2 failed, 1 skipped
`

func TestReportGoTest(t *testing.T) {
	var out strings.Builder
	if err := reportGoTest(strings.NewReader(goTestJSON+"a line that is no event\n"), &out); err != nil {
		t.Fatalf("reportGoTest: %v", err)
	}
	want := strings.Replace(wantReport, "FAIL\tm/b\t12.250s\n", "FAIL\tm/b\t12.250s\na line that is no event\n", 1)
	if got := out.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

// TestReportShowsEachPackageAsItFinishes feeds the events one at a time and
// checks that a package's line is out as soon as its last event is in, not
// held back behind a package that is still running.
func TestReportShowsEachPackageAsItFinishes(t *testing.T) {
	var out strings.Builder
	r := newTestReport(&out, time.Now)
	for _, line := range strings.Split(strings.TrimSpace(goTestJSON), "\n") {
		r.line(line)
		var e testEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Package == "m/a" && e.Test == "" && e.Action == "pass" && !strings.HasSuffix(out.String(), "ok  \tm/a\t7.500s\n") {
			t.Fatalf("after m/a passed, while m/b still runs, the report is:\n%s", out.String())
		}
	}
}

func TestReportNamesWhatIsStillRunning(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var out strings.Builder
	r := newTestReport(&out, func() time.Time { return now })

	now = start.Add(quietFor)
	r.tick()
	if got, want := out.String(), "… building, no package running yet (30s since the last line)\n"; got != want {
		t.Errorf("before any package started: %q, want %q", got, want)
	}

	out.Reset() // the last line was at start+30s
	r.line(`{"Action":"start","Package":"m/slow"}`)
	now = now.Add(5 * time.Second)
	r.line(`{"Action":"start","Package":"m/slower"}`)
	now = start.Add(2*quietFor - time.Second)
	r.tick()
	if out.Len() != 0 {
		t.Errorf("report spoke before %s of quiet: %q", quietFor, out.String())
	}
	now = start.Add(2 * quietFor)
	r.tick()
	if got, want := out.String(), "… still running: m/slow (30s), m/slower (25s)\n"; got != want {
		t.Errorf("after %s of quiet: %q, want %q", quietFor, got, want)
	}
}

// TestReportKeepsEveryLineOfAFailure checks the failing tests' output is
// printed in full however long it is: a failure's log is the evidence.
func TestReportKeepsEveryLineOfAFailure(t *testing.T) {
	var in strings.Builder
	in.WriteString(`{"Action":"start","Package":"m/x"}` + "\n")
	for i := range 1000 {
		fmt.Fprintf(&in, `{"Action":"output","Package":"m/x","Test":"TestX","Output":"line %d\n"}`+"\n", i)
	}
	in.WriteString(`{"Action":"fail","Package":"m/x","Test":"TestX"}` + "\n")
	in.WriteString(`{"Action":"fail","Package":"m/x","Elapsed":1}` + "\n")
	var out strings.Builder
	if err := reportGoTest(strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"line 0\n", "line 500\n", "line 999\n"} {
		if !strings.Contains(out.String(), l) {
			t.Errorf("report lacks %q", l)
		}
	}
}
