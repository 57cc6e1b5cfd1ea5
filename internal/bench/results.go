package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is what one run of the benchmarks measured; it is written as
// JSON (bench/results.json) and printed as a table.
type Results struct {
	Started   time.Time  `json:"started"`
	Quick     bool       `json:"quick"`
	Machine   Machine    `json:"machine"`
	Settings  Settings   `json:"settings"`
	Scenarios []Scenario `json:"scenarios"`
}

// Machine is where the figures were measured: they mean little without it.
type Machine struct {
	Cores int    `json:"cores"`
	CPU   string `json:"cpu"`
	Go    string `json:"go"`
	OS    string `json:"os"`
}

// Settings are the load parameters of the run.
type Settings struct {
	Duration     string `json:"duration"`
	Warmup       string `json:"warmup"`
	Producers    int    `json:"producers"`
	PayloadBytes int    `json:"payload_bytes"`
	ColdStarts   int    `json:"cold_starts"`
	// GOMAXPROCS of the services; -1 is Go's own choice (the core count).
	GOMAXPROCS int `json:"gomaxprocs"`
}

// Scenario is one thing measured, with its figures.
type Scenario struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Figures     []Figure `json:"figures"`
}

// Figure is one measured number. Units are spelled for people: "µs",
// "ms", "MiB", "/s", "%", "×" for a ratio, "" for a count.
type Figure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target *Target `json:"target,omitempty"`
}

// Target is the bound a figure is held to (issues #7 and #17). Exactly
// one of AtMost and AtLeast is set.
type Target struct {
	AtMost  *float64 `json:"at_most,omitempty"`
	AtLeast *float64 `json:"at_least,omitempty"`
	Met     bool     `json:"met"`
}

func figure(name string, value float64, unit string) Figure {
	return Figure{Name: name, Value: value, Unit: unit}
}

// atMost and atLeast attach a target to a figure and judge it.
func atMost(f Figure, bound float64) Figure {
	f.Target = &Target{AtMost: &bound, Met: f.Value <= bound}
	return f
}

func atLeast(f Figure, bound float64) Figure {
	f.Target = &Target{AtLeast: &bound, Met: f.Value >= bound}
	return f
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mebibytes(b uint64) float64     { return float64(b) / (1 << 20) }

// thisMachine describes the machine the benchmarks run on.
func thisMachine() Machine {
	return Machine{Cores: runtime.NumCPU(), CPU: cpuModel(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// WriteJSON writes r, indented, to path.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteTable prints r for people: the machine, then one line per figure
// with its target and whether it was met.
func (r *Results) WriteTable(w io.Writer) error {
	mode := ""
	if r.Quick {
		mode = " (quick: harness check, figures are rough)"
	}
	procs := "Go's choice"
	if r.Settings.GOMAXPROCS > 0 {
		procs = strconv.Itoa(r.Settings.GOMAXPROCS)
	}
	fmt.Fprintf(w, "hookrun bench, %s%s\n%d cores, %s, %s, %s; services with GOMAXPROCS %s\n\n", r.Started.UTC().Format(time.RFC3339), mode,
		r.Machine.Cores, r.Machine.CPU, r.Machine.Go, r.Machine.OS, procs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tmeasured\ttarget\t")
	for _, s := range r.Scenarios {
		for i, f := range s.Figures {
			name := s.Name
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, f.Name, formatValue(f.Value, f.Unit), formatTarget(f))
		}
	}
	return tw.Flush()
}

// formatValue prints a figure with as many decimals as its size deserves.
func formatValue(v float64, unit string) string {
	var s string
	switch {
	case v >= 100 || v == 0:
		s = fmt.Sprintf("%.0f", v)
	case v >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	switch unit {
	case "":
		return s
	case "%", "/s", "×":
		return s + unit
	default:
		return s + " " + unit
	}
}

func formatTarget(f Figure) string {
	t := f.Target
	if t == nil {
		return ""
	}
	verdict := "met"
	if !t.Met {
		verdict = "MISSED"
	}
	if t.AtMost != nil {
		return "≤ " + formatValue(*t.AtMost, f.Unit) + " " + verdict
	}
	return "≥ " + formatValue(*t.AtLeast, f.Unit) + " " + verdict
}
