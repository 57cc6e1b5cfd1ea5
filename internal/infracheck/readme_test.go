package infracheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// configRow is a row of a service's table in the README's Configuration
// section: | `VARIABLE` | `default` | meaning |.
var configRow = regexp.MustCompile("^\\| `([A-Z0-9_]+)` \\| `([^`]*)` \\|")

// configTable is the header row of a service's table: | ingest | default | |.
var configTable = regexp.MustCompile(`^\| ([a-z]+) \| default \|`)

// checkReadmeDefaults reports the defaults the README's Configuration
// tables give that are not the ones the services' code declares: the
// README documents the defaults, the code's declarations are them.
func checkReadmeDefaults(root string, svcs []service) problems {
	var ps problems
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		ps.addf("%v", err)
		return ps
	}
	g, err := newGoSource(root)
	if err != nil {
		ps.addf("%v", err)
		return ps
	}
	var table string // the service whose table the line is in
	checked := 0
	for i, line := range strings.Split(string(b), "\n") {
		if m := configTable.FindStringSubmatch(line); m != nil {
			table = m[1]
			continue
		}
		if !strings.HasPrefix(line, "|") {
			table = ""
			continue
		}
		m := configRow.FindStringSubmatch(line)
		if table == "" || m == nil {
			continue
		}
		j := slices.IndexFunc(svcs, func(s service) bool { return s.name == table })
		if j < 0 {
			ps.addf("README.md:%d: a configuration table of %q, which is no service", i+1, table)
			continue
		}
		vars, more, err := g.serviceEnv(svcs[j])
		if err != nil {
			ps.addf("%v", err)
			return ps
		}
		ps = append(ps, more...)
		v, ok := vars[m[1]]
		switch {
		case !ok:
			ps.addf("README.md:%d: %s's table lists %s, which its code does not read", i+1, table, m[1])
		case !v.hasDef:
			ps.addf("README.md:%d: %s's table gives %s the default %q, but its code declares none (%s)", i+1, table, m[1], m[2], v.from)
		case !sameSetting(m[2], v.def):
			ps.addf("README.md:%d: %s's table gives %s the default %q, but its code's is %q (%s)", i+1, table, m[1], m[2], v.def, v.from)
		}
		checked++
	}
	if checked == 0 {
		ps.addf("README.md: no configuration table rows found (| `VARIABLE` | `default` | … under | service | default | |)")
	}
	return ps
}

func TestReadmeDefaultsAreTheCodes(t *testing.T) {
	report(t, "README.md configuration", checkReadmeDefaults(testenv.RepoRoot(t), services))
}

func TestReadmeDefaultsFixtures(t *testing.T) {
	svcs := []service{{name: "dispatcher", configs: []string{"run/dispatcher/main.go"}}}
	readme := func(rows string) string {
		return "# x\n\n| dispatcher | default | |\n|---|---|---|\n" + rows + "\nprose `NOT_A_ROW` | `1` |\n"
	}
	tests := []struct {
		name, readme string
		want         []string
	}{
		{"agrees", readme("| `HOOKRUN_TTL` | `300s` | a TTL |\n| `HOOKRUN_URL` | | no default |"), nil},
		{"drifted", readme("| `HOOKRUN_TTL` | `4m` | a TTL |"), []string{
			`README.md:5: dispatcher's table gives HOOKRUN_TTL the default "4m", but its code's is "5m" (run/dispatcher/main.go:4)`,
		}},
		{"no default in code", readme("| `HOOKRUN_URL` | `x` | |"), []string{"gives HOOKRUN_URL the default \"x\", but its code declares none"}},
		{"not read", readme("| `HOOKRUN_TLL` | `5m` | |"), []string{"lists HOOKRUN_TLL, which its code does not read"}},
		{"no table", "# x\n", []string{"no configuration table rows found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFiles(t, map[string]string{
				"go.mod":                 "module github.com/hookrun/hookrun\n\ngo 1.26\n",
				"run/dispatcher/main.go": "package main\n\ntype config struct {\n\tTTL string `env:\"HOOKRUN_TTL\" envDefault:\"5m\"`\n\tURL string `env:\"HOOKRUN_URL\"`\n}\n",
				"README.md":              tt.readme,
			})
			expectProblems(t, checkReadmeDefaults(root, svcs), tt.want...)
		})
	}
}
