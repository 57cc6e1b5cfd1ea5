package deploytest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// fakeGcloud answers the gcloud commands scripts/deploy runs from files in
// $FAKE_STATE, and logs each call to $FAKE_STATE/calls.
const fakeGcloud = `#!/usr/bin/env bash
set -u
S=$FAKE_STATE
echo "gcloud $*" >>"$S/calls"
args="$*"
flag() { local a; for a in $args; do [[ "$a" == "--$1="* ]] && echo "${a#*=}"; done; }
case "$args" in
"auth print-access-token"*) echo access-token ;;
"auth print-identity-token"*) echo identity-token ;;
"services enable"*) ;;
"storage buckets describe"*)
  [[ -e "$S/bucket" ]] || { echo "bucket not found" >&2; exit 1; }
  if [[ "$args" == *versioning_enabled* ]]; then if [[ -e "$S/versioned" ]]; then echo True; else echo False; fi; fi ;;
"storage buckets create"*) touch "$S/bucket" ;;
"storage buckets update"*) [[ "$args" == *--versioning* ]] && touch "$S/versioned" ;;
"artifacts docker images describe "*) grep -qxF "$5" "$S/images" 2>/dev/null || { echo "image $5 not found" >&2; exit 1; } ;;
"iam service-accounts describe"*) [[ -e "$S/build-sa" ]] || exit 1 ;;
"builds submit"*)
  subs=$(flag substitutions); project=$(flag project)
  tag=$(tr , '\n' <<<"$subs" | sed -n 's/^_TAG=//p'); region=$(tr , '\n' <<<"$subs" | sed -n 's/^_REGION=//p')
  [[ -e "$S/build-sa" ]] || { echo "build identity missing" >&2; exit 1; }
  for i in ingest dispatcher receiver; do echo "$region-docker.pkg.dev/$project/hookrun/$i:$tag" >>"$S/images"; done ;;
"run services describe hookrun-receiver"*)
  [[ -e "$S/receiver-deployed" ]] || { echo "no service hookrun-receiver" >&2; exit 1; }
  printf '{"spec":{"template":{"spec":{"containers":[{"env":[{"name":"WEBHOOK_SECRET","valueFrom":{"secretKeyRef":{"name":"receiver-webhook-secret","key":"%s"}}}]}]}}}}\n' "$(cat "$S/receiver-version")" ;;
"run services describe hookrun-dispatcher"*)
  echo '{"metadata":{"annotations":{"run.googleapis.com/ingress":"internal"}},"status":{"conditions":[{"type":"Ready","status":"True"}],"latestReadyRevisionName":"r1","latestCreatedRevisionName":"r1"}}' ;;
"secrets versions access latest --secret=hookrun-admin-token"*) echo admin-token-0123456789 ;;
"secrets versions add receiver-webhook-secret"*)
  n=$(ls "$S" | grep -c '^secret-v'); n=$((n + 1)); cat >"$S/secret-v$n"
  echo "projects/123/secrets/receiver-webhook-secret/versions/$n" ;;
*) echo "fake gcloud: unexpected: $args" >&2; exit 2 ;;
esac
`

