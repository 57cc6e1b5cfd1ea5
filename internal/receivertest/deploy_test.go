package receivertest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// TestDeployDryRun runs scripts/deploy-receiver as far as it goes without a
// cloud: it builds the receiver's folder and prints the gcloud command,
// whose source is that folder as it is.
func TestDeployDryRun(t *testing.T) {
	root := testenv.RepoRoot(t)
	out := testenv.Run(t, root, []string{
		"WEBHOOK_SECRET_NAME=receiver-webhook-secret",
		"GOOGLE_CLOUD_PROJECT=example-project",
		"REGION=europe-west1",
		"FUNCTION_NAME=",
	}, filepath.Join(root, "scripts", "deploy-receiver"), "--dry-run", "--", "--max-instances=3")

	args := strings.Fields(out) // no value here needs quoting
	if !slices.Equal(args[:min(4, len(args))], []string{"gcloud", "functions", "deploy", "hookrun-receiver"}) {
		t.Fatalf("dry run printed %q, want a gcloud functions deploy hookrun-receiver command", out)
	}
	for _, want := range []string{
		"--gen2",
		"--runtime=go126",
		"--entry-point=Receive",
		"--trigger-http",
		"--allow-unauthenticated",
		"--region=europe-west1",
		"--project=example-project",
		"--set-secrets=WEBHOOK_SECRET=receiver-webhook-secret:latest",
		"--max-instances=3",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("command %q lacks %s", out, want)
		}
	}

	var source string
	for _, a := range args {
		if s, ok := strings.CutPrefix(a, "--source="); ok {
			source = s
		}
	}
	if want := receiverDir(t); source != want {
		t.Errorf("--source=%q, want the receiver's folder %s", source, want)
	}
}

func TestDeployNeedsSecretName(t *testing.T) {
	root := testenv.RepoRoot(t)
	cmd := exec.CommandContext(t.Context(), filepath.Join(root, "scripts", "deploy-receiver"), "--dry-run")
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET_NAME=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WEBHOOK_SECRET_NAME") {
		t.Errorf("deploy-receiver without WEBHOOK_SECRET_NAME: err %v, output %q; want a failure naming the variable", err, out)
	}
}
