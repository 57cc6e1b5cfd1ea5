package infracheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

// cloudRunType is the resource type of the services.
const cloudRunType = "google_cloud_run_v2_service"

// runService is one instance of a Cloud Run service resource.
type runService struct {
	instance
	where hcl.Range
	// name is the service's name attribute, "" when it is not known
	// offline.
	name string
	// code is which of services it runs, "" when that cannot be told.
	code string
	env  map[string]envSetting
}

// envSetting is one env block of a container.
type envSetting struct {
	where hcl.Range
	// fromSecret is set when the value comes from Secret Manager
	// (value_source.secret_key_ref).
	fromSecret bool
	// value is the value with every variable at its default, when
	// derived: known offline and taken from a variable or local (not
	// written as a literal, which is a deliberate production setting).
	value   string
	derived bool
}

// runServices returns the Cloud Run service instances of the module, with
// the environment their containers set.
func runServices(m *tfModule, e *evaluator, svcs []service) ([]runService, problems) {
	var ps problems
	srcs := map[string][]byte{}
	for _, f := range m.files {
		srcs[f.name] = f.src
	}
	var out []runService
	for _, b := range m.resources(cloudRunType) {
		insts, more := e.instances(b)
		ps = append(ps, more...)
		for _, inst := range insts {
			rs := runService{instance: inst, where: b.DefRange(), env: map[string]envSetting{}}
			top, diags := content(inst.body, []string{"name"})
			ps = append(ps, diagProblems(inst.addr, diags)...)
			rs.name, _ = stringAttr(top, "name", inst.ctx)

			containers, diags := nestedBlocks(inst.body, "template", "containers")
			ps = append(ps, diagProblems(inst.addr, diags)...)
			var images []string
			for _, c := range containers {
				cc, diags := content(c.Body, []string{"image"}, "env")
				ps = append(ps, diagProblems(inst.addr, diags)...)
				if img := cc.Attributes["image"]; img != nil {
					images = append(images, string(img.Expr.Range().SliceBytes(srcs[img.Expr.Range().Filename])))
				}
				for _, env := range cc.Blocks {
					ec, diags := content(env.Body, []string{"name", "value"}, "value_source")
					ps = append(ps, diagProblems(inst.addr, diags)...)
					name, ok := stringAttr(ec, "name", inst.ctx)
					if !ok {
						ps.addf("%s: %s sets an environment variable whose name is not known offline: write it as a string literal", at(env.DefRange), inst.addr)
						continue
					}
					if prev, dup := rs.env[name]; dup {
						ps.addf("%s: %s sets %s twice (also at %s)", at(env.DefRange), inst.addr, name, at(prev.where))
						continue
					}
					refs, diags := nestedBlocks(env.Body, "value_source", "secret_key_ref")
					ps = append(ps, diagProblems(inst.addr, diags)...)
					set := envSetting{where: env.DefRange, fromSecret: len(refs) > 0}
					if a := ec.Attributes["value"]; a != nil && len(hcl.UnwrapExpression(a.Expr).Variables()) > 0 {
						set.value, set.derived = stringAttr(ec, "value", inst.ctx)
					}
					rs.env[name] = set
				}
			}
			rs.code = whichService(svcs, rs.name, b.Labels[1], images)
			out = append(out, rs)
		}
	}
	return out, ps
}

// whichService tells which of svcs a Cloud Run service runs from the
// first of its name, its resource name and its image expressions that
// names exactly one of them.
func whichService(svcs []service, name, label string, images []string) string {
	for _, s := range append([]string{name, label}, images...) {
		var found []string
		for _, svc := range svcs {
			if strings.Contains(strings.ToLower(s), svc.name) {
				found = append(found, svc.name)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	return ""
}

// localOnlyEnv reads local.local_only_env: a list of variables no service
// sets in production, or an object of such lists by service name ("all"
// for every service). It returns the lists by service, "" for all.
func localOnlyEnv(m *tfModule, e *evaluator, svcs []service) (map[string][]string, hcl.Range, problems) {
	var ps problems
	a := m.locals()["local_only_env"]
	if a == nil {
		return nil, hcl.Range{}, nil
	}
	v, diags := a.Expr.Value(e.ctx)
	ps = append(ps, diagProblems("local.local_only_env", diags)...)
	names := func(v cty.Value) []string {
		if !v.IsWhollyKnown() || v.IsNull() || !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
			ps.addf("%s: local.local_only_env must be a list of names known offline, or an object of such lists by service", at(a.SrcRange))
			return nil
		}
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			s, ok := stringOf(el)
			if !ok {
				ps.addf("%s: local.local_only_env has an element that is not a string known offline", at(a.SrcRange))
				continue
			}
			out = append(out, s)
		}
		return out
	}
	out := map[string][]string{}
	if v.IsKnown() && !v.IsNull() && (v.Type().IsObjectType() || v.Type().IsMapType()) {
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			key := k.AsString()
			if key != "all" && !slices.ContainsFunc(svcs, func(s service) bool { return s.name == key }) {
				ps.addf("%s: local.local_only_env has a key %q that is neither \"all\" nor a service (%s)", at(a.SrcRange), key, serviceNames(svcs))
				continue
			}
			if key == "all" {
				key = ""
			}
			out[key] = names(el)
		}
		return out, a.SrcRange, ps
	}
	out[""] = names(v)
	return out, a.SrcRange, ps
}