// fakeTerraform applies by recording the variables: an apply whose
// variables equal the last one's is logged as "no changes".
const fakeTerraform = `#!/usr/bin/env bash
set -u
S=$FAKE_STATE
echo "terraform $*" >>"$S/calls"
[[ "$1" == -chdir=infra ]] || { echo "fake terraform: want -chdir=infra first" >&2; exit 2; }
shift
case "$1" in
init) ;;
apply)
  vars=() targets=()
  for a in "$@"; do
    case "$a" in -var=*) vars+=("${a#-var=}") ;; -target=*) targets+=("${a#-target=}") ;; esac
  done
  if ((${#targets[@]} > 0)); then
    for t in "${targets[@]}"; do [[ "$t" == google_service_account.build ]] && touch "$S/build-sa"; done
    exit 0
  fi
  for v in "${vars[@]}"; do
    case "$v" in *_image=*) grep -qxF "${v#*_image=}" "$S/images" 2>/dev/null || { echo "image ${v#*_image=} not found" >&2; exit 1; } ;; esac
  done
  sig=$(printf '%s\n' "${vars[@]}" | sort)
  if [[ -e "$S/applied" && "$(cat "$S/applied")" == "$sig" ]]; then echo "apply: no changes" >>"$S/calls"; else echo "apply: changes" >>"$S/calls"; fi
  printf '%s' "$sig" >"$S/applied"
  if printf '%s\n' "${vars[@]}" | grep -qx deploy_receiver=true; then
    touch "$S/receiver-deployed"
    [[ -e "$S/secret-v1" ]] || printf whsec_placeholder >"$S/secret-v1"
    printf '%s\n' "${vars[@]}" | sed -n 's/^receiver_secret_version=//p' >"$S/receiver-version"
  fi ;;
output)
  case "$3" in
  ingest_url) echo "$FAKE_URL" ;;
  dispatcher_url) echo "$FAKE_URL/dispatcher" ;;
  receiver_url) echo "$FAKE_URL/receiver" ;;
  admin_token_secret) echo hookrun-admin-token ;;
  receiver_secret) echo receiver-webhook-secret ;;
  *) echo "fake terraform: no output $3" >&2; exit 1 ;;
  esac ;;
*) echo "fake terraform: unexpected: $*" >&2; exit 2 ;;
esac
`

// fakeIngest is the part of ingest's API scripts/deploy uses, behind
// Cloud Run's front end (which keeps /healthz), and the sample receiver's
// /healthz. An endpoint becomes active when the receiver's secret, the
// version of receiver-webhook-secret the receiver runs with, is the
// endpoint's; events are delivered to active endpoints only then.
type fakeIngest struct {
	state string // the fakes' state directory
	admin string

	mu        sync.Mutex
	tenants   map[string]bool
	keys      map[string]bool // api key => active
	keyIDs    map[string]string
	endpoints map[string]*fakeEndpoint
	events    map[string]bool
	log       []string // "METHOD path status"
}

type fakeEndpoint struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Status string `json:"status"`
	secret string
}

