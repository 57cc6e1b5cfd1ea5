package infracheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

// declaredInstrument is an instrument declaration in internal/metrics'
// recorder.go: counter(&r.field, "name", …) or histogram(&r.field, "name", …).
var declaredInstrument = regexp.MustCompile(`(?m)^\s*(?:counter|histogram)\(&r\.\w+, "([^"]+)"`)

// readInstruments returns the OpenTelemetry instrument names hookrun's
// services declare, read from internal/metrics' source, their one home.
func readInstruments(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "internal", "metrics", "recorder.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range declaredInstrument.FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 10 {
		t.Fatalf("read %d instruments from internal/metrics/recorder.go (%q): has the declaration's shape changed?", len(names), names)
	}
	return names
}

// workloadMetric is a metric type written out in a .tf file.
var workloadMetric = regexp.MustCompile(`workload\.googleapis\.com/([A-Za-z0-9_.]+)`)

// refersToVar reports whether expr reads a variable.
func refersToVar(expr hcl.Expression) bool {
	return slices.ContainsFunc(expr.Variables(), func(tr hcl.Traversal) bool { return tr.RootName() == "var" })
}

// checkAlerts reports alert conditions whose threshold or duration is not
// set from a variable (an operator tunes them without editing infra/), and
// app metrics infra names that no instrument is: in a metric type written
// out, as a key of local.app_metrics (the metrics declared to Cloud
// Monitoring), or as an index of local.metric_filter (which terraform
// validate cannot check).
func checkAlerts(infraDir string, names []string) problems {
	mods, ps := loadModules(infraDir)
	m := rootModule(mods, infraDir)
	if m == nil {
		return ps
	}
	policies := m.resources("google_monitoring_alert_policy")
	if len(policies) == 0 {
		ps.addf("%s: no google_monitoring_alert_policy", displayName(infraDir, infraDir))
	}
	for _, b := range policies {
		conds := 0
		for _, c := range b.Body.Blocks {
			if c.Type != "conditions" {
				continue
			}
			for _, th := range c.Body.Blocks {
				if th.Type != "condition_threshold" {
					continue
				}
				conds++
				for _, attr := range []string{"threshold_value", "duration"} {
					a := th.Body.Attributes[attr]
					switch {
					case a == nil:
						ps.addf("%s: %s has a condition without %s", at(th.DefRange()), addr(b), attr)
					case !refersToVar(a.Expr):
						ps.addf("%s: %s's %s is not set from a variable", at(a.SrcRange), addr(b), attr)
					}
				}
			}
		}
		if conds == 0 {
			ps.addf("%s: %s has no condition_threshold", at(b.DefRange()), addr(b))
		}
	}

	known := func(name string) bool { return slices.Contains(names, name) }
	for _, f := range m.files {
		for _, sm := range workloadMetric.FindAllSubmatchIndex(f.src, -1) {
			name := string(f.src[sm[2]:sm[3]])
			if !known(name) {
				line := 1 + strings.Count(string(f.src[:sm[0]]), "\n")
				ps.addf("%s:%d: workload.googleapis.com/%s is no instrument of the services", f.name, line, name)
			}
		}
	}
	declared := map[string]bool{}
	if a := m.locals()["app_metrics"]; a != nil {
		if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range obj.Items {
				k, diags := item.KeyExpr.Value(nil)
				if diags.HasErrors() || k.Type() != cty.String {
					ps.addf("%s: a key of local.app_metrics is not a literal string", at(item.KeyExpr.Range()))
					continue
				}
				declared[k.AsString()] = true
				if !known(k.AsString()) {
					ps.addf("%s: local.app_metrics declares %s, which is no instrument of the services", at(item.KeyExpr.Range()), k.AsString())
				}
			}
		}
	}
	for _, ref := range m.references() {
		tr := ref.trav
		if len(tr) < 3 || tr.RootName() != "local" {
			continue
		}
		if attr, ok := tr[1].(hcl.TraverseAttr); !ok || attr.Name != "metric_filter" {
			continue
		}
		idx, ok := tr[2].(hcl.TraverseIndex)
		if !ok || idx.Key.Type() != cty.String {
			continue
		}
		if name := idx.Key.AsString(); !declared[name] {
			ps.addf("%s: local.metric_filter[%q]: not a metric of local.app_metrics", at(tr.SourceRange()), name)
		}
	}
	return ps
}

func TestAlerts(t *testing.T) {
	report(t, "infra/ alerts", checkAlerts(filepath.Join(testenv.RepoRoot(t), "infra"), readInstruments(t)))
}

