package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// testEvent is one line of `go test -json` (cmd/test2json's TestEvent, plus
// the build events cmd/go adds).
type testEvent struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64 // seconds
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string
}

// slowestShown is how many packages the closing summary names as slowest.
const slowestShown = 5

// quietFor is how long the report may stay silent before it says which
// packages are still running: long enough not to chatter, short enough
// that nobody wonders whether the run hung.
const quietFor = 30 * time.Second

// testReport turns `go test -json` into what a person watching wants: a
// line per package as soon as it finishes (go test itself prints them in
// package order, so one slow package holds back all the lines after it),
// the full output of failing tests, a note of what is still running when
// nothing finished for a while, and at the end the slowest packages.
// Passing tests' output is dropped, as go test drops it without -v.
type testReport struct {
	out io.Writer
	now func() time.Time

	pkgs     map[string]*pkgReport
	lastLine time.Time
	results  struct{ pass, fail, skip int } // tests, subtests included
	done     []*pkgReport
}

// pkgReport is what is kept of a package until it finishes.
type pkgReport struct {
	name    string
	started time.Time
	// tests lists the package's tests in the order they first wrote, with
	// "" for the package's own lines (go test's FAIL line, a panic).
	tests   []string
	lines   map[string][]string
	result  map[string]string // test → pass, fail or skip
	action  string            // pass, fail or skip, once finished
	elapsed float64
	last    string // the package's last line of its own: go test's "ok" line
}

func newTestReport(out io.Writer, now func() time.Time) *testReport {
	return &testReport{out: out, now: now, pkgs: map[string]*pkgReport{}, lastLine: now()}
}

// reportGoTest reads `go test -json` from r until EOF, writing the report
// to out, with a note every quietFor that nothing finished.
func reportGoTest(r io.Reader, out io.Writer) error {
	rep := newTestReport(out, time.Now)
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20) // a test may write long lines
		for sc.Scan() {
			lines <- sc.Text()
		}
		readErr <- sc.Err()
		close(lines)
	}()
	tick := time.NewTicker(quietFor / 3)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				rep.finish()
				return <-readErr
			}
			rep.line(line)
		case <-tick.C:
			rep.tick()
		}
	}
}

// line takes one line of go test's output. A line that is not an event
// (go test writes a few on its own) is passed on as it is.
func (r *testReport) line(s string) {
	var e testEvent
	if !strings.HasPrefix(s, "{") || json.Unmarshal([]byte(s), &e) != nil {
		r.print(s + "\n")
		return
	}
	r.event(e)
}

func (r *testReport) event(e testEvent) {
	switch e.Action {
	case "build-output":
		r.print(e.Output) // the compiler's errors, as go test prints them
		return
	case "build-fail":
		return // the package's fail event follows
	}
	if e.Package == "" {
		return
	}
	p := r.pkgs[e.Package]
	if p == nil {
		p = &pkgReport{name: e.Package, started: r.now(), lines: map[string][]string{}, result: map[string]string{}}
		r.pkgs[e.Package] = p
	}
	switch e.Action {
	case "output":
		if _, seen := p.lines[e.Test]; !seen {
			p.tests = append(p.tests, e.Test)
		}
		p.lines[e.Test] = append(p.lines[e.Test], e.Output)
		if e.Test == "" {
			p.last = e.Output
		}
	case "pass", "fail", "skip":
		if e.Test != "" {
			p.result[e.Test] = e.Action
			switch e.Action {
			case "pass":
				r.results.pass++
			case "fail":
				r.results.fail++
			default:
				r.results.skip++
			}
			return
		}
		p.action, p.elapsed = e.Action, e.Elapsed
		r.finishPackage(p)
	}
}

// finishPackage prints a finished package: go test's own closing line for
// it, after the output of every test that did not pass when it failed.
func (r *testReport) finishPackage(p *pkgReport) {
	delete(r.pkgs, p.name)
	r.done = append(r.done, p)
	if p.action != "fail" {
		last := p.last
		if last == "" {
			last = fmt.Sprintf("ok  \t%s\t%.3fs\n", p.name, p.elapsed)
		}
		r.print(last)
		return
	}
	var b strings.Builder
	for _, test := range p.tests {
		if res := p.result[test]; test != "" && (res == "pass" || res == "skip") {
			continue
		}
		for _, l := range p.lines[test] {
			if isFraming(l) {
				continue
			}
			b.WriteString(l)
		}
	}
	r.print(b.String())
}

// isFraming tells go test's bookkeeping lines under -json, which it does
// not print without -v, apart from what a test wrote. "=== RUN" stays: it
// heads each failing test's block.
func isFraming(line string) bool {
	for _, p := range []string{"=== PAUSE ", "=== CONT ", "=== NAME "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// tick notes the packages still running when nothing was printed for
// quietFor.
func (r *testReport) tick() {
	now := r.now()
	if now.Sub(r.lastLine) < quietFor {
		return
	}
	if len(r.pkgs) == 0 {
		r.print(fmt.Sprintf("… building, no package running yet (%s since the last line)\n", now.Sub(r.lastLine).Round(time.Second)))
		return
	}
	running := make([]*pkgReport, 0, len(r.pkgs))
	for _, p := range r.pkgs {
		running = append(running, p)
	}
	slices.SortFunc(running, func(a, b *pkgReport) int { return a.started.Compare(b.started) })
	parts := make([]string, len(running))
	for i, p := range running {
		parts[i] = fmt.Sprintf("%s (%s)", p.name, now.Sub(p.started).Round(time.Second))
	}
	r.print("… still running: " + strings.Join(parts, ", ") + "\n")
}

// finish prints the summary: the slowest packages, which ones failed, and
// the count of tests.
func (r *testReport) finish() {
	// A package that did not build or has no tests did not run.
	ran := slices.DeleteFunc(slices.Clone(r.done), func(p *pkgReport) bool { return p.action == "skip" || p.elapsed == 0 })
	slices.SortStableFunc(ran, func(a, b *pkgReport) int { return cmp.Compare(b.elapsed, a.elapsed) })
	var b strings.Builder
	if len(ran) > 0 {
		b.WriteString("\nslowest packages:\n")
		for _, p := range ran[:min(slowestShown, len(ran))] {
			fmt.Fprintf(&b, "  %7.1fs  %s\n", p.elapsed, p.name)
		}
	}
	var failed []string
	for _, p := range r.done {
		if p.action == "fail" {
			failed = append(failed, p.name)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\nFAIL: %d of %d packages: %s\n", len(failed), len(r.done), strings.Join(failed, ", "))
	}
	fmt.Fprintf(&b, "\ntests: %d passed, %d failed, %d skipped\n", r.results.pass, r.results.fail, r.results.skip)
	r.print(b.String())
}

func (r *testReport) print(s string) {
	if s == "" {
		return
	}
	io.WriteString(r.out, s)
	r.lastLine = r.now()
}
