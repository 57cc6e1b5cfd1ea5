package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/procfs"
)

// rssInterval is how often a watch samples resident memory.
const rssInterval = 50 * time.Millisecond

// watch follows a set of processes through one measured window: their CPU
// time (user + system, as the kernel accounts it for rusage) from start to
// stop, and the largest resident set seen while it ran. The kernel counts
// CPU time in clock ticks (10 ms), which is why windows last seconds.
type watch struct {
	procs map[string]procfs.Proc
	cpu0  map[string]float64

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	rss    map[string]uint64
}

// usage is what a watch saw of one process.
type usage struct {
	CPU     time.Duration
	PeakRSS uint64 // bytes
}

// startWatch takes the CPU time of each named process now and samples their
// memory until stop.
func startWatch(pids map[string]int) (*watch, error) {
	w := &watch{procs: map[string]procfs.Proc{}, cpu0: map[string]float64{}, rss: map[string]uint64{}, done: make(chan struct{})}
	for name, pid := range pids {
		p, err := procfs.NewProc(pid)
		if err != nil {
			return nil, fmt.Errorf("watch %s (pid %d): %w", name, pid, err)
		}
		w.procs[name] = p
		cpu, err := cpuSeconds(p)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
		w.cpu0[name] = cpu
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.sample(ctx)
	return w, nil
}

func (w *watch) sample(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(rssInterval)
	defer t.Stop()
	for {
		w.mu.Lock()
		for name, p := range w.procs {
			// A failed read (the process just exited) leaves the peak
			// as it was; stop reports the exit.
			if st, err := p.NewStatus(); err == nil && st.VmRSS > w.rss[name] {
				w.rss[name] = st.VmRSS
			}
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the window and returns each process's CPU time in it and its
// peak resident memory.
func (w *watch) stop() (map[string]usage, error) {
	w.cancel()
	<-w.done
	out := map[string]usage{}
	for name, p := range w.procs {
		cpu, err := cpuSeconds(p)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
		out[name] = usage{
			CPU:     time.Duration((cpu - w.cpu0[name]) * float64(time.Second)),
			PeakRSS: w.rss[name],
		}
	}
	return out, nil
}

func cpuSeconds(p procfs.Proc) (float64, error) {
	st, err := p.Stat()
	if err != nil {
		return 0, fmt.Errorf("read /proc/%d/stat: %w", p.PID, err)
	}
	return st.CPUTime(), nil
}
