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
// stop, and the largest resident set seen while it ran. It also follows
// process trees (an emulator's launcher and the JVM it starts), of which it
// takes only the CPU time. The kernel counts CPU time in clock ticks
// (10 ms), which is why windows last seconds.
type watch struct {
	procs map[string]procfs.Proc
	cpu0  map[string]float64
	trees map[string]int // name → root PID
	tree0 map[string]map[procKey]float64

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

// startWatch takes the CPU time of each named process and of each named
// tree (a root PID and its descendants) now, and samples the processes'
// memory until stop.
func startWatch(pids, trees map[string]int) (*watch, error) {
	w := &watch{
		procs: map[string]procfs.Proc{}, cpu0: map[string]float64{},
		trees: trees, tree0: map[string]map[procKey]float64{},
		rss: map[string]uint64{}, done: make(chan struct{}),
	}
	for name, root := range trees {
		cpu, err := treeCPU(root)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
		w.tree0[name] = cpu
	}
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
	for name, root := range w.trees {
		cpu, err := treeCPU(root)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
		out[name] = usage{CPU: time.Duration(windowCPU(w.tree0[name], cpu) * float64(time.Second))}
	}
	return out, nil
}

// procKey tells processes apart across a window: a PID the kernel reused
// has another start time.
type procKey struct {
	pid   int
	start uint64 // clock ticks after boot
}

// treeCPU returns the CPU seconds of root and of each of its descendants
// now, found through their parents in /proc.
func treeCPU(root int) (map[procKey]float64, error) {
	all, err := procfs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]procfs.ProcStat{}
	var rootStat *procfs.ProcStat
	for _, p := range all {
		st, err := p.Stat()
		if err != nil {
			continue // exited since the listing: not part of any tree now
		}
		if st.PID == root {
			rootStat = &st
		}
		children[st.PPID] = append(children[st.PPID], st)
	}
	if rootStat == nil {
		return nil, fmt.Errorf("process %d is gone", root)
	}
	out := map[procKey]float64{}
	for queue := []procfs.ProcStat{*rootStat}; len(queue) > 0; queue = queue[1:] {
		st := queue[0]
		out[procKey{st.PID, st.Starttime}] = st.CPUTime()
		queue = append(queue, children[st.PID]...)
	}
	return out, nil
}

// windowCPU is the CPU seconds a tree spent between two of its readings:
// each process's growth, all of the time of one that started in between.
// A process that exited in between is missing from end, and its time with
// it: the trees watched (an emulator's launcher and its JVM) keep theirs.
func windowCPU(start, end map[procKey]float64) float64 {
	var sum float64
	for k, cpu := range end {
		sum += cpu - start[k]
	}
	return sum
}

func cpuSeconds(p procfs.Proc) (float64, error) {
	st, err := p.Stat()
	if err != nil {
		return 0, fmt.Errorf("read /proc/%d/stat: %w", p.PID, err)
	}
	return st.CPUTime(), nil
}