// receiverSecret is the secret the receiver runs with.
func (f *fakeIngest) receiverSecret() string {
	v, err := os.ReadFile(filepath.Join(f.state, "receiver-version"))
	if err != nil {
		return ""
	}
	version := strings.TrimSpace(string(v))
	if version == "latest" {
		names, _ := filepath.Glob(filepath.Join(f.state, "secret-v*"))
		version = fmt.Sprint(len(names))
	}
	b, _ := os.ReadFile(filepath.Join(f.state, "secret-v"+version))
	return string(b)
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	f.serve(rec, r)
	f.log = append(f.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func (f *fakeIngest) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case p == "/healthz": // Cloud Run's front end keeps it
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><title>Error 404 (Not Found)!!1</title></html>")
		return
	case p == "/openapi.json":
		reply(200, map[string]string{"openapi": "3.1.0"})
		return
	case p == "/receiver/healthz":
		reply(200, map[string]string{"status": "ok"})
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	isAdmin := token == f.admin
	if !isAdmin && !f.keys[token] {
		reply(401, map[string]string{"error": "unauthenticated"})
		return
	}
	parts := strings.Split(strings.TrimPrefix(p, "/v1/"), "/")
	switch {
	case r.Method == "POST" && p == "/v1/tenants" && isAdmin:
		id, _ := body["id"].(string)
		if f.tenants[id] {
			reply(409, map[string]string{"status": "ALREADY_EXISTS"})
			return
		}
		f.tenants[id] = true
		reply(201, map[string]any{"id": id, "api_key": "hkr_first"})
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "api-keys" && isAdmin:
		n := len(f.keyIDs) + 1
		key, id := fmt.Sprintf("hkr_key%d", n), fmt.Sprintf("key%d", n)
		f.keys[key], f.keyIDs[id] = true, key
		reply(201, map[string]any{"id": id, "api_key": key})
	case r.Method == "DELETE" && len(parts) == 4 && parts[2] == "api-keys" && isAdmin:
		f.keys[f.keyIDs[parts[3]]] = false
		w.WriteHeader(204)
	case r.Method == "GET" && len(parts) == 3 && parts[2] == "endpoints":
		list := []*fakeEndpoint{}
		for _, e := range f.endpoints {
			list = append(list, e)
		}
		reply(200, map[string]any{"endpoints": list})
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "endpoints":
		url, _ := body["url"].(string)
		e := &fakeEndpoint{ID: fmt.Sprintf("ep%d", len(f.endpoints)+1), URL: url, secret: fmt.Sprintf("whsec_ep%d_1", len(f.endpoints)+1)}
		f.endpoints[e.ID] = e
		f.verify(e)
		reply(201, map[string]any{"id": e.ID, "url": e.URL, "status": e.Status, "secret": e.secret})
	case r.Method == "POST" && len(parts) == 4 && parts[2] == "endpoints" && strings.HasSuffix(parts[3], ":verify"):
		e := f.endpoints[strings.TrimSuffix(parts[3], ":verify")]
		f.verify(e)
		reply(200, e)
	case r.Method == "POST" && len(parts) == 5 && parts[2] == "endpoints" && parts[4] == "secret:rotate":
		e := f.endpoints[parts[3]]
		e.secret += "r"
		reply(200, map[string]any{"id": e.ID, "status": e.Status, "secret": e.secret})
	case r.Method == "POST" && p == "/v1/events" && !isAdmin:
		id, _ := body["id"].(string)
		f.events[id] = true
		reply(202, map[string]string{"id": id})
	case r.Method == "GET" && len(parts) == 4 && parts[2] == "events" && f.events[parts[3]]:
		deliveries := []map[string]any{}
		for _, e := range f.endpoints {
			state := "retrying"
			if e.Status == "active" && e.secret == f.receiverSecret() {
				state = "succeeded"
			}
			deliveries = append(deliveries, map[string]any{"endpoint_id": e.ID, "state": state})
		}
		reply(200, map[string]any{"id": parts[3], "deliveries": deliveries})
	default:
		reply(404, map[string]string{"error": "no route " + r.Method + " " + p})
	}
}

func (f *fakeIngest) verify(e *fakeEndpoint) {
	e.Status = "pending"
	if e.secret == f.receiverSecret() {
		e.Status = "active"
	}
}

// calls returns what the fakes logged, and the API requests, since the
// last call.
func (f *fakeIngest) calls(t *testing.T) (cloud, api string) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(f.state, "calls"))
	_ = os.Remove(filepath.Join(f.state, "calls"))
	f.mu.Lock()
	defer f.mu.Unlock()
	api = strings.Join(f.log, "\n")
	f.log = nil
	return string(b), api
}

