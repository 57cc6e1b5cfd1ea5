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
	"gopkg.in/yaml.v3"
)

// cloudBuild is the part of a Cloud Build config these tests read.
type cloudBuild struct {
	Substitutions map[string]string `yaml:"substitutions"`
	Options       map[string]any    `yaml:"options"`
	Timeout       string            `yaml:"timeout"`
	Steps         []buildStep       `yaml:"steps"`
	Images        []string          `yaml:"images"`
}

type buildStep struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Entrypoint string   `yaml:"entrypoint"`
	Args       []string `yaml:"args"`
	Dir        string   `yaml:"dir"`
	Env        []string `yaml:"env"`
	WaitFor    []string `yaml:"waitFor"`
}

// builtinSubstitutions are the ones Cloud Build provides
// (cloud.google.com/build/docs/configuring-builds/substitute-variable-values).
var builtinSubstitutions = []string{
	"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION",
	"TRIGGER_NAME", "COMMIT_SHA", "REVISION_ID", "SHORT_SHA", "REPO_NAME",
	"REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME", "REF_NAME",
	"TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
}

// substitutionRef matches what Cloud Build substitutes: $$ (a literal $),
// $NAME and ${NAME}.
var substitutionRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

func readCloudBuild(t *testing.T, root string) (cloudBuild, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "cloudbuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cb cloudBuild
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // a misspelt key would be ignored by us but refused by Cloud Build
	if err := dec.Decode(&cb); err != nil {
		t.Fatalf("cloudbuild.yaml: %v", err)
	}
	if len(cb.Steps) == 0 {
		t.Fatal("cloudbuild.yaml has no steps")
	}
	return cb, string(b)
}

// substitute does what Cloud Build does to a step's text before running it,
// with values for every substitution, and reports references to unknown
// ones.
func substitute(t *testing.T, cb cloudBuild, s string) string {
	t.Helper()
	return substitutionRef.ReplaceAllStringFunc(s, func(ref string) string {
		if ref == "$$" {
			return "$"
		}
		name := strings.Trim(ref, "${}")
		if v, ok := cb.Substitutions[name]; ok {
			if v == "" {
				return "value-of-" + strings.ToLower(name)
			}
			return v
		}
		if slices.Contains(builtinSubstitutions, name) {
			return "builtin-" + strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		}
		t.Errorf("cloudbuild.yaml: %s is neither a built-in substitution nor one in substitutions: (write $$ for the shell's $)", ref)
		return ref
	})
}

// TestCloudBuildSubstitutions: every substitution the steps use is defined
// or built in, every one defined is used (Cloud Build refuses unused ones)
// and documented in the header comment, and user-defined names start with _.
func TestCloudBuildSubstitutions(t *testing.T) {
	root := testenv.RepoRoot(t)
	cb, text := readCloudBuild(t, root)
	header, _, _ := strings.Cut(text, "\nsubstitutions:")

	var steps strings.Builder
	for _, s := range cb.Steps {
		steps.WriteString(strings.Join(append(append([]string{s.Name, s.Entrypoint, s.Dir}, s.Args...), s.Env...), "\n"))
		steps.WriteByte('\n')
	}
	substitute(t, cb, steps.String()) // reports unknown ones
	used := map[string]bool{}
	for _, m := range substitutionRef.FindAllStringSubmatch(steps.String(), -1) {
		used[m[1]+m[2]] = true
	}
	for name := range cb.Substitutions {
		if !strings.HasPrefix(name, "_") {
			t.Errorf("substitution %s: user-defined substitutions start with _", name)
		}
		if !used[name] {
			t.Errorf("substitution %s is defined but no step uses it", name)
		}
		if !strings.Contains(header, name) {
			t.Errorf("substitution %s is not documented in the comment at the top of cloudbuild.yaml", name)
		}
	}
}

// TestCloudBuildSteps checks the steps: unique ids, waitFor naming earlier
// steps, and every shell script valid once substituted.
func TestCloudBuildSteps(t *testing.T) {
	root := testenv.RepoRoot(t)
	cb, _ := readCloudBuild(t, root)
	seen := map[string]bool{}
	for i, s := range cb.Steps {
		if s.ID == "" {
			t.Errorf("step %d (%s) has no id", i, s.Name)
		}
		if seen[s.ID] {
			t.Errorf("step id %s is used twice", s.ID)
		}
		for _, w := range s.WaitFor {
			if w != "-" && !seen[w] {
				t.Errorf("step %s waits for %s, which is not an earlier step", s.ID, w)
			}
		}
		seen[s.ID] = true
		if s.Name == "" {
			t.Errorf("step %s has no builder image (name)", s.ID)
		}

		shell := s.Entrypoint
		if shell != "bash" && shell != "sh" || len(s.Args) != 2 || s.Args[0] != "-c" {
			continue
		}
		script := substitute(t, cb, s.Args[1])
		t.Run(s.ID, func(t *testing.T) {
			if shell == "sh" {
				shell = "dash" // busybox sh in hashicorp/terraform; dash is as strict
				if _, err := exec.LookPath(shell); err != nil {
					shell = "sh"
				}
			}
			cmd := exec.CommandContext(t.Context(), shell, "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("step %s: %s -n: %v\n%s\nscript after substitution:\n%s", s.ID, shell, err, out, script)
			}
		})
	}
}

