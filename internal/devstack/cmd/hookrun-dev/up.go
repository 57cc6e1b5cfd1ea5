package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
}

func runUp(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("up takes no arguments; ports come from %s and friends", stackPorts[0].env)
	}
	ports := map[string]int{}
	for _, p := range stackPorts {
		ports[p.env] = p.def
		if v := os.Getenv(p.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return fmt.Errorf("%s=%q is not a port", p.env, v)
			}
			ports[p.env] = n
		}
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

	fmt.Fprintln(os.Stderr, "hookrun: building services and starting emulators (logs of the emulators: "+emuLog.Name()+")")
	stack, err := devstack.StartStack(ctx, devstack.StackConfig{
		ProjectID:         "hookrun-local",
		AdminToken:        os.Getenv("HOOKRUN_ADMIN_TOKEN"),
		IngestPort:        ports["HOOKRUN_INGEST_PORT"],
		DispatcherPort:    ports["HOOKRUN_DISPATCHER_PORT"],
		PubSubPort:        ports["HOOKRUN_PUBSUB_PORT"],
		FirestorePort:     ports["HOOKRUN_FIRESTORE_PORT"],
		SecretManagerPort: ports["HOOKRUN_SECRETMANAGER_PORT"],
		CloudTasksPort:    ports["HOOKRUN_CLOUDTASKS_PORT"],
		BinDir:            filepath.Join(".bin", "services"),
		Output:            os.Stdout,
		EmulatorOutput:    emuLog,
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
	printSummary(stack, demo)

	select {
	case <-ctx.Done():
		return nil
	case err := <-stack.Crashed():
		return fmt.Errorf("a process of the stack exited: %w", err)
	}
}

func printSummary(s *devstack.Stack, d *devstack.Demo) {
	fmt.Printf(`
================================================================================
hookrun is running locally.

  ingest API       %s
  dispatcher       %s   (Pub/Sub pushes to /pubsub/push)
  sample receiver  %s
  emulators        %s

The demo event %s (user.created) was delivered to the sample receiver:
  %s

Admin token:          %s
Demo tenant API key:  %s

Send another event:
  curl -sS -X POST %s/v1/events \
    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
    -d '{"type":"user.updated","data":{"name":"Ada"}}'

List the demo tenant's endpoints:
  curl -sS %s/v1/tenants/demo/endpoints -H 'Authorization: Bearer %s'

Ctrl-C stops everything.
================================================================================
`, s.IngestURL, s.DispatcherURL, d.ReceiverURL, s.Env, d.EventID, d.Delivered,
		s.AdminToken, d.APIKey, s.IngestURL, d.APIKey, s.IngestURL, d.APIKey)
}
