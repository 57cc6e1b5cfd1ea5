package infracheck

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
	"gopkg.in/yaml.v3"
)

// cloudBuild is what the checks read of a cloudbuild.yaml.
type cloudBuild struct {
	Substitutions map[string]string `yaml:"substitutions"`
	Steps         []buildStep       `yaml:"steps"`
}

type buildStep struct {
	Name       string   `yaml:"name"`
	ID         string   `yaml:"id"`
	Entrypoint string   `yaml:"entrypoint"`
	Args       []string `yaml:"args"`
	Dir        string   `yaml:"dir"`
	Script     string   `yaml:"script"`
}

// label names step i in messages.
func (s buildStep) label(i int) string {
	if s.ID != "" {
		return fmt.Sprintf("step %q", s.ID)
	}
	return fmt.Sprintf("step %d", i+1)
}

// checkCloudBuild reports what the cloudbuild.yaml at cbPath names that
// does not exist in the repository at root: paths (-f Dockerfiles, build contexts, step dirs, scripts/… and
// other repository paths in its commands, the sources a Dockerfile copies
// given the build args), and Cloud Run services that infraDir does not
// declare; and the services infraDir declares that it never deploys, when
// it deploys any.
func checkCloudBuild(root, cbPath, infraDir string, svcs []service) problems {
	var ps problems
	file := filepath.Base(cbPath)
	src, err := os.ReadFile(cbPath)
	if err != nil {
		ps.addf("%s: %v", file, err)
		return ps
	}
	var cb cloudBuild
	if err := yaml.Unmarshal(src, &cb); err != nil {
		ps.addf("%s does not parse: %v", file, err)
		return ps
	}
	if len(cb.Steps) == 0 {
		ps.addf("%s has no steps", file)
	}
	// The entries of a step's directory tell a path from another word.
	topLevel := func(dir string) map[string]bool {
		out := map[string]bool{}
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			out[e.Name()] = true
		}
		return out
	}
	exists := func(dir, p string) bool {
		p = strings.TrimPrefix(p, "/workspace/")
		if filepath.IsAbs(p) {
			return true // outside the source tree: not ours to check
		}
		_, err := os.Stat(filepath.Join(root, dir, filepath.FromSlash(p)))
		return err == nil
	}
	deployed := map[string]string{} // service → step
	for i, st := range cb.Steps {
		where := fmt.Sprintf("%s: %s", file, st.label(i))
		if st.Dir != "" && !exists("", st.Dir) {
			ps.addf("%s: dir %s does not exist", where, st.Dir)
		}
		entries := topLevel(st.Dir)
		for _, words := range st.commands() {
			for _, w := range words {
				checkPathWord(&ps, where, st.Dir, w, entries, exists)
			}
			if b, ok := parseDockerBuild(words); ok {
				for _, v := range b.args {
					checkPathWord(&ps, where, st.Dir, v, entries, exists)
				}
				checkDockerBuild(&ps, where, root, st.Dir, b, cb.Substitutions, exists)
			}
			if name, ok := deployedService(words); ok {
				resolved, known := substitute(name, cb.Substitutions)
				switch {
				case name == "":
					ps.addf("%s: a gcloud run command whose service name is not right after the verb: put it first, for this check", where)
				case !known:
					ps.addf("%s: cannot tell the service %s deploys: give its substitution a default", where, name)
				default:
					deployed[resolved] = where
				}
			}
		}
	}

	mods, more := loadModules(infraDir)
	ps = append(ps, more...)
	m := rootModule(mods, infraDir)
	if m == nil {
		ps.addf("%s: no Terraform files to find the services in", displayName(infraDir, infraDir))
		return ps
	}
	runs, more := runServices(m, newEvaluator(m), svcs)
	ps = append(ps, more...)
	declared := map[string]bool{}
	for _, rs := range runs {
		if rs.name == "" {
			ps.addf("%s: the name of %s is not known offline, so cloudbuild.yaml's deploys cannot be matched with it", at(rs.where), rs.addr)
			continue
		}
		declared[rs.name] = true
	}
	for _, name := range sortedKeys(deployed) {
		if !declared[name] {
			ps.addf("%s: deploys the Cloud Run service %s, which infra/ does not declare (declared: %s)", deployed[name], name, strings.Join(sortedKeys(declared), ", "))
		}
	}
	if len(deployed) > 0 {
		for _, name := range sortedKeys(declared) {
			if _, ok := deployed[name]; !ok {
				ps.addf("%s: never deploys %s, which infra/ declares", file, name)
			}
		}
	}
	return ps
}

