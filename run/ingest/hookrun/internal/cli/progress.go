package cli

import (
	"fmt"
	"io"
	"time"
)

// progressEvery is the least time between two redraws of a progress line.
const progressEvery = 100 * time.Millisecond

// progress draws one updating line on stderr while a long operation runs
// (a batch send, a bulk replay). It draws only when stderr is a terminal,
// so scripts and logs get the result alone.
type progress struct {
	w     io.Writer
	on    bool
	drawn time.Time
	width int
}

func (a *app) progress() *progress {
	return &progress{w: a.env.Stderr, on: a.env.StderrTerminal}
}

// show redraws the line, at most every progressEvery unless force.
func (p *progress) show(force bool, format string, args ...any) {
	if !p.on || (!force && time.Since(p.drawn) < progressEvery) {
		return
	}
	p.drawn = time.Now()
	line := fmt.Sprintf(format, args...)
	pad := p.width - len(line)
	p.width = len(line)
	if pad < 0 {
		pad = 0
	}
	fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
}

// done clears the line, so the result that follows starts on a clean one.
func (p *progress) done() {
	if !p.on || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
	p.width = 0
}
