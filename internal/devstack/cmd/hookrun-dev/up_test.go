package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/testenv"
)

// The banner prints the demo tenant's portal link, and the README and
// scripts/dev say that it does.
func TestBannerShowsPortalLink(t *testing.T) {
	const link = "http://127.0.0.1:8080/portal/open?token=hkp_demo-token"
	var b strings.Builder
	printSummary(&b, &devstack.Stack{IngestURL: "http://127.0.0.1:8080"},
		&devstack.Demo{TenantID: "demo", PortalURL: link, PortalExpire: time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC)}, "traces")
	if !strings.Contains(b.String(), "\n  "+link+"\n") {
		t.Errorf("the banner does not show the portal link on a line of its own:\n%s", b.String())
	}
	root := testenv.RepoRoot(t)
	for _, name := range []string{"README.md", "scripts/dev"} {
		text, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		// Lines may break anywhere in the sentence, and scripts/dev's
		// start with "#".
		words := strings.Join(strings.Fields(strings.ReplaceAll(string(text), "#", "")), " ")
		if !strings.Contains(words, "opens the demo tenant's portal in a browser") {
			t.Errorf("%s does not say the banner prints a portal link", name)
		}
	}
}

// The banner shows how to point gcloud at the emulator and pull the
// dead-letters subscription, and the README and scripts/dev say so.
func TestBannerShowsDeadLetterPull(t *testing.T) {
	var b strings.Builder
	printSummary(&b, &devstack.Stack{IngestURL: "http://127.0.0.1:8080", Env: []string{"PUBSUB_EMULATOR_HOST=127.0.0.1:8085"}},
		&devstack.Demo{TenantID: "demo"}, "traces")
	for _, want := range []string{
		"export PUBSUB_EMULATOR_HOST=127.0.0.1:8085\n",
		"export CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://127.0.0.1:8085/\n",
		"export CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true\n",
		"project hookrun-local, topic events",
		"gcloud pubsub subscriptions pull dead-letters-local ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, b.String())
		}
	}
	root := testenv.RepoRoot(t)
	for _, name := range []string{"README.md", "scripts/dev"} {
		text, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "dead-letters-local") {
			t.Errorf("%s does not name the dead-letters subscription", name)
		}
	}
}