var (
	dockerfileFlag  = regexp.MustCompile(`(?:^|\s)-f\s+(\S+)`)
	buildArgService = regexp.MustCompile(`--build-arg\s+` + serviceArg + `=(\S+)`)
	imageRef        = regexp.MustCompile(`-docker\.pkg\.dev/[^/\s]+/hookrun/([a-z0-9-]+):`)
	runDeploy       = regexp.MustCompile(`gcloud\s+run\s+(?:deploy|services\s+describe)\s+([a-z0-9-]+)`)
	chdir           = regexp.MustCompile(`-chdir=(\S+)`)
	repoPath        = regexp.MustCompile(`(?:^|[\s"'=])((?:run|functions|scripts|internal|infra)/[A-Za-z0-9_./-]*)`)
)

// TestCloudBuildNamesWhatExists: every Dockerfile, directory and script
// cloudbuild.yaml names exists; each image it builds is one of hookrun's
// services, built from the right Dockerfile and deployed to the service of
// its name, which infra/ declares; every service under run/ is built.
func TestCloudBuildNamesWhatExists(t *testing.T) {
	root := testenv.RepoRoot(t)
	cb, _ := readCloudBuild(t, root)
	in := readInfra(t, root)

	built := map[string]bool{}    // image names
	deployed := map[string]bool{} // Cloud Run service names
	for _, s := range cb.Steps {
		text := substitute(t, cb, strings.Join(s.Args, "\n"))
		for _, m := range repoPath.FindAllStringSubmatch(text, -1) {
			if p := strings.TrimRight(m[1], "/."); !exists(root, p) {
				t.Errorf("step %s names %s, which does not exist", s.ID, p)
			}
		}
		for _, m := range chdir.FindAllStringSubmatch(text, -1) {
			if fi, err := os.Stat(filepath.Join(root, m[1])); err != nil || !fi.IsDir() {
				t.Errorf("step %s: -chdir=%s is not a directory", s.ID, m[1])
			}
		}
		for _, m := range runDeploy.FindAllStringSubmatch(text, -1) {
			name := m[1]
			if !slices.Contains(mapValues(services), name) {
				t.Errorf("step %s deploys %s, which is not one of hookrun's services %v", s.ID, name, mapValues(services))
			}
			if !strings.Contains(in.text, `"`+name+`"`) {
				t.Errorf("step %s deploys %s, which infra/ does not declare", s.ID, name)
			}
			deployed[name] = true
		}
		for _, line := range strings.Split(text, "\n") {
			if !strings.Contains(line, "docker build") {
				continue
			}
			df := dockerfileFlag.FindStringSubmatch(line)
			img := imageRef.FindStringSubmatch(line)
			if df == nil || img == nil {
				t.Errorf("step %s: docker build without -f <Dockerfile> or -t <region>-docker.pkg.dev/<project>/hookrun/<image>:<tag>: %s", s.ID, line)
				continue
			}
			if !exists(root, df[1]) {
				t.Errorf("step %s: Dockerfile %s does not exist", s.ID, df[1])
			}
			name := img[1]
			if _, ok := services[name]; !ok {
				t.Errorf("step %s builds image %s, not one of hookrun's services", s.ID, name)
			}
			want := "functions/receiver/Dockerfile"
			if name != "receiver" {
				want = runDockerfile
				arg := buildArgService.FindStringSubmatch(line)
				if arg == nil || arg[1] != name {
					t.Errorf("step %s builds %s from %s without --build-arg %s=%s", s.ID, name, df[1], serviceArg, name)
				}
			}
			if df[1] != want {
				t.Errorf("step %s builds %s from %s, want %s", s.ID, name, df[1], want)
			}
			built[name] = true
		}
	}
	for _, svc := range runServices(t, root) {
		if _, ok := services[svc]; !ok {
			t.Errorf("run/%s is a service this test does not know; add it to services and to cloudbuild.yaml", svc)
		}
	}
	for img, svc := range services {
		if !built[img] {
			t.Errorf("cloudbuild.yaml does not build the %s image", img)
		}
		if !deployed[svc] {
			t.Errorf("cloudbuild.yaml does not deploy %s", svc)
		}
	}
}

// TestCloudBuildTerraformVariables: the -var= of the infra step are
// variables infra/ declares.
func TestCloudBuildTerraformVariables(t *testing.T) {
	root := testenv.RepoRoot(t)
	cb, _ := readCloudBuild(t, root)
	in := readInfra(t, root)
	n := 0
	for _, s := range cb.Steps {
		for _, m := range tfVarFlag.FindAllStringSubmatch(strings.Join(s.Args, "\n"), -1) {
			n++
			if !slices.Contains(in.variables, m[1]) {
				t.Errorf("step %s passes -var=%s, which infra/ does not declare (it has %v)", s.ID, m[1], in.variables)
			}
		}
	}
	if n == 0 {
		t.Error("no step passes Terraform variables; the infra step should pass the images")
	}
}

var tfVarFlag = regexp.MustCompile(`-var=["']?([a-z_][a-z0-9_]*)=`)

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
