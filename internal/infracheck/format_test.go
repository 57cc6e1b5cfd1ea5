package infracheck

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hookrun/hookrun/internal/testenv"
)

// checkFormat reports the .tf and .tfvars files under infraDir that do not
// parse, or that `terraform fmt` would change.
//
// terraform fmt is hclwrite's formatter plus a few rewrites of its own,
// which hclwrite.Format does not do; fmtRewrites reports where those would
// apply instead of reproducing them.
func checkFormat(infraDir string) problems {
	var ps problems
	paths, err := tfFiles(infraDir, ".tf", ".tfvars")
	if err != nil {
		ps.addf("%s: %v", displayName(infraDir, infraDir), err)
		return ps
	}
	if len(paths) == 0 {
		ps.addf("%s: no .tf files", displayName(infraDir, infraDir))
	}
	for _, path := range paths {
		name := displayName(infraDir, path)
		src, err := os.ReadFile(path)
		if err != nil {
			ps.addf("%s: %v", name, err)
			continue
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			for _, d := range diags.Errs() {
				ps.addf("does not parse: %v", d)
			}
			continue
		}
		if formatted := hclwrite.Format(src); !bytes.Equal(formatted, src) {
			ps.addf("%s:%d: not in terraform fmt's format from this line on (run terraform fmt -recursive infra)", name, firstDiffLine(src, formatted))
		}
		ps = append(ps, fmtRewrites(src, f.Body.(*hclsyntax.Body), nil)...)
	}
	return ps
}

// firstDiffLine returns the first line, from 1, where a and b differ.
func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// fmtRewrites reports what terraform fmt rewrites beyond hclwrite.Format:
// an attribute whose whole value is one interpolation ("${var.x}" becomes
// var.x), a variable type that is a bare collection keyword (list becomes
// list(any)) or a pre-0.12 quoted type ("string"), and a block label that
// is not a quoted string.
func fmtRewrites(src []byte, body *hclsyntax.Body, inBlocks []string) problems {
	var ps problems
	for name, a := range body.Attributes {
		if len(inBlocks) == 1 && inBlocks[0] == "variable" && name == "type" {
			switch e := a.Expr.(type) {
			case *hclsyntax.ScopeTraversalExpr:
				if kw := e.Traversal.RootName(); len(e.Traversal) == 1 && (kw == "list" || kw == "map" || kw == "set") {
					ps.addf("%s: terraform fmt writes type = %s(any)", at(a.SrcRange), kw)
				}
			case *hclsyntax.TemplateExpr:
				ps.addf("%s: a quoted type is pre-0.12 syntax that terraform fmt rewrites: write the type bare", at(a.SrcRange))
			}
			continue
		}
		if _, ok := a.Expr.(*hclsyntax.TemplateWrapExpr); ok {
			ps.addf("%s: %s is one interpolation, which terraform fmt unwraps: write the expression without \"${ }\"", at(a.SrcRange), name)
		}
	}
	for _, b := range body.Blocks {
		for i, r := range b.LabelRanges {
			if r.Start.Byte < len(src) && src[r.Start.Byte] != '"' {
				ps.addf("%s: terraform fmt quotes the label %s of this %s block", at(r), b.Labels[i], b.Type)
			}
		}
		ps = append(ps, fmtRewrites(src, b.Body, append(inBlocks[:len(inBlocks):len(inBlocks)], b.Type))...)
	}
	return ps
}

func TestTerraformFormat(t *testing.T) {
	report(t, "infra/ parsing and formatting", checkFormat(filepath.Join(testenv.RepoRoot(t), "infra")))
}

func TestTerraformFormatFixtures(t *testing.T) {
	const formatted = `variable "region" {
  description = "Region of every regional resource."
  type        = string
  default     = "europe-west1"
}

resource "google_pubsub_topic" "events" {
  name   = "events"
  labels = { region = var.region, name = "svc-${var.region}" }
}
`
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"formatted", map[string]string{"infra/main.tf": formatted}, nil},
		{"formatted tfvars", map[string]string{"infra/main.tf": formatted, "infra/prod.tfvars": "region = \"us-central1\"\n"}, nil},
		{"unaligned equals", map[string]string{"infra/main.tf": strings.Replace(formatted, "name   =", "name =", 1)}, []string{"infra/main.tf:8: not in terraform fmt's format"}},
		{"wrong indent in a module", map[string]string{"infra/main.tf": formatted, "infra/modules/run/main.tf": "locals {\n    a = 1\n}\n"}, []string{"infra/modules/run/main.tf:2: not in"}},
		{"unaligned tfvars", map[string]string{"infra/main.tf": formatted, "infra/prod.tfvars": "a = 1\nbbb = 2\n"}, []string{"infra/prod.tfvars:1: not in"}},
		{"does not parse", map[string]string{"infra/main.tf": "resource \"x\" \"y\" {\n  a = \n}\n"}, []string{"does not parse", "infra/main.tf:2"}},
		{"interpolation only", map[string]string{"infra/main.tf": strings.Replace(formatted, `= "events"`, `= "${var.region}"`, 1)}, []string{"infra/main.tf:8: name is one interpolation"}},
		// terraform fmt unwraps whole attribute values only.
		{"interpolation only inside an object", map[string]string{"infra/main.tf": strings.Replace(formatted, "= var.region,", "= \"${var.region}\",", 1)}, nil},
		{"bare collection type", map[string]string{"infra/main.tf": strings.Replace(formatted, "= string", "= list", 1)}, []string{"infra/main.tf:3: terraform fmt writes type = list(any)"}},
		{"quoted type", map[string]string{"infra/main.tf": strings.Replace(formatted, "= string", "= \"string\"", 1)}, []string{"infra/main.tf:3: a quoted type"}},
		{"unquoted label", map[string]string{"infra/main.tf": strings.Replace(formatted, `"google_pubsub_topic"`, "google_pubsub_topic", 1)}, []string{"infra/main.tf:7: terraform fmt quotes the label google_pubsub_topic"}},
		{"no files", map[string]string{"infra/README.md": "Terraform goes here.\n"}, []string{"infra: no .tf files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			expectProblems(t, checkFormat(filepath.Join(dir, "infra")), tt.want...)
		})
	}
}

// TestTerraformFormatCatchesBrokenCopy breaks a copy of the real infra/:
// the check must notice.
func TestTerraformFormatCatchesBrokenCopy(t *testing.T) {
	dir := realInfraCopy(t)
	before := checkFormat(dir)
	appendFile(t, filepath.Join(dir, "zz_broken.tf"), "locals {\n  a = 1\n  bbb = 2\n}\n")
	appendFile(t, filepath.Join(dir, "zz_unparsable.tf"), "locals {\n")
	expectProblems(t, newProblems(before, checkFormat(dir)), "infra/zz_broken.tf:2: not in", "infra/zz_unparsable.tf")
}