// checkPathWord reports a word of a command that names a path in the
// repository that does not exist: a relative path with a directory whose
// first element is in the step's directory (topLevel), so that what a
// build creates (./bin/app) is not taken for a typo. -chdir=DIR names a
// directory.
func checkPathWord(ps *problems, where, dir, w string, topLevel map[string]bool, exists func(dir, p string) bool) {
	if strings.Contains(w, "$") {
		return
	}
	if d, ok := strings.CutPrefix(w, "-chdir="); ok {
		if !exists(dir, d) {
			ps.addf("%s: -chdir=%s: no such directory", where, d)
		}
		return
	}
	if strings.HasPrefix(w, "-") {
		_, w, _ = strings.Cut(w, "=")
	}
	w = strings.TrimSuffix(w, "/...") // go package patterns
	rel := strings.TrimPrefix(w, "./")
	first, _, _ := strings.Cut(rel, "/")
	if !pathWord.MatchString(rel) || !topLevel[first] {
		return
	}
	if !exists(dir, rel) {
		ps.addf("%s: %s does not exist", where, rel)
	}
}

// checkDockerBuild reports a docker build's Dockerfile, context, and the
// sources its Dockerfile copies, that do not exist.
func checkDockerBuild(ps *problems, where, root, dir string, b dockerBuild, subs map[string]string, exists func(dir, p string) bool) {
	ctx, ok := substitute(b.context, subs)
	if !ok || ctx == "" {
		ps.addf("%s: docker build without a context this check can read", where)
		return
	}
	if !exists(dir, ctx) {
		ps.addf("%s: docker build context %s does not exist", where, ctx)
		return
	}
	df := b.dockerfile
	if df == "" {
		df = path.Join(ctx, "Dockerfile")
	}
	df, ok = substitute(df, subs)
	if !ok {
		return
	}
	if !exists(dir, df) {
		ps.addf("%s: Dockerfile %s does not exist", where, df)
		return
	}
	args := map[string]string{}
	for k, v := range b.args {
		if v, ok := substitute(v, subs); ok {
			args[k] = v
		}
	}
	srcs, err := dockerfileSources(filepath.Join(root, dir, filepath.FromSlash(df)), args)
	if err != nil {
		ps.addf("%s: %v", where, err)
		return
	}
	for _, s := range srcs {
		if strings.Contains(s, "$") || strings.Contains(s, "://") {
			continue
		}
		p := filepath.Join(root, dir, filepath.FromSlash(ctx), filepath.FromSlash(s))
		if matches, _ := filepath.Glob(p); len(matches) == 0 {
			ps.addf("%s: %s copies %s from the context %s, which does not exist there (build args %v)", where, df, s, ctx, args)
		}
	}
}

func TestCloudBuildReferences(t *testing.T) {
	root := testenv.RepoRoot(t)
	report(t, "cloudbuild.yaml references", checkCloudBuild(root, filepath.Join(root, "cloudbuild.yaml"), filepath.Join(root, "infra"), services))
}

