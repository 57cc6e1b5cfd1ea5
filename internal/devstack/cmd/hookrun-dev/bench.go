package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/bench"
)

func init() {
	register("bench", command{
		summary: "measure throughput, CPU per event, memory and cold starts on the local stack (scripts/bench)",
		run:     runBench,
	})
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg bench.Config
	fs.BoolVar(&cfg.Quick, "quick", false, "run each scenario for a moment: checks the harness, figures are rough")
	fs.DurationVar(&cfg.Duration, "duration", 0, "measured part of each load scenario (default 10s, 2s with -quick)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "unmeasured warm-up before each load scenario (default 2s, 500ms with -quick)")
	fs.IntVar(&cfg.Producers, "producers", 0, "concurrent producers (default 32, 8 with -quick)")
	fs.IntVar(&cfg.ColdStarts, "cold-starts", 0, "cold starts of each service; the median is reported (default 10, 3 with -quick)")
	fs.IntVar(&cfg.GOMAXPROCS, "gomaxprocs", 0, "GOMAXPROCS of the services (default 1, as Go sets it on Cloud Run with infra's 1-CPU limit; -1 for Go's own choice here)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "write CPU profiles of ingest and the dispatcher, taken during the load scenarios, and heap profiles at their ends, to this directory")
	fs.Func("scenarios", "run only these comma-separated scenario `names` (default all): "+strings.Join(bench.ScenarioNames(), ",")+
		"; baseline always runs, and so does what a chosen one compares with (ceiling for e2e, both ceilings for e2epull, ingest for batch, e2e and receiver for cold)",
		func(list string) (err error) {
			cfg.Scenarios, err = bench.ParseScenarios(list)
			return err
		})
	out := fs.String("o", filepath.Join("bench", "results.json"), "where to write the figures as JSON")
	logs := fs.String("logs", filepath.Join(".bin", "logs", "bench.log"), "where the services' and emulators' logs go")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: hookrun-dev bench [flags]

Starts the local stack on free ports and measures, in order: a bare
baseline service, ingest, the Pub/Sub emulator's push and pull ceilings, end
to end by push and by pull, direct pushes to the dispatcher, fan-out to 10 and 100 endpoints, the retry
path, the sample receiver, cold starts and ingest with batches of 100
events (-scenarios runs some of them only). Prints a table and writes the
same figures as JSON.

`)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, only flags: %v", fs.Args())
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(*out), filepath.Dir(*logs), cfg.ProfileDir} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	logFile, err := os.Create(*logs)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cfg.Output = logFile
	cfg.ProjectID = fmt.Sprintf("hookrun-bench-%d", time.Now().Unix())

	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w (service logs: %s)", err, *logs)
	}
	if err := res.WriteJSON(*out); err != nil {
		return err
	}
	fmt.Println()
	if err := res.WriteTable(os.Stdout); err != nil {
		return err
	}
	fmt.Printf("\nfigures written to %s\n", *out)
	return nil
}
