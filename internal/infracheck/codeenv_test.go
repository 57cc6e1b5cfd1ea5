package infracheck

import (
	"go/ast"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// service is a Cloud Run service and the Go code that reads its
// environment.
type service struct {
	name string
	// required services must be declared in infra; the others are checked
	// when they are.
	required bool
	// configs are the files whose structs with `env:"…"` tags are the
	// service's configuration (github.com/caarlos0/env); embedded and nested
	// structs of this module are followed, app.Common included.
	configs []string
	// getenvs are further files whose os.Getenv and os.LookupEnv calls the
	// service runs (those of configs are read too). internal/logging reads
	// LOG_LEVEL in every service, through app.Main; internal/firestore
	// reads FIRESTORE_EMULATOR_HOST as its SDK does.
	getenvs []string
	// clientEnv are variables the Google Cloud client libraries the service
	// uses read by themselves: the emulator hosts.
	clientEnv []string
}

// services are hookrun's Cloud Run services. The receiver is optional
// (infra deploys it on request), so it is checked when infra declares it.
var services = []service{
	{
		name: "ingest", required: true,
		configs:   []string{"run/ingest/main.go"},
		getenvs:   []string{"internal/logging/logging.go", "internal/firestore/store.go"},
		clientEnv: []string{"FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"},
	},
	{
		name: "dispatcher", required: true,
		configs:   []string{"run/dispatcher/main.go"},
		getenvs:   []string{"internal/logging/logging.go", "internal/firestore/store.go"},
		clientEnv: []string{"FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"},
	},
	{
		name:      "receiver",
		configs:   []string{"functions/receiver/config.go"},
		getenvs:   []string{"functions/receiver/cmd/main.go", "functions/receiver/function.go", "functions/receiver/logging.go"},
		clientEnv: []string{"PUBSUB_EMULATOR_HOST"},
	},
}

// notServiceEnv are the other production files that read the environment,
// and why the services' lists need not name them.
var notServiceEnv = map[string]string{
	"internal/browsertest/browser.go": "test support: CI, HOOKRUN_CHROMIUM and HOOKRUN_ARTEFACTS are read by the browser tests, not by a service",
	"internal/app/app.go":             "LoadEnv parses the mains' config structs; Common is followed from them",
	"internal/telemetry/telemetry.go": "reads only variables infra need not set: K_SERVICE, which Cloud Run sets itself; " +
		"OTEL_TRACES_EXPORTER, whose absence on Cloud Run means Cloud Trace; HOOKRUN_TRACES_FILE, for the local stack's console exporter",
	"run/ingest/hookrun/internal/cli/cli.go": "the hookrun CLI runs on users' machines, not in infra: it passes os.Getenv to its commands, " +
		"which read HOOKRUN_URL, HOOKRUN_KEY, HOOKRUN_TENANT and HOOKRUN_PROFILE to override a saved login (README's CLI section)",
	"functions/receiver/tracing.go": "reads only K_SERVICE (Cloud Run sets it), GOOGLE_CLOUD_PROJECT (config.go declares it) and " +
		"OTEL_TRACES_EXPORTER, whose absence on Cloud Run means Cloud Trace",
}

// codeVar is an environment variable a service's code reads.
type codeVar struct {
	name string
	// secret is set for `env:"…,unset"` fields: the code removes them from
	// the environment once read because they hold secrets.
	secret bool
	// from is where it is read, file:line.
	from string
	// def is the default the code declares (`envDefault:"…"`), when
	// hasDef: what the service runs with when infra leaves the variable
	// unset.
	def    string
	hasDef bool
}

// envCall reports whether call is os.Getenv or os.LookupEnv, and the
// variable it reads when that is a string literal.
func envCall(call *ast.CallExpr) (isEnv bool, name string) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false, ""
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "os" || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
		return false, ""
	}
	if len(call.Args) == 1 {
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			name, _ = strconv.Unquote(lit.Value)
		}
	}
	return true, name
}

