package deploytest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

const deployScript = "scripts/deploy"

func TestDeployScriptIsValidBash(t *testing.T) {
	root := testenv.RepoRoot(t)
	file := filepath.Join(root, deployScript)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable", deployScript)
	}
	testenv.Run(t, root, nil, "bash", "-n", file)
}

// fakeCloud puts gcloud, terraform and curl first in PATH: each records
// that it was called and fails. It returns the environment to run with and
// a function listing the calls.
func fakeCloud(t *testing.T) (env []string, calls func() string) {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "calls")
	for _, name := range []string{"gcloud", "terraform", "curl"} {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>'" + log + "'\necho 'fake " + name + ": a dry run must not call me' >&2\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "TMPDIR=" + t.TempDir()}
	return env, func() string {
		b, _ := os.ReadFile(log)
		return string(b)
	}
}

// dryRun runs scripts/deploy --dry-run with a fake project, env and more
// args, and returns the command lines it printed (notes, starting with #,
// dropped).
func dryRun(t *testing.T, args []string, env ...string) []string {
	t.Helper()
	root := testenv.RepoRoot(t)
	fake, calls := fakeCloud(t)
	env = append(append(fake,
		"GOOGLE_CLOUD_PROJECT=example-project",
		"REGION=", "DEPLOY_RECEIVER=", "TF_STATE_BUCKET=", "BUILD_SERVICE_ACCOUNT=", "SMOKE_TENANT=",
		"GOOGLE_OAUTH_ACCESS_TOKEN=", "GOOGLE_APPLICATION_CREDENTIALS=",
	), env...)
	out := testenv.Run(t, root, env, filepath.Join(root, deployScript), append([]string{"--dry-run"}, args...)...)
	if c := calls(); c != "" {
		t.Errorf("the dry run called:\n%s", c)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// inOrder checks that each pattern matches a line after the line the one
// before matched, and returns the matched lines.
func inOrder(t *testing.T, lines []string, patterns ...string) []string {
	t.Helper()
	var matched []string
	next := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		i := slices.IndexFunc(lines[next:], re.MatchString)
		if i < 0 {
			t.Fatalf("no line matching %q after %q in the dry run:\n%s", p, matched, strings.Join(lines, "\n"))
		}
		matched = append(matched, lines[next+i])
		next += i + 1
	}
	return matched
}

const (
	dryRunTag  = "t1"
	dryImage   = `europe-west1-docker\.pkg\.dev/example-project/hookrun/`
	fullApply  = `^terraform -chdir=infra apply -input=false -auto-approve -var=project_id=example-project `
	stateBuckt = `gs://example-project-hookrun-tfstate`
)

func TestDeployDryRun(t *testing.T) {
	lines := dryRun(t, nil, "TAG="+dryRunTag)
	m := inOrder(t, lines,
		`^gcloud services enable .*cloudbuild\.googleapis\.com.* --project=example-project$`,
		`^gcloud storage buckets describe `+stateBuckt+` `,
		`^gcloud storage buckets create `+stateBuckt+` --project=example-project --location=europe-west1 `,
		`^gcloud storage buckets update `+stateBuckt+` .*--versioning`,
		`^terraform -chdir=infra init -input=false -reconfigure -backend-config=bucket=example-project-hookrun-tfstate -backend-config=prefix=infra$`,
		`^gcloud artifacts docker images describe `+dryImage+`ingest:t1 `,
		`^terraform -chdir=infra apply .*-target=google_artifact_registry_repository\.hookrun `,
		`^gcloud builds submit --project=example-project --region=europe-west1 --config=cloudbuild\.yaml .*_TAG=t1,_DEPLOY=false,.* \.$`,
		fullApply,
		`^terraform -chdir=infra output -raw ingest_url`,
		`^curl .*<ingest_url>/healthz`,
		`^gcloud run services describe hookrun-dispatcher `,
		`^gcloud auth print-identity-token --audiences=<dispatcher_url>`,
		`^curl .*<dispatcher_url>/healthz -H 'Authorization: Bearer <identity token>'`,
	)
	apply := m[8]
	for _, img := range []string{"ingest", "dispatcher", "receiver"} {
		if !regexp.MustCompile(`-var=` + img + `_image=` + dryImage + img + `:t1( |$)`).MatchString(apply) {
			t.Errorf("terraform apply does not pass %s_image of tag t1: %s", img, apply)
		}
	}
	if !strings.Contains(apply, "-var=deploy_receiver=false") || strings.Contains(apply, "-target") {
		t.Errorf("full apply %q: want -var=deploy_receiver=false and no -target", apply)
	}
	for _, l := range lines {
		if strings.Contains(l, "/v1/") {
			t.Errorf("without DEPLOY_RECEIVER the dry run calls the API: %s", l)
		}
	}
}

func TestDeployDryRunEndToEnd(t *testing.T) {
	lines := dryRun(t, nil, "TAG="+dryRunTag, "DEPLOY_RECEIVER=true", "REGION=europe-west1")
	m := inOrder(t, lines,
		`^terraform -chdir=infra init `,
		`^gcloud builds submit .*_DEPLOY_RECEIVER=true`,
		fullApply+`.*-var=deploy_receiver=true .*-var=receiver_secret_version=latest$`,
		`^terraform -chdir=infra output -raw receiver_url`,
		`^curl .*<receiver_url>/healthz`,
		`^gcloud secrets versions access latest --secret=hookrun-admin-token --project=example-project`,
		`^curl -sS -X POST <ingest_url>/v1/tenants -H 'Authorization: Bearer <admin token>' -d '\{"id":"hookrun-smoke"`,
		`^curl -sS -X POST <ingest_url>/v1/tenants/hookrun-smoke/api-keys `,
		`^curl -sS -X GET <ingest_url>/v1/tenants/hookrun-smoke/endpoints `,
		`^curl -sS -X POST <ingest_url>/v1/tenants/hookrun-smoke/endpoints .*"url":"<receiver_url>/webhooks"`,
		`^gcloud secrets versions add receiver-webhook-secret --project=example-project --data-file=- `,
		fullApply+`.*-var=receiver_secret_version=<version>'?$`,
		`^curl -sS -X POST <ingest_url>/v1/tenants/hookrun-smoke/endpoints/<endpoint id>:verify `,
		`^curl -sS -X POST <ingest_url>/v1/events -H 'Authorization: Bearer <tenant token>' -d '\{"id":"smoke-[^"]+","type":"hookrun\.smoke"`,
		`^curl -sS -X GET <ingest_url>/v1/tenants/hookrun-smoke/events/smoke-`,
		`^curl -sS -X DELETE <ingest_url>/v1/tenants/hookrun-smoke/api-keys/<key id> `,
	)
	if strings.Contains(m[0], "example-project") && !strings.Contains(m[0], "bucket=example-project-hookrun-tfstate") {
		t.Errorf("init %q", m[0])
	}
}

// TestDeployDryRunNeedsProject: a dry run asks gcloud nothing, so it
// needs the project named.
func TestDeployDryRunNeedsProject(t *testing.T) {
	root := testenv.RepoRoot(t)
	fake, calls := fakeCloud(t)
	cmd := exec.CommandContext(t.Context(), filepath.Join(root, deployScript), "--dry-run")
	cmd.Env = append(append(os.Environ(), fake...), "GOOGLE_CLOUD_PROJECT=", "TAG=t1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GOOGLE_CLOUD_PROJECT") {
		t.Errorf("dry run without GOOGLE_CLOUD_PROJECT: err %v, output %q; want a failure naming the variable", err, out)
	}
	if c := calls(); c != "" {
		t.Errorf("it called:\n%s", c)
	}
}

// TestDeployDefaultTag: without TAG, the images are named after the commit,
// as $SHORT_SHA names them in trigger builds, so a rerun finds them.
func TestDeployDefaultTag(t *testing.T) {
	root := testenv.RepoRoot(t)
	if err := exec.CommandContext(t.Context(), "git", "-C", root, "rev-parse", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout with a commit (%v): scripts/deploy needs TAG here", err)
	}
	head := strings.TrimSpace(testenv.Run(t, root, nil, "git", "rev-parse", "HEAD"))[:7]
	lines := dryRun(t, nil, "TAG=")
	builds := inOrder(t, lines, `^gcloud builds submit `)
	tag := regexp.MustCompile(`_TAG=([^,]+),`).FindStringSubmatch(builds[0])
	if tag == nil || !regexp.MustCompile(`^`+head+`(-dirty-[0-9a-f]{8})?$`).MatchString(tag[1]) {
		t.Errorf("builds submit %q: want _TAG=%s or %s-dirty-<hash>", builds[0], head, head)
	}
	again := inOrder(t, dryRun(t, nil, "TAG="), `^gcloud builds submit `)
	if tag2 := regexp.MustCompile(`_TAG=([^,]+),`).FindStringSubmatch(again[0]); tag2 == nil || tag2[1] != tag[1] {
		t.Errorf("two dry runs of the same checkout build different tags:\n%s\n%s", builds[0], again[0])
	}
}

// TestDeployAgreesWithInfraAndCloudBuild: what scripts/deploy passes to
// Terraform and Cloud Build is what infra/ and cloudbuild.yaml declare, and
// the Terraform outputs it reads exist.
func TestDeployAgreesWithInfraAndCloudBuild(t *testing.T) {
	root := testenv.RepoRoot(t)
	in := readInfra(t, root)
	cb, _ := readCloudBuild(t, root)
	lines := dryRun(t, nil, "TAG="+dryRunTag, "DEPLOY_RECEIVER=true")
	text := strings.Join(lines, "\n")

	var targets []string
	for _, m := range regexp.MustCompile(`-target=([A-Za-z0-9_.\[\]"]+)`).FindAllStringSubmatch(text, -1) {
		targets = append(targets, m[1])
		if !slices.Contains(in.resources, m[1]) {
			t.Errorf("scripts/deploy applies -target=%s, which infra/ does not declare", m[1])
		}
	}
	// Cloud Build runs as the build identity right after the targeted
	// apply: the repository, the identity and all its grants must be there.
	for addr, body := range in.blocks {
		grantsBuild := strings.Contains(body, "members.build") || strings.Contains(body, "google_service_account.build.")
		if strings.HasPrefix(addr, "google_artifact_registry_repository.") || addr == "google_service_account.build" ||
			(grantsBuild && strings.Contains(addr, "_iam_")) {
			if !slices.Contains(targets, addr) {
				t.Errorf("scripts/deploy's first, targeted apply lacks %s, which the image build needs", addr)
			}
		}
	}
	for _, m := range tfVarFlag.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(in.variables, m[1]) {
			t.Errorf("scripts/deploy passes -var=%s, which infra/ does not declare", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`terraform -chdir=infra output -raw ([a-z_]+)`).FindAllStringSubmatch(text, -1) {
		if !slices.Contains(in.outputs, m[1]) {
			t.Errorf("scripts/deploy reads output %s, which infra/ does not declare", m[1])
		}
	}
	subs := regexp.MustCompile(`--substitutions=(\S+)`).FindStringSubmatch(text)
	if subs == nil {
		t.Fatal("scripts/deploy passes no --substitutions to gcloud builds submit")
	}
	for _, kv := range strings.Split(subs[1], ",") {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := cb.Substitutions[k]; !ok {
			t.Errorf("scripts/deploy passes substitution %s, which cloudbuild.yaml does not define", k)
		}
	}
	if !strings.Contains(in.text, `account_id   = "hookrun-build"`) && !strings.Contains(in.text, `"hookrun-build"`) {
		t.Error("scripts/deploy builds as hookrun-build, which infra/ does not create")
	}
	if !strings.Contains(in.text, `"hookrun-admin-token"`) || !strings.Contains(in.text, `"receiver-webhook-secret"`) {
		t.Error("the dry run's placeholders name secrets infra/ does not create (hookrun-admin-token, receiver-webhook-secret)")
	}
}

// TestDeployRotatesAdminToken: --rotate-admin-token replaces the token's
// random source, which infra/ declares, in the full apply only.
func TestDeployRotatesAdminToken(t *testing.T) {
	root := testenv.RepoRoot(t)
	in := readInfra(t, root)
	lines := dryRun(t, []string{"--rotate-admin-token"}, "TAG="+dryRunTag)
	var replaced []string
	for _, l := range lines {
		for _, m := range regexp.MustCompile(`-replace=(\S+)`).FindAllStringSubmatch(l, -1) {
			if strings.Contains(l, "-target") || !strings.Contains(l, " apply ") {
				t.Errorf("-replace outside the full apply: %s", l)
			}
			replaced = append(replaced, m[1])
		}
	}
	if len(replaced) != 1 {
		t.Fatalf("--rotate-admin-token replaced %v, want one resource in one apply:\n%s", replaced, strings.Join(lines, "\n"))
	}
	if !slices.Contains(in.resources, replaced[0]) || !strings.Contains(in.blocks["google_secret_manager_secret_version.admin_token"], replaced[0]) {
		t.Errorf("-replace=%s: want the resource infra/ makes the admin token's secret version from", replaced[0])
	}
	for _, l := range dryRun(t, nil, "TAG="+dryRunTag) {
		if strings.Contains(l, "-replace") {
			t.Errorf("without --rotate-admin-token: %s", l)
		}
	}
}