func TestCloudBuildReferencesFixtures(t *testing.T) {
	svcs := []service{{name: "ingest", required: true}, {name: "dispatcher", required: true}}
	const good = `substitutions:
  _REGION: europe-west1
  _INGEST: hookrun-ingest
  _EMPTY: ""
steps:
  - id: test
    name: golang:1.26
    entrypoint: bash
    args: ["-c", "go vet ./... && go test ./internal/... ./run/ingest"]
  - id: build-ingest
    name: gcr.io/cloud-builders/docker
    args: [build, -f, run/Dockerfile, --build-arg, SERVICE=ingest, -t, "${_REGION}-docker.pkg.dev/$PROJECT_ID/r/ingest:$SHORT_SHA", .]
  - id: build-dispatcher
    name: gcr.io/cloud-builders/docker
    entrypoint: bash
    args:
      - -c
      - >-
        docker build --file=run/Dockerfile --build-arg=SERVICE=dispatcher
        -t "x/dispatcher:$$(cat /workspace/tag)" .
  - id: infra
    name: hashicorp/terraform
    entrypoint: sh
    args:
      - -c
      - |
        set -eu
        terraform -chdir=infra init -input=false
        ./scripts/deploy --plan # scripts/deploy is the one command
  - id: in-dir
    name: golang:1.26
    dir: run
    entrypoint: go
    args: [vet, ./ingest/main.go]
  - id: deploy-ingest
    name: gcr.io/google.com/cloudsdktool/cloud-sdk:slim
    entrypoint: gcloud
    args: [run, deploy, "${_INGEST}", "--region=${_REGION}", --image=x]
  - id: deploy-dispatcher
    name: gcr.io/google.com/cloudsdktool/cloud-sdk:slim
    script: |
      gcloud run services describe hookrun-dispatcher --region="${_REGION}" >/dev/null ||
        { echo "hookrun-dispatcher: missing" >&2; exit 1; }
      gcloud beta run deploy hookrun-dispatcher \
        --region="${_REGION}" --image=x
`
	const infra = `resource "google_cloud_run_v2_service" "ingest" {
  name = "hookrun-ingest"
}

resource "google_cloud_run_v2_service" "dispatcher" {
  name = local.names.dispatcher
}

locals {
  names = { dispatcher = "hookrun-dispatcher" }
}
`
	tree := map[string]string{
		"go.mod":                 "module example.com/m\n",
		"run/Dockerfile":         "FROM golang AS build\nARG SERVICE\nCOPY go.mod ./\nCOPY internal/ internal/\nCOPY [\"run/${SERVICE}/\", \"run/${SERVICE}/\"]\nRUN go build ./run/$SERVICE\nFROM scratch\nCOPY --from=build /out /out\n",
		"run/ingest/main.go":     "package main\n",
		"run/dispatcher/main.go": "package main\n",
		"internal/x/x.go":        "package x\n",
		"scripts/deploy":         "#!/bin/sh\n",
		"infra/main.tf":          infra,
	}
	with := func(cb string, edits ...string) map[string]string {
		files := maps.Clone(tree)
		files["cloudbuild.yaml"] = strings.NewReplacer(edits...).Replace(cb)
		return files
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"good", with(good), nil},
		{"Dockerfile missing", with(good, "-f, run/Dockerfile", "-f, run/Dockerfile.ingest"), []string{`step "build-ingest": Dockerfile run/Dockerfile.ingest does not exist`, "run/Dockerfile.ingest does not exist"}},
		{"build arg naming no directory", with(good, "SERVICE=dispatcher", "SERVICE=dispatch"), []string{`step "build-dispatcher": run/Dockerfile copies run/dispatch/ from the context ., which does not exist there`}},
		{"build arg that is a path", with(good, "--build-arg=SERVICE=dispatcher", "--build-arg=SERVICE=dispatcher --build-arg=SRC=run/dispatch"), []string{`step "build-dispatcher": run/dispatch does not exist`}},
		{"context missing", with(good, "SHORT_SHA\", .]", "SHORT_SHA\", ./build]"), []string{"docker build context ./build does not exist"}},
		{"script missing", with(good, "./scripts/deploy", "./scripts/deplyo"), []string{`step "infra": scripts/deplyo does not exist`}},
		{"package missing", with(good, "./run/ingest\"", "./run/ingset\""), []string{"run/ingset does not exist"}},
		{"chdir missing", with(good, "-chdir=infra", "-chdir=infa"), []string{"-chdir=infa: no such directory"}},
		{"step dir missing", with(good, "dir: run", "dir: runs"), []string{`step "in-dir": dir runs does not exist`}},
		{"path relative to the step dir", with(good, "./ingest/main.go]", "./ingest/mian.go]"), []string{`step "in-dir": ingest/mian.go does not exist`}},
		{"output of the build", with(good, "go test ./internal/...", "go build -o ./bin/app ./internal/... && ./bin/app"), nil},
		{"service not in infra", with(good, "_INGEST: hookrun-ingest", "_INGEST: hookrun-ingset"), []string{
			`step "deploy-ingest": deploys the Cloud Run service hookrun-ingset, which infra/ does not declare`,
			"never deploys hookrun-ingest, which infra/ declares",
		}},
		{"service in a script not in infra", with(good, "beta run deploy hookrun-dispatcher", "beta run deploy hookrun-dispatch"), []string{"deploys the Cloud Run service hookrun-dispatch, which infra/ does not declare"}},
		{"substitution without a default", with(good, `"${_INGEST}"`, `"${_SERVICE}"`), []string{"cannot tell the service ${_SERVICE} deploys"}},
		{"name after the flags", with(good, `deploy, "${_INGEST}", "--region=${_REGION}"`, `deploy, "--region=${_REGION}", "${_INGEST}"`), []string{"whose service name is not right after the verb"}},
		{"does not parse", with(good, "steps:", "steps: ["), []string{"cloudbuild.yaml does not parse"}},
		{"no cloudbuild.yaml", tree, []string{"cloudbuild.yaml: open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFiles(t, tt.files)
			expectProblems(t, checkCloudBuild(root, filepath.Join(root, "cloudbuild.yaml"), filepath.Join(root, "infra"), svcs), tt.want...)
		})
	}
}