// getenvs returns the variables file rel reads with os.Getenv and
// os.LookupEnv, and reports calls whose variable is not a literal.
func (g *goSource) getenvs(rel string) (map[string]codeVar, problems, error) {
	f, err := g.file(rel)
	if err != nil {
		return nil, nil, err
	}
	var ps problems
	out := map[string]codeVar{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if isEnv, name := envCall(call); isEnv {
			if name == "" {
				ps.addf("%s: reads an environment variable whose name is not a string literal, which this check cannot follow", g.pos(call))
			} else {
				out[name] = codeVar{name: name, from: g.pos(call)}
			}
		}
		return true
	})
	return out, ps, nil
}

// serviceEnv returns every variable the service's code reads.
func (g *goSource) serviceEnv(s service) (map[string]codeVar, problems, error) {
	var ps problems
	out := map[string]codeVar{}
	for _, rel := range s.configs {
		vars, err := g.configEnv(rel)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range vars {
			out[k] = v
		}
	}
	for _, rel := range append(slices.Clone(s.configs), s.getenvs...) {
		vars, more, err := g.getenvs(rel)
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, more...)
		for k, v := range vars {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	for _, name := range s.clientEnv {
		if _, ok := out[name]; !ok {
			out[name] = codeVar{name: name, from: "read by the Google Cloud client libraries"}
		}
	}
	return out, ps, nil
}

// envReaders returns the production Go files under root that read the
// environment (os.Getenv, os.LookupEnv, os.Environ, env.Parse…), skipping
// tests and the local-only tooling (internal/devstack, internal/testenv,
// internal/bench with its baseline service).
func (g *goSource) envReaders() ([]string, error) {
	var out []string
	err := filepath.WalkDir(g.root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(g.root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"),
				rel == "internal/devstack", rel == "internal/testenv", rel == "internal/bench":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := g.file(rel)
		if err != nil {
			return err
		}
		reads := false
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch x.Name + "." + sel.Sel.Name {
			case "os.Getenv", "os.LookupEnv", "os.Environ", "os.ExpandEnv", "env.Parse", "env.ParseAs", "env.ParseWithOptions", "env.ParseAsWithOptions":
				reads = true
			}
			return !reads
		})
		if reads {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// TestEnvReadersAreKnown keeps the env check honest: every production file
// that reads the environment is one the services' lists name (or is
// explained in notServiceEnv), so a variable read somewhere new cannot go
// unchecked.
func TestEnvReadersAreKnown(t *testing.T) {
	g, err := newGoSource(testenv.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := envReaderProblems(g, services, notServiceEnv)
	if err != nil {
		t.Fatal(err)
	}
	report(t, "environment readers", ps)
}

func envReaderProblems(g *goSource, svcs []service, notService map[string]string) (problems, error) {
	readers, err := g.envReaders()
	if err != nil {
		return nil, err
	}
	var ps problems
	listed := map[string]bool{}  // files that must call something reading the environment
	configs := map[string]bool{} // files whose config structs are read (serviceEnv checks them)
	for _, s := range svcs {
		for _, rel := range s.configs {
			configs[rel] = true
		}
		for _, rel := range s.getenvs {
			listed[rel] = true
		}
	}
	for rel := range notService {
		listed[rel] = true
	}
	for _, rel := range readers {
		if !listed[rel] && !configs[rel] {
			ps.addf("%s reads the environment but no service in internal/infracheck's services lists it: add it to the service(s) that run it, or to notServiceEnv with the reason", rel)
		}
	}
	for _, rel := range sortedKeys(listed) {
		if !slices.Contains(readers, rel) {
			ps.addf("%s is listed in internal/infracheck's services but reads no environment variable: update the list", rel)
		}
	}
	return ps, nil
}

func TestEnvReadersAreKnownFixtures(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"go.mod":                      "module example.com/m\n",
		"run/svc/main.go":             "package main\n\nimport \"os\"\n\nfunc main() { _ = os.Getenv(\"A\") }\n",
		"internal/logging/logging.go": "package logging\n\nimport \"os\"\n\nvar _ = os.LookupEnv\n",
		"internal/new/new.go":         "package new\n\nimport \"os\"\n\nvar _ = os.Environ()\n",
		"internal/quiet/quiet.go":     "package quiet\n",
		"internal/new/new_test.go":    "package new\n\nimport \"os\"\n\nvar _ = os.Getenv(\"T\")\n",
		"internal/devstack/dev.go":    "package devstack\n\nimport \"os\"\n\nvar _ = os.Getenv(\"D\")\n",
	})
	g, err := newGoSource(root)
	if err != nil {
		t.Fatal(err)
	}
	svcs := []service{{name: "svc", configs: []string{"run/svc/main.go"}, getenvs: []string{"internal/logging/logging.go", "internal/quiet/quiet.go"}}}
	ps, err := envReaderProblems(g, svcs, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectProblems(t, ps,
		"internal/new/new.go reads the environment but no service",
		"internal/quiet/quiet.go is listed in internal/infracheck's services but reads no environment variable",
	)
	if len(ps) != 2 {
		t.Errorf("got %d problems, want 2 (tests and internal/devstack are not production code):\n%s", len(ps), strings.Join(ps, "\n"))
	}
}

func TestServiceEnvFromCode(t *testing.T) {
	g, err := newGoSource(testenv.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	// A few variables of each kind: a Common field through embedding, a
	// main's own field, a secret, LOG_LEVEL from internal/logging, a
	// receiver field and a Getenv of the receiver's main.
	tests := []struct {
		service string
		name    string
		secret  bool
	}{
		{"ingest", "GOOGLE_CLOUD_PROJECT", false},
		{"ingest", "HOOKRUN_EVENT_RETENTION", false},
		{"ingest", "HOOKRUN_ADMIN_TOKEN", true},
		{"ingest", "LOG_LEVEL", false},
		{"dispatcher", "HOOKRUN_FIRESTORE_DATABASE", false},
		{"dispatcher", "HOOKRUN_TASKS_TARGET_URL", false},
		{"receiver", "WEBHOOK_SECRET", true},
		{"receiver", "HOOKRUN_LISTEN_HOST", false},
		{"receiver", "PUBSUB_EMULATOR_HOST", false},
	}
	for _, tt := range tests {
		i := slices.IndexFunc(services, func(s service) bool { return s.name == tt.service })
		vars, ps, err := g.serviceEnv(services[i])
		if err != nil {
			t.Fatal(err)
		}
		report(t, tt.service+" code", ps)
		v, ok := vars[tt.name]
		if !ok {
			t.Errorf("%s: %s not found in the code's variables", tt.service, tt.name)
			continue
		}
		if v.secret != tt.secret {
			t.Errorf("%s: %s secret = %v, want %v", tt.service, tt.name, v.secret, tt.secret)
		}
	}
	i := slices.IndexFunc(services, func(s service) bool { return s.name == "receiver" })
	vars, _, _ := g.serviceEnv(services[i])
	if _, ok := vars["HOOKRUN_FIRESTORE_DATABASE"]; ok {
		t.Errorf("receiver: HOOKRUN_FIRESTORE_DATABASE is app.Common's, which the receiver does not embed")
	}
}

func TestServiceEnvFromCodeFixtures(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"internal/app/app.go": `package app

type Common struct {
	Port    int    ` + "`env:\"PORT\" envDefault:\"8080\"`" + `
	Project string ` + "`env:\"GOOGLE_CLOUD_PROJECT,required\"`" + `
	Nested  struct {
		Level string ` + "`env:\"LEVEL\"`" + `
	} ` + "`envPrefix:\"LOG_\"`" + `
}
`,
		"run/svc/main.go": `package main

import (
	"os"

	"example.com/m/internal/app"
)

type config struct {
	app.Common
	Token string ` + "`env:\"SVC_TOKEN,required,unset\"`" + `
	Plain string
}

func main() {
	_ = os.Getenv("SVC_EXTRA")
	_, _ = os.LookupEnv("SVC_LOOKUP")
	name := "SVC_DYNAMIC"
	_ = os.Getenv(name)
}
`,
	})
	g, err := newGoSource(root)
	if err != nil {
		t.Fatal(err)
	}
	vars, ps, err := g.serviceEnv(service{name: "svc", configs: []string{"run/svc/main.go"}, clientEnv: []string{"FIRESTORE_EMULATOR_HOST"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, v := range vars {
		if v.secret {
			name += "(secret)"
		}
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{"FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "PORT", "SVC_EXTRA", "SVC_LOOKUP", "SVC_TOKEN(secret)"}
	if !slices.Equal(got, want) {
		t.Errorf("variables = %v, want %v", got, want)
	}
	expectProblems(t, ps, "run/svc/main.go:19: reads an environment variable whose name is not a string literal")
}