func TestAlertsFixtures(t *testing.T) {
	tf := func(threshold, metric, filterKey string) string {
		return `variable "x" {
  type = number
}
locals {
  app_metrics = {
    "` + metric + `" = {}
  }
  metric_filter = { for k, v in local.app_metrics : k => "metric.type = \"workload.googleapis.com/${k}\"" }
}
resource "google_monitoring_alert_policy" "a" {
  conditions {
    condition_threshold {
      filter          = local.metric_filter["` + filterKey + `"]
      threshold_value = ` + threshold + `
      duration        = "${var.x * 60}s"
    }
  }
}
`
	}
	tests := []struct {
		name string
		tf   string
		want []string
	}{
		{"thresholds are variables", tf("var.x / 60", "hookrun.deliveries", "hookrun.deliveries"), nil},
		{"literal threshold", tf("5", "hookrun.deliveries", "hookrun.deliveries"), []string{`google_monitoring_alert_policy.a's threshold_value is not set from a variable`}},
		{"unknown instrument", tf("var.x", "hookrun.delivery", "hookrun.delivery"), []string{"local.app_metrics declares hookrun.delivery, which is no instrument"}},
		{"filter of an undeclared metric", tf("var.x", "hookrun.deliveries", "hookrun.attempts"), []string{`local.metric_filter["hookrun.attempts"]: not a metric of local.app_metrics`}},
		{"written-out metric type", `resource "google_monitoring_alert_policy" "a" {
  conditions {
    condition_threshold {
      filter          = "metric.type = \"workload.googleapis.com/hookrun.delivered\""
      threshold_value = var.x
      duration        = var.x
    }
  }
}
variable "x" {}
`, []string{"infra/alerts.tf:4: workload.googleapis.com/hookrun.delivered is no instrument"}},
		{"no alerts", `variable "x" {}` + "\n", []string{"no google_monitoring_alert_policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(writeFiles(t, map[string]string{"infra/alerts.tf": tt.tf}), "infra")
			expectProblems(t, checkAlerts(dir, readInstruments(t)), tt.want...)
		})
	}
}

func TestAlertsCatchBrokenCopy(t *testing.T) {
	dir := realInfraCopy(t)
	before := checkAlerts(dir, readInstruments(t))
	editFile(t, filepath.Join(dir, "alerts.tf"), "threshold_value = var.alert_backlog_age_seconds", "threshold_value = 900")
	editFile(t, filepath.Join(dir, "alerts.tf"), `local.metric_filter["hookrun.delivery.latency"]`, `local.metric_filter["hookrun.delivery.latency.p95"]`)
	expectProblems(t, newProblems(before, checkAlerts(dir, readInstruments(t))),
		"google_monitoring_alert_policy.events_backlog's threshold_value is not set from a variable",
		`local.metric_filter["hookrun.delivery.latency.p95"]: not a metric of local.app_metrics`,
	)
}

// alertRow is a row of the README's table of alert variables:
// | `alert_…` | `default` | … |.
var alertRow = regexp.MustCompile("^\\| `(alert_[a-z0-9_]+)` \\| `([^`]*)` \\|")

// checkReadmeAlertVariables reports the threshold variables of infra/
// (alert_* with a number default) that the README's table leaves out or
// gives another default than variables.tf, and rows naming no variable.
func checkReadmeAlertVariables(root string) problems {
	infraDir := filepath.Join(root, "infra")
	mods, ps := loadModules(infraDir)
	m := rootModule(mods, infraDir)
	if m == nil {
		return ps
	}
	defaults := map[string]string{}
	for _, b := range m.blocks("variable") {
		if len(b.Labels) != 1 || !strings.HasPrefix(b.Labels[0], "alert_") {
			continue
		}
		def := b.Body.Attributes["default"]
		if def == nil {
			continue
		}
		v, diags := def.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.Number {
			continue // the channel lists
		}
		s, _ := stringOf(v)
		defaults[b.Labels[0]] = s
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		ps.addf("%v", err)
		return ps
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		r := alertRow.FindStringSubmatch(line)
		if r == nil {
			continue
		}
		seen[r[1]] = true
		def, ok := defaults[r[1]]
		switch {
		case !ok:
			ps.addf("README.md:%d: %s is no alert threshold variable of infra/", i+1, r[1])
		case !sameSetting(r[2], def):
			ps.addf("README.md:%d: %s's default is %q, but infra/variables.tf's is %q", i+1, r[1], r[2], def)
		}
	}
	for _, name := range sortedKeys(defaults) {
		if !seen[name] {
			ps.addf("README.md: no row for the alert variable %s (| `%s` | `%s` | … |)", name, name, defaults[name])
		}
	}
	return ps
}

func TestReadmeAlertVariables(t *testing.T) {
	report(t, "README.md alert variables", checkReadmeAlertVariables(testenv.RepoRoot(t)))
}

func TestReadmeAlertVariablesFixtures(t *testing.T) {
	const tf = `variable "alert_x" {
  default = 0.95
}
variable "alert_emails" {
  default = []
}
`
	tests := []struct {
		name, readme string
		want         []string
	}{
		{"agrees", "| `alert_x` | `0.95` | x |\n", nil},
		{"drifted", "| `alert_x` | `0.9` | x |\n", []string{`README.md:1: alert_x's default is "0.9", but infra/variables.tf's is "0.95"`}},
		{"missing", "nothing\n", []string{"README.md: no row for the alert variable alert_x"}},
		{"no such variable", "| `alert_x` | `0.95` | |\n| `alert_y` | `1` | |\n", []string{"README.md:2: alert_y is no alert threshold variable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFiles(t, map[string]string{"infra/variables.tf": tf, "README.md": tt.readme})
			expectProblems(t, checkReadmeAlertVariables(root), tt.want...)
		})
	}
}