// TestCloudBuildCatchesBrokenCopy breaks a copy of the real cloudbuild.yaml,
// checked against the real repository: a Dockerfile renamed, and a service
// misspelt.
func TestCloudBuildCatchesBrokenCopy(t *testing.T) {
	root := testenv.RepoRoot(t)
	real := filepath.Join(root, "cloudbuild.yaml")
	infra := filepath.Join(root, "infra")
	before := checkCloudBuild(root, real, infra, services)
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	var cb cloudBuild
	if err := yaml.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	var dockerfile, service string
	for _, st := range cb.Steps {
		for _, words := range st.commands() {
			if d, ok := parseDockerBuild(words); ok && dockerfile == "" {
				dockerfile = d.dockerfile
			}
			if i := slices.Index(words, "deploy"); i > 0 && words[i-1] == "run" && i+1 < len(words) && service == "" {
				service = words[i+1]
			}
		}
	}
	if dockerfile == "" || service == "" || strings.Contains(service, "$") {
		t.Fatalf("cloudbuild.yaml has no docker build -f DOCKERFILE or gcloud run deploy NAME (a literal) to break")
	}
	broken := strings.ReplaceAll(string(b), dockerfile, dockerfile+".missing")
	broken = strings.ReplaceAll(broken, "run deploy "+service, "run deploy "+service+"-typo")
	copyPath := filepath.Join(t.TempDir(), "cloudbuild.yaml")
	if err := os.WriteFile(copyPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	after := checkCloudBuild(root, copyPath, infra, services)
	expectProblems(t, newProblems(before, after),
		"Dockerfile "+dockerfile+".missing does not exist",
		"deploys the Cloud Run service "+service+"-typo, which infra/ does not declare",
	)
}