// TestDeployAgainstFakeCloud runs scripts/deploy for real, three times,
// against fake gcloud and terraform and a fake ingest: the first run
// deploys everything and delivers an event; the second changes nothing
// and delivers another; the third recovers an endpoint an interrupted run
// left pending.
func TestDeployAgainstFakeCloud(t *testing.T) {
	for _, tool := range []string{"curl", "jq", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: scripts/deploy needs it", tool)
		}
	}
	root := testenv.RepoRoot(t)
	state, bin := t.TempDir(), t.TempDir()
	for name, script := range map[string]string{"gcloud": fakeGcloud, "terraform": fakeTerraform} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeIngest{state: state, admin: "admin-token-0123456789", tenants: map[string]bool{},
		keys: map[string]bool{}, keyIDs: map[string]string{}, endpoints: map[string]*fakeEndpoint{}, events: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	deploy := func(t *testing.T) (cloud, api string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), filepath.Join(root, deployScript))
		cmd.Env = append(os.Environ(),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"FAKE_STATE="+state, "FAKE_URL="+srv.URL, "TMPDIR="+t.TempDir(),
			"GOOGLE_CLOUD_PROJECT=example-project", "DEPLOY_RECEIVER=true", "TAG=t1", "IAM_WAIT=0",
			"REGION=", "TF_STATE_BUCKET=", "BUILD_SERVICE_ACCOUNT=", "SMOKE_TENANT=",
			"GOOGLE_OAUTH_ACCESS_TOKEN=", "GOOGLE_APPLICATION_CREDENTIALS=")
		out, err := cmd.CombinedOutput()
		cloud, api = f.calls(t)
		if err != nil {
			t.Fatalf("scripts/deploy: %v\n%s\ncloud calls:\n%s\napi calls:\n%s", err, out, cloud, api)
		}
		t.Logf("scripts/deploy:\n%s", out)
		return cloud, api
	}
	count := func(s, sub string) int { return strings.Count(s, sub) }
	delivered := func(t *testing.T, api string) {
		t.Helper()
		if count(api, "POST /v1/events 202") != 1 || !strings.Contains(api, "GET /v1/tenants/hookrun-smoke/events/") {
			t.Errorf("no event sent and followed:\n%s", api)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		keys := 0
		for _, active := range f.keys {
			if active {
				keys++
			}
		}
		if keys != 0 {
			t.Errorf("%d smoke API keys left active; each run revokes its own", keys)
		}
	}

	t.Run("first run deploys", func(t *testing.T) {
		cloud, api := deploy(t)
		for _, want := range []string{"storage buckets create", "storage buckets update", "-target=google_artifact_registry_repository.hookrun",
			"builds submit", "secrets versions add receiver-webhook-secret", "receiver_secret_version=2"} {
			if !strings.Contains(cloud, want) {
				t.Errorf("first run: no %q in\n%s", want, cloud)
			}
		}
		if n := count(cloud, "apply: changes"); n != 2 {
			t.Errorf("first run: %d applies with changes, want 2 (everything, then the receiver's secret):\n%s", n, cloud)
		}
		for _, want := range []string{"GET /healthz 404", "GET /openapi.json 200", "GET /receiver/healthz 200",
			"POST /v1/tenants 201", "POST /v1/tenants/hookrun-smoke/endpoints 201", "POST /v1/tenants/hookrun-smoke/endpoints/ep1:verify 200"} {
			if !strings.Contains(api, want) {
				t.Errorf("first run: no %q in\n%s", want, api)
			}
		}
		delivered(t, api)
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		cloud, api := deploy(t)
		for _, unwanted := range []string{"buckets create", "buckets update", "-target", "builds submit", "secrets versions add", "apply: changes"} {
			if strings.Contains(cloud, unwanted) {
				t.Errorf("second run: %q in\n%s", unwanted, cloud)
			}
		}
		if n := count(cloud, "apply: no changes"); n != 1 {
			t.Errorf("second run: %d applies without changes, want 1:\n%s", n, cloud)
		}
		if !strings.Contains(api, "POST /v1/tenants 409") || strings.Contains(api, "POST /v1/tenants/hookrun-smoke/endpoints ") {
			t.Errorf("second run: want the tenant and endpoint reused:\n%s", api)
		}
		delivered(t, api)
	})

	t.Run("third run recovers a pending endpoint", func(t *testing.T) {
		f.mu.Lock()
		f.endpoints["ep1"].Status = "pending" // as an interrupted first run leaves it
		f.mu.Unlock()
		cloud, api := deploy(t)
		for _, want := range []string{"secrets versions add receiver-webhook-secret", "receiver_secret_version=3", "apply: changes"} {
			if !strings.Contains(cloud, want) {
				t.Errorf("third run: no %q in\n%s", want, cloud)
			}
		}
		for _, want := range []string{"secret:rotate 200", "ep1:verify 200"} {
			if !strings.Contains(api, want) {
				t.Errorf("third run: no %q in\n%s", want, api)
			}
		}
		delivered(t, api)
	})

	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for id := range f.endpoints {
		names = append(names, id)
	}
	sort.Strings(names)
	if len(names) != 1 {
		t.Errorf("endpoints %v after three runs, want one", names)
	}
}
