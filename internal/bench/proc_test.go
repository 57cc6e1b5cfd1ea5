package bench

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestWatchCountsTheWholeTree is an emulator's launcher in small: a shell
// whose child does the work. The tree's CPU in the window includes the
// child's, which the shell's own does not.
func TestWatchCountsTheWholeTree(t *testing.T) {
	// The shell waits for a line before it starts its child, so the child
	// and all its CPU time fall inside the window.
	cmd := exec.Command("sh", "-c", "read go; yes >/dev/null & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})

	w, err := startWatch(map[string]int{"shell": pid}, map[string]int{"tree": pid})
	if err != nil {
		t.Fatalf("startWatch: %v", err)
	}
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	// The kernel counts CPU in ticks: wait until the child has one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cpu, err := treeCPU(pid)
		if err != nil {
			t.Fatalf("treeCPU: %v", err)
		}
		var children float64
		for k, c := range cpu {
			if k.pid != pid {
				children += c
			}
		}
		if children > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shell's child used no CPU in 10 s (tree: %v)", cpu)
		}
		time.Sleep(10 * time.Millisecond)
	}
	use, err := w.stop()
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	if tree, shell := use["tree"].CPU, use["shell"].CPU; tree <= shell || tree <= 0 {
		t.Errorf("tree CPU %v, shell alone %v: want the tree's above the shell's", tree, shell)
	}
}

func TestTreeCPUOfAGoneProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := treeCPU(cmd.Process.Pid); err == nil {
		t.Error("treeCPU of an exited process: no error")
	}
}

func TestWindowCPU(t *testing.T) {
	launcher, jvm, reused := procKey{10, 100}, procKey{11, 101}, procKey{12, 500}
	start := map[procKey]float64{launcher: 0.5, jvm: 20, {12, 102}: 3}
	// PID 12 is another process now: all its time is the window's, and the
	// time of the one that exited is not counted.
	end := map[procKey]float64{launcher: 0.5, jvm: 22.25, reused: 0.25}
	if got, want := windowCPU(start, end), 2.5; got != want {
		t.Errorf("windowCPU = %v, want %v", got, want)
	}
}
