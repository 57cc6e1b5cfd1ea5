package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
)

func init() {
	register("up", command{
		summary: "run the whole local stack in the foreground, with a demo tenant (scripts/dev)",
		run:     runUp,
	})
}

// Ports of the local stack and the variables that override them.
var stackPorts = []struct {
	env  string
	def  int
	what string
}{
	{"HOOKRUN_INGEST_PORT", 8080, "ingest API"},
	{"HOOKRUN_DISPATCHER_PORT", 8081, "dispatcher"},
	{"HOOKRUN_RECEIVER_PORT", 8082, "sample receiver"},
	{"HOOKRUN_PUBSUB_PORT", 8085, "Pub/Sub emulator"},
	{"HOOKRUN_FIRESTORE_PORT", 8086, "Firestore emulator"},
	{"HOOKRUN_SECRETMANAGER_PORT", 8087, "Secret Manager emulator"},
	{"HOOKRUN_CLOUDTASKS_PORT", 8088, "Cloud Tasks emulator"},
	{"HOOKRUN_INGEST_METRICS_PORT", 9464, "ingest metrics (Prometheus)"},
	{"HOOKRUN_DISPATCHER_METRICS_PORT", 9465, "dispatcher metrics (Prometheus)"},
}

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.Usage = func() { upUsage(fs.Output()) }
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("up takes no arguments; ports come from %s and friends (see -h)", stackPorts[0].env)
	}
	ports, err := readPorts(os.Getenv)
	if err != nil {
		return err
	}
	// Before anything is built or started: a busy port would otherwise
	// surface as an emulator's bind error deep in its log, or worse, as
	// another program answering in the stack's place.
	if err := checkPortsFree(ports); err != nil {
		return err
	}
	logDir, err := filepath.Abs(filepath.Join(".bin", "logs"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	emuLog, err := os.Create(filepath.Join(logDir, "emulators.log"))
	if err != nil {
		return err
	}
	defer emuLog.Close()

	traces, traceEnv := localTraces(logDir)
	fmt.Fprintln(os.Stderr, "hookrun: building services and starting emulators (logs of the emulators: "+emuLog.Name()+")")
	stack, err := devstack.StartStack(ctx, devstack.StackConfig{
		ProjectID:             localProject,
		AdminToken:            os.Getenv("HOOKRUN_ADMIN_TOKEN"),
		IngestPort:            ports["HOOKRUN_INGEST_PORT"],
		DispatcherPort:        ports["HOOKRUN_DISPATCHER_PORT"],
		PubSubPort:            ports["HOOKRUN_PUBSUB_PORT"],
		FirestorePort:         ports["HOOKRUN_FIRESTORE_PORT"],
		SecretManagerPort:     ports["HOOKRUN_SECRETMANAGER_PORT"],
		CloudTasksPort:        ports["HOOKRUN_CLOUDTASKS_PORT"],
		IngestMetricsPort:     ports["HOOKRUN_INGEST_METRICS_PORT"],
		DispatcherMetricsPort: ports["HOOKRUN_DISPATCHER_METRICS_PORT"],
		BinDir:                filepath.Join(".bin", "services"),
		Output:                os.Stdout,
		EmulatorOutput:        emuLog,
		Env:                   traceEnv,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "hookrun: stopping the local stack")
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := stack.Stop(sctx); err != nil {
			fmt.Fprintln(os.Stderr, "hookrun: stop:", err)
		}
	}()

	demo, err := stack.RunDemo(ctx, ports["HOOKRUN_RECEIVER_PORT"])
	if err != nil {
		return err
	}
	printSummary(os.Stdout, stack, demo, traces)

	select {
	case <-ctx.Done():
		return nil
	case err := <-stack.Crashed():
		return fmt.Errorf("a process of the stack exited: %w", err)
	}
}

func upUsage(w io.Writer) {
	fmt.Fprint(w, `usage: hookrun-dev up

Builds the services and runs the whole local stack in the foreground: the
Pub/Sub and Firestore emulators, the local Secret Manager and Cloud Tasks
emulators, ingest, the dispatcher and the sample receiver, with a demo
tenant. Ctrl-C stops everything.

Ports, each set by its variable:
`)
	for _, p := range stackPorts {
		fmt.Fprintf(w, "  %-32s %5d  %s\n", p.env, p.def, p.what)
	}
	fmt.Fprint(w, "\nHOOKRUN_ADMIN_TOKEN, when set, is the admin token; otherwise one is generated.\n")
}

// readPorts returns each stack port's number by its variable's name: the
// variable's value from getenv, or the default.
func readPorts(getenv func(string) string) (map[string]int, error) {
	ports := map[string]int{}
	for _, p := range stackPorts {
		ports[p.env] = p.def
		if v := getenv(p.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("%s=%q is not a port", p.env, v)
			}
			ports[p.env] = n
		}
	}
	return ports, nil
}