func serviceNames(svcs []service) string {
	var names []string
	for _, s := range svcs {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

// checkEnv reports, for every Cloud Run service in infraDir's root module,
// the variables its code (svcs, under root) reads that it does not set and that
// local.local_only_env does not list; the variables it sets that its code
// does not read, or that local_only_env lists; secrets set as plain values;
// services it cannot tell the code of; required services missing; and
// local_only_env entries no code reads.
func checkEnv(root, infraDir string, svcs []service) problems {
	mods, ps := loadModules(infraDir)
	m := rootModule(mods, infraDir)
	if m == nil {
		ps.addf("%s: no Terraform files", displayName(infraDir, infraDir))
		return ps
	}
	g, err := newGoSource(root)
	if err != nil {
		ps.addf("%v", err)
		return ps
	}
	codeEnv := map[string]map[string]codeVar{}
	for _, s := range svcs {
		vars, more, err := g.serviceEnv(s)
		if err != nil {
			ps.addf("reading %s's configuration: %v", s.name, err)
			return ps
		}
		ps = append(ps, more...)
		codeEnv[s.name] = vars
	}

	e := newEvaluator(m)
	localOnly, localOnlyAt, more := localOnlyEnv(m, e, svcs)
	ps = append(ps, more...)
	runs, more := runServices(m, e, svcs)
	ps = append(ps, more...)

	for _, rs := range runs {
		if rs.code == "" {
			ps.addf("%s: cannot tell which service's code %s runs: its name, resource name or image must name exactly one of %s", at(rs.where), rs.addr, serviceNames(svcs))
			continue
		}
		unset := map[string]bool{}
		for _, k := range []string{"", rs.code} {
			for _, name := range localOnly[k] {
				unset[name] = true
			}
		}
		code := codeEnv[rs.code]
		for _, name := range sortedKeys(code) {
			v := code[name]
			set, isSet := rs.env[name]
			switch {
			case name == "PORT":
				if isSet {
					ps.addf("%s: %s sets PORT, which Cloud Run sets itself (and rejects)", at(set.where), rs.addr)
				}
			case isSet && unset[name]:
				ps.addf("%s: %s sets %s, which local.local_only_env says production leaves unset", at(set.where), rs.addr, name)
			case isSet && v.secret && !set.fromSecret:
				ps.addf("%s: %s sets %s, a secret (%s), as a plain value: take it from Secret Manager (value_source.secret_key_ref)", at(set.where), rs.addr, name, v.from)
			case !isSet && !unset[name]:
				ps.addf("%s: %s does not set %s, which %s reads (%s): set it in an env block, or list it in local.local_only_env", at(rs.where), rs.addr, name, rs.code, v.from)
			}
		}
		for _, name := range sortedKeys(rs.env) {
			set := rs.env[name]
			v, read := code[name]
			if !read {
				ps.addf("%s: %s sets %s, which no code of %s reads (a typo?)", at(set.where), rs.addr, name, rs.code)
				continue
			}
			if set.derived && v.hasDef && !sameSetting(set.value, v.def) {
				ps.addf("%s: %s sets %s to %q by default, but its code's default is %q (%s): make the variable's default agree, so that infra's defaults are the code's", at(set.where), rs.addr, name, set.value, v.def, v.from)
			}
		}
	}

	for _, s := range svcs {
		if s.required && !slices.ContainsFunc(runs, func(rs runService) bool { return rs.code == s.name }) {
			ps.addf("%s: no %s runs %s", displayName(infraDir, infraDir), cloudRunType, s.name)
		}
	}
	for _, k := range sortedKeys(localOnly) {
		for _, name := range localOnly[k] {
			read := false
			for _, s := range svcs {
				if _, ok := codeEnv[s.name][name]; ok && (k == "" || k == s.name) {
					read = true
				}
			}
			if !read {
				scope := "no service"
				if k != "" {
					scope = k
				}
				ps.addf("%s: local.local_only_env lists %s, which %s reads (a typo, or a setting since removed?)", at(localOnlyAt), name, scope)
			}
		}
	}
	return ps
}

// sameSetting reports whether two values of a setting, as infra writes it
// and as the code's envDefault does, mean the same: equal durations
// ("300s", "5m"), numbers ("60", "60.0") or booleans, or equal text.
func sameSetting(a, b string) bool {
	if a == b {
		return true
	}
	if da, err := time.ParseDuration(a); err == nil {
		db, err := time.ParseDuration(b)
		return err == nil && da == db
	}
	if fa, err := strconv.ParseFloat(a, 64); err == nil {
		fb, err := strconv.ParseFloat(b, 64)
		return err == nil && fa == fb
	}
	if ba, err := strconv.ParseBool(a); err == nil {
		bb, err := strconv.ParseBool(b)
		return err == nil && ba == bb
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestInfraSetsEveryEnvVar(t *testing.T) {
	root := testenv.RepoRoot(t)
	report(t, "infra/ Cloud Run environment", checkEnv(root, filepath.Join(root, "infra"), services))
}

// envFixture is a repository with a service "ingest" whose code reads
// GOOGLE_CLOUD_PROJECT, PORT, HOOKRUN_ADMIN_TOKEN (a secret) and
// HOOKRUN_LISTEN_HOST, with infra files given by the test.
func envFixture(t *testing.T, tf string) (root, infraDir string) {
	t.Helper()
	root = writeFiles(t, map[string]string{
		"go.mod": "module github.com/hookrun/hookrun\n\ngo 1.26\n",
		"run/ingest/main.go": `package main

type config struct {
	Port    int    ` + "`env:\"PORT\"`" + `
	Project string ` + "`env:\"GOOGLE_CLOUD_PROJECT,required\"`" + `
	Token   string ` + "`env:\"HOOKRUN_ADMIN_TOKEN,required,unset\"`" + `
	Host    string ` + "`env:\"HOOKRUN_LISTEN_HOST\"`" + `
}
`,
		"run/dispatcher/main.go": "package main\n\ntype config struct {\n\tQueue string `env:\"HOOKRUN_TASKS_QUEUE\"`\n}\n",
		"infra/main.tf":          tf,
	})
	return root, filepath.Join(root, "infra")
}

func TestInfraSetsEveryEnvVarFixtures(t *testing.T) {
	svcs := []service{
		{name: "ingest", required: true, configs: []string{"run/ingest/main.go"}},
		{name: "dispatcher", required: true, configs: []string{"run/dispatcher/main.go"}},
	}

	const ingestEnv = `
      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = var.project
      }
      env {
        name = "HOOKRUN_ADMIN_TOKEN"
        value_source {
          secret_key_ref {
            secret  = "admin-token"
            version = "latest"
          }
        }
      }`
	tf := func(localOnly, ingest string) string {
		return fmt.Sprintf(`variable "project" {
  description = "Project."
  type        = string
}

locals {
  local_only_env = %s
  images         = { dispatcher = "example/dispatcher" }
}

resource "google_cloud_run_v2_service" "ingest" {
  name = "hookrun-ingest"
  template {
    containers {
      image = "example/ingest"%s
    }
  }
}

resource "google_cloud_run_v2_service" "other" {
  name = "hookrun-${"disp"}atcher"
  template {
    containers {
      image = local.images.dispatcher
      env {
        name  = "HOOKRUN_TASKS_QUEUE"
        value = "deliveries"
      }
    }
  }
}
`, localOnly, ingest)
	}
	const listOnly = `["HOOKRUN_LISTEN_HOST"]`
	tests := []struct {
		name string
		tf   string
		want []string
	}{
		{"good", tf(listOnly, ingestEnv), nil},
		{"local_only_env by service", tf(`{ ingest = ["HOOKRUN_LISTEN_HOST"], all = [] }`, ingestEnv), nil},
		{"env from a dynamic block over a local", strings.Replace(tf(listOnly, `
      dynamic "env" {
        for_each = merge(local.plain, { GOOGLE_CLOUD_PROJECT = var.project })
        content {
          name  = env.key
          value = env.value
        }
      }
      env {
        name = "HOOKRUN_ADMIN_TOKEN"
        value_source {
          secret_key_ref {
            secret = "admin-token"
          }
        }
      }`), "locals {", "locals {\n  plain = {}", 1), nil},
		{"services from one resource with for_each", `locals {
  local_only_env = ["HOOKRUN_LISTEN_HOST"]
  services = {
    ingest     = { GOOGLE_CLOUD_PROJECT = "p" }
    dispatcher = { HOOKRUN_TASKS_QUEUE = "q" }
  }
}

resource "google_cloud_run_v2_service" "svc" {
  for_each = local.services
  name     = "hookrun-${each.key}"
  template {
    containers {
      image = "example/${each.key}"
      dynamic "env" {
        for_each = each.value
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }
}
`, []string{
			`google_cloud_run_v2_service.svc["ingest"] does not set HOOKRUN_ADMIN_TOKEN`,
		}},
		{"variable not set", tf(listOnly, strings.Replace(ingestEnv, `"GOOGLE_CLOUD_PROJECT"`, `"GOOGLE_CLOUD_PROJEKT"`, 1)), []string{
			"infra/main.tf:11: google_cloud_run_v2_service.ingest does not set GOOGLE_CLOUD_PROJECT, which ingest reads (run/ingest/main.go:5)",
			"sets GOOGLE_CLOUD_PROJEKT, which no code of ingest reads",
		}},
		{"local-only variable not listed", tf(`[]`, ingestEnv), []string{"does not set HOOKRUN_LISTEN_HOST"}},
		{"local_only_env for another service", tf(`{ dispatcher = ["HOOKRUN_LISTEN_HOST"] }`, ingestEnv), []string{
			"does not set HOOKRUN_LISTEN_HOST",
			"local.local_only_env lists HOOKRUN_LISTEN_HOST, which dispatcher reads",
		}},
		{"no local_only_env", strings.Replace(tf(listOnly, ingestEnv), "local_only_env = [\"HOOKRUN_LISTEN_HOST\"]", "", 1), []string{"does not set HOOKRUN_LISTEN_HOST"}},
		{"local-only variable set", tf(listOnly, ingestEnv+`
      env {
        name  = "HOOKRUN_LISTEN_HOST"
        value = "127.0.0.1"
      }`), []string{"sets HOOKRUN_LISTEN_HOST, which local.local_only_env says production leaves unset"}},
		{"stale local_only_env entry", tf(`["HOOKRUN_LISTEN_HOST", "HOOKRUN_LISTEN_HOTS"]`, ingestEnv), []string{"local.local_only_env lists HOOKRUN_LISTEN_HOTS, which no service reads"}},
		{"secret as a plain value", tf(listOnly, strings.Replace(ingestEnv, `value_source {
          secret_key_ref {
            secret  = "admin-token"
            version = "latest"
          }
        }`, `value = "hunter2hunter2hunter2"`, 1)), []string{"sets HOOKRUN_ADMIN_TOKEN, a secret (run/ingest/main.go:6), as a plain value"}},
		{"PORT set", tf(listOnly, ingestEnv+`
      env {
        name  = "PORT"
        value = "8080"
      }`), []string{"sets PORT, which Cloud Run sets itself"}},
		{"set twice", tf(listOnly, ingestEnv+`
      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = "again"
      }`), []string{"sets GOOGLE_CLOUD_PROJECT twice"}},
		{"name not known offline", tf(listOnly, ingestEnv+`
      env {
        name  = var.project
        value = "x"
      }`), []string{"sets an environment variable whose name is not known offline"}},
		{"service of unknown code", tf(listOnly, ingestEnv) + `
resource "google_cloud_run_v2_service" "mystery" {
  name = "hookrun-admin"
  template {
    containers {
      image = "example/admin"
    }
  }
}
`, []string{"cannot tell which service's code google_cloud_run_v2_service.mystery runs"}},
		{"required service missing", strings.NewReplacer(`"hookrun-${"disp"}atcher"`, `"hookrun-sender"`, "local.images.dispatcher", `"example/sender"`).Replace(tf(listOnly, ingestEnv)), []string{
			"cannot tell which service's code google_cloud_run_v2_service.other runs",
			"no google_cloud_run_v2_service runs dispatcher",
		}},
		{"bad local_only_env", tf(`"HOOKRUN_LISTEN_HOST"`, ingestEnv), []string{"local.local_only_env must be a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, infraDir := envFixture(t, tt.tf)
			expectProblems(t, checkEnv(root, infraDir, svcs), tt.want...)
		})
	}
}

// A variable's default that infra passes to a service must be the code's
// default for it, so that a default changed in one place and not the other
// fails; a value written as a literal is a deliberate production setting.
func TestInfraDefaultsAgreeWithCodeFixtures(t *testing.T) {
	svcs := []service{{name: "dispatcher", required: true, configs: []string{"run/dispatcher/main.go"}}}
	tf := func(value, def string) string {
		return `variable "queue_ttl" {
  description = "TTL."
  type        = string
  default     = "` + def + `"
}

locals {
  local_only_env = []
}

resource "google_cloud_run_v2_service" "dispatcher" {
  name = "hookrun-dispatcher"
  template {
    containers {
      image = "example/dispatcher"
      env {
        name  = "HOOKRUN_TTL"
        value = ` + value + `
      }
    }
  }
}
`
	}
	tests := []struct {
		name, codeDefault, tf string
		want                  []string
	}{
		{"same", "5m", tf("var.queue_ttl", "5m"), nil},
		{"same duration written otherwise", "5m", tf("var.queue_ttl", "300s"), nil},
		{"through a string template", "5m", tf(`"${var.queue_ttl}"`, "300s"), nil},
		{"drifted", "5m", tf("var.queue_ttl", "240s"), []string{
			`main.tf:16: google_cloud_run_v2_service.dispatcher sets HOOKRUN_TTL to "240s" by default, but its code's default is "5m" (run/dispatcher/main.go:4)`,
		}},
		{"literal is a production setting", "5m", tf(`"240s"`, "5m"), nil},
		{"no default in code", "", tf("var.queue_ttl", "240s"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := `env:"HOOKRUN_TTL"`
			if tt.codeDefault != "" {
				tag += ` envDefault:"` + tt.codeDefault + `"`
			}
			root := writeFiles(t, map[string]string{
				"go.mod":                 "module github.com/hookrun/hookrun\n\ngo 1.26\n",
				"run/dispatcher/main.go": "package main\n\ntype config struct {\n\tTTL string `" + tag + "`\n}\n",
				"infra/main.tf":          tt.tf,
			})
			expectProblems(t, checkEnv(root, filepath.Join(root, "infra"), svcs), tt.want...)
		})
	}
}

// TestInfraEnvCatchesBrokenCopy breaks a copy of the real infra/: the
// check must notice a variable dropped from a service and one misspelt.
func TestInfraEnvCatchesBrokenCopy(t *testing.T) {
	root := testenv.RepoRoot(t)
	dir := realInfraCopy(t)
	before := checkEnv(root, dir, services)
	files, err := tfFiles(dir, ".tf")
	if err != nil {
		t.Fatal(err)
	}
	// Misspell the first GOOGLE_CLOUD_PROJECT env block found.
	for _, f := range files {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), `name  = "GOOGLE_CLOUD_PROJECT"`) {
			editFile(t, f, `name  = "GOOGLE_CLOUD_PROJECT"`, `name  = "GOOGLE_CLOUD_PROJEKT"`)
			expectProblems(t, newProblems(before, checkEnv(root, dir, services)),
				"does not set GOOGLE_CLOUD_PROJECT",
				"sets GOOGLE_CLOUD_PROJEKT, which no code of",
			)
			return
		}
	}
	t.Fatalf("no env block setting GOOGLE_CLOUD_PROJECT in infra/ to break")
}

// TestInfraDefaultsCatchBrokenCopy changes, in a copy of the real infra/,
// the default of the dispatcher's dead-letter threshold: the check must
// notice that it no longer agrees with the code's.
func TestInfraDefaultsCatchBrokenCopy(t *testing.T) {
	root := testenv.RepoRoot(t)
	dir := realInfraCopy(t)
	before := checkEnv(root, dir, services)
	editFile(t, filepath.Join(dir, "variables.tf"), `variable "disable_after_dead_letters" {
  description = "HOOKRUN_DISABLE_AFTER_DEAD_LETTERS: disable an endpoint after this many dead letters in a row; 0 never does."
  type        = number
  default     = 50`, `variable "disable_after_dead_letters" {
  description = "HOOKRUN_DISABLE_AFTER_DEAD_LETTERS: disable an endpoint after this many dead letters in a row; 0 never does."
  type        = number
  default     = 40`)
	expectProblems(t, newProblems(before, checkEnv(root, dir, services)),
		`sets HOOKRUN_DISABLE_AFTER_DEAD_LETTERS to "40" by default, but its code's default is "50" (internal/dispatch/config.go:`,
	)
}