// checkPortsFree tries to listen on each port at 127.0.0.1, where the stack
// listens, and names the variable that moves each busy one.
func checkPortsFree(ports map[string]int) error {
	var busy []string
	for _, p := range stackPorts {
		port := ports[p.env]
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			busy = append(busy, fmt.Sprintf("port %d of the %s is in use (%v): set %s to a free port", port, p.what, err, p.env))
			continue
		}
		l.Close()
	}
	if len(busy) > 0 {
		return errors.New(strings.Join(busy, "; "))
	}
	return nil
}

// localProject is the local stack's project ID, which a developer's own
// publisher uses against the emulator.
const localProject = "hookrun-local"

// exportLines are env ("NAME=value" pairs) as lines a user can paste into
// a shell to point their own clients at the stack.
func exportLines(env []string) string {
	var b strings.Builder
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "  export %s=%s\n", name, shellQuote(value))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@%+,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// localTraces is where the services' spans go on a developer's machine:
// one JSON span a line in logDir/traces.jsonl (internal/telemetry's
// console exporter, both services appending), unless the developer chose
// an exporter with OTEL_TRACES_EXPORTER (otlp to a local collector, say).
// It returns what the banner says and the services' environment.
func localTraces(logDir string) (where string, env []string) {
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" {
		return "as OTEL_TRACES_EXPORTER=" + e + " says", nil
	}
	file := filepath.Join(logDir, "traces.jsonl")
	return file + "  (one JSON span a line; OTEL_TRACES_EXPORTER=otlp sends them to a collector instead)",
		[]string{"OTEL_TRACES_EXPORTER=console", "HOOKRUN_TRACES_FILE=" + file}
}

func printSummary(w io.Writer, s *devstack.Stack, d *devstack.Demo, traces string) {
	fmt.Fprintf(w, `
================================================================================
hookrun is running locally.

  ingest API       %s
  dispatcher       %s   (Pub/Sub pushes to /pubsub/push)
  sample receiver  %s
  traces           %s
  metrics          %s   (ingest, Prometheus text format)
                   %s   (dispatcher)

Emulator settings for your own clients and gcloud (paste into a shell;
project %s, topic %s; README "Publish from your own code against the
local stack"):
%s
Watch the announcements of dead letters (subscription %s on topic %s):
  gcloud pubsub subscriptions pull %s --auto-ack --limit=10 --format=json

The demo event %s (user.created) was delivered to the sample receiver:
  %s

Admin token:          %s
Demo tenant API key:  %s

Open the demo tenant's portal in a browser (the link works once, until %s;
ask for another with POST %s/v1/tenants/demo/portal-sessions):
  %s

Send another event:
  curl -sS -X POST %s/v1/events \
    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
    -d '{"type":"user.updated","data":{"name":"Ada"}}'

List the demo tenant's endpoints:
  curl -sS %s/v1/tenants/demo/endpoints -H 'Authorization: Bearer %s'

Ctrl-C stops everything.
================================================================================
`, s.IngestURL, s.DispatcherURL, d.ReceiverURL, traces, s.IngestMetricsURL, s.DispatcherMetricsURL,
		localProject, devstack.EventsTopic, exportLines(slices.Concat(s.Env, s.GcloudEnv())),
		devstack.DeadLettersLocalSubscription, devstack.DeadLettersTopic, devstack.DeadLettersLocalSubscription,
		d.EventID, d.Delivered,
		s.AdminToken, d.APIKey, d.PortalExpire.Local().Format("2 Jan 15:04 MST"), s.IngestURL, d.PortalURL, s.IngestURL, d.APIKey, s.IngestURL, d.APIKey)
}
