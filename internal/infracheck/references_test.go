package infracheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

// reference is one root-scope traversal of an expression: var.x,
// local.y, google_pubsub_topic.events.id…
type reference struct {
	trav hcl.Traversal
	// inVariable is the variable block the reference is in (its validation
	// names itself), "" elsewhere.
	inVariable string
}

// notDeclared are the roots that never name something a module declares:
// each.key, count.index, self in provisioners and conditions, path.module,
// terraform.workspace.
var notDeclared = map[string]bool{"each": true, "count": true, "self": true, "path": true, "terraform": true}

// references returns every reference of the module's expressions, in every
// attribute of every block at every depth, dynamic blocks and
// for-expressions included, less the names that never refer to something
// declared: the roots of notDeclared, for-expression iterators
// (hclsyntax.Variables leaves those out) and dynamic-block iterators within
// their block. Attributes whose traversals are not references are skipped:
// a variable's type, a resource's provider, lifecycle.ignore_changes, a
// module's providers, and moved and removed blocks, whose addresses may
// name what no longer exists.
func (m *tfModule) references() []reference {
	var refs []reference
	for _, f := range m.files {
		for _, b := range f.body.Blocks {
			switch b.Type {
			case "terraform", "moved", "removed":
				continue
			case "variable":
				name := ""
				if len(b.Labels) == 1 {
					name = b.Labels[0]
				}
				walkReferences(b.Body, b.Type, b.Labels, nil, name, &refs)
			default:
				walkReferences(b.Body, b.Type, b.Labels, nil, "", &refs)
			}
		}
	}
	return refs
}

// skipAttr reports whether the attribute name of a block of type
// blockType holds traversals that are not references.
func skipAttr(blockType, name string) bool {
	switch blockType + "." + name {
	case "variable.type", "resource.provider", "data.provider", "module.providers", "lifecycle.ignore_changes", "dynamic.iterator":
		return true
	}
	return false
}

// walkReferences adds the references in body, that of a block of type
// blockType with labels, to refs. iterators are the dynamic-block iterator
// names in scope there.
func walkReferences(body *hclsyntax.Body, blockType string, labels []string, iterators map[string]bool, inVariable string, refs *[]reference) {
	add := func(expr hclsyntax.Expression, iterators map[string]bool) {
		for _, tr := range hclsyntax.Variables(expr) {
			if root := tr.RootName(); !notDeclared[root] && !iterators[root] {
				*refs = append(*refs, reference{trav: tr, inVariable: inVariable})
			}
		}
	}
	// A dynamic block's iterator is a name inside the block (in labels and
	// content), not in its for_each.
	inner := iterators
	if blockType == "dynamic" {
		inner = map[string]bool{}
		for k := range iterators {
			inner[k] = true
		}
		inner[dynamicIterator(body, labels)] = true
	}
	for name, a := range body.Attributes {
		switch {
		case skipAttr(blockType, name):
		case blockType == "dynamic" && name == "for_each":
			add(a.Expr, iterators)
		default:
			add(a.Expr, inner)
		}
	}
	for _, b := range body.Blocks {
		walkReferences(b.Body, b.Type, b.Labels, inner, inVariable, refs)
	}
}

// dynamicIterator returns the iterator name of a dynamic block: its
// iterator attribute, else its label.
func dynamicIterator(body *hclsyntax.Body, labels []string) string {
	if a := body.Attributes["iterator"]; a != nil {
		if tr, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() {
			return tr.RootName()
		}
	}
	if len(labels) == 1 {
		return labels[0]
	}
	return ""
}

// attrName returns the attribute name at step i of tr, "" when there is
// none.
func attrName(tr hcl.Traversal, i int) string {
	if len(tr) <= i {
		return ""
	}
	if a, ok := tr[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// checkReferences reports, in every module under infraDir, references to
// variables, locals, resources, data sources and modules that are not
// declared; declarations made twice; variables no expression uses; and
// variables without a description.
func checkReferences(infraDir string) problems {
	mods, ps := loadModules(infraDir)
	for _, m := range mods {
		ps = append(ps, m.checkReferences()...)
	}
	return ps
}

func (m *tfModule) checkReferences() problems {
	var ps problems
	declared := map[string]hcl.Range{} // "var.x", "local.y", "TYPE.NAME", "data.TYPE.NAME", "module.NAME"
	declare := func(key string, r hcl.Range) {
		if prev, dup := declared[key]; dup {
			ps.addf("%s: %s is declared twice (also at %s)", at(r), key, at(prev))
			return
		}
		declared[key] = r
	}
	variables := map[string]*hclsyntax.Block{}
	for _, f := range m.files {
		for _, b := range f.body.Blocks {
			switch {
			case b.Type == "variable" && len(b.Labels) == 1:
				declare("var."+b.Labels[0], b.DefRange())
				variables[b.Labels[0]] = b
			case b.Type == "locals":
				for name, a := range b.Body.Attributes {
					declare("local."+name, a.SrcRange)
				}
			case b.Type == "resource" && len(b.Labels) == 2:
				declare(b.Labels[0]+"."+b.Labels[1], b.DefRange())
			case b.Type == "data" && len(b.Labels) == 2:
				declare("data."+b.Labels[0]+"."+b.Labels[1], b.DefRange())
			case b.Type == "module" && len(b.Labels) == 1:
				declare("module."+b.Labels[0], b.DefRange())
			}
		}
	}

	used := map[string]bool{}
	for _, ref := range m.references() {
		tr := ref.trav
		root := tr.RootName()
		var key string
		switch root {
		case "var", "local", "module":
			key = root + "." + attrName(tr, 1)
		case "data":
			key = "data." + attrName(tr, 1) + "." + attrName(tr, 2)
		default:
			key = root + "." + attrName(tr, 1)
		}
		if strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
			ps.addf("%s: %s does not name a variable, local, resource, data source or module", at(tr.SourceRange()), traversalString(tr))
			continue
		}
		if _, ok := declared[key]; !ok {
			what := map[string]string{"var": "variable", "local": "local value", "module": "module", "data": "data source"}[root]
			if what == "" {
				what = "resource"
			}
			ps.addf("%s: %s names no declared %s", at(tr.SourceRange()), key, what)
			continue
		}
		if root == "var" && ref.inVariable != attrName(tr, 1) {
			used[attrName(tr, 1)] = true
		}
	}

	for name, b := range variables {
		if !used[name] {
			ps.addf("%s: variable %q is declared but never used", at(b.DefRange()), name)
		}
		d := b.Body.Attributes["description"]
		if d == nil {
			ps.addf("%s: variable %q has no description", at(b.DefRange()), name)
			continue
		}
		if v, diags := d.Expr.Value(nil); diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() || strings.TrimSpace(v.AsString()) == "" {
			ps.addf("%s: variable %q has an empty description", at(d.SrcRange), name)
		}
	}
	return ps
}

// traversalString writes tr the way it reads in the source, near enough
// for messages.
func traversalString(tr hcl.Traversal) string {
	var sb strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		default:
			sb.WriteString("[…]")
		}
	}
	return sb.String()
}

func TestTerraformReferences(t *testing.T) {
	report(t, "infra/ references", checkReferences(filepath.Join(testenv.RepoRoot(t), "infra")))
}

func TestTerraformReferencesFixtures(t *testing.T) {
	// good names everything the checker must resolve or leave alone.
	const good = `variable "region" {
  description = "Region."
  type        = string
  validation {
    condition     = length(var.region) > 0
    error_message = "region is empty."
  }
}

variable "env" {
  description = "Environment of the service."
  type        = map(string)
  default     = {}
}

locals {
  names = [for k, v in var.env : "${k}=${v}" if v != ""]
  base  = { for name in local.names : name => upper(name) }
}

data "google_project" "this" {}

module "queue" {
  source    = "./modules/queue"
  providers = { google = google.beta }
}

resource "google_service_account" "svc" {
  count      = 1
  account_id = "svc-${count.index}-${terraform.workspace}"
  project    = data.google_project.this.project_id
  provider   = google.beta
}

resource "google_cloud_run_v2_service" "svc" {
  for_each = local.base
  name     = each.key
  location = var.region
  template {
    service_account = google_service_account.svc[0].email
    containers {
      image = "${path.module}/${module.queue.name}"
      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "volume_mounts" {
        for_each = local.names
        iterator = mount
        content {
          name       = mount.value
          mount_path = "/m/${mount.key}"
        }
      }
    }
  }
  lifecycle {
    ignore_changes = [template[0].labels, client]
    precondition {
      condition     = self == null || var.region != ""
      error_message = "no region"
    }
  }
}

moved {
  from = google_cloud_run_v2_service.old
  to   = google_cloud_run_v2_service.svc
}

output "url" {
  value = [for s in google_cloud_run_v2_service.svc : s.uri]
}
`
	const queueModule = `variable "name" {
  description = "Queue name."
  type        = string
}

output "name" {
  value = var.name
}
`
	with := func(extra string) map[string]string {
		return map[string]string{"infra/main.tf": good + extra, "infra/modules/queue/main.tf": queueModule}
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"good", with(""), nil},
		{"undeclared variable", with("output \"x\" {\n  value = var.regoin\n}\n"), []string{"var.regoin names no declared variable"}},
		{"undeclared local", with("output \"x\" {\n  value = local.nmaes\n}\n"), []string{"local.nmaes names no declared local value"}},
		{"undeclared resource", with("output \"x\" {\n  value = google_pubsub_topic.events.id\n}\n"), []string{"google_pubsub_topic.events names no declared resource"}},
		{"undeclared data source", with("output \"x\" {\n  value = data.google_project.that.number\n}\n"), []string{"data.google_project.that names no declared data source"}},
		{"undeclared module", with("output \"x\" {\n  value = module.queues.name\n}\n"), []string{"module.queues names no declared module"}},
		{"in a dynamic block's content", with(strings.Replace(good, "value = env.value", "value = var.missing", 1)), []string{"var.missing names no declared variable"}},
		{"in a dynamic block's for_each", with(strings.Replace(good, "for_each = local.names", "for_each = local.missing", 1)), []string{"local.missing names no declared"}},
		{"iterator outside its dynamic block", with("output \"x\" {\n  value = env.value\n}\n"), []string{"infra/main.tf:78: env.value names no declared resource"}},
		{"in a for expression's body", with("output \"x\" {\n  value = [for v in var.env : local.missing]\n}\n"), []string{"local.missing names no declared"}},
		{"for expression iterator outside it", with("output \"x\" {\n  value = [[for v in var.env : v], v]\n}\n"), []string{"v does not name a variable"}},
		{"in a depends_on", with("output \"x\" {\n  value      = 1\n  depends_on = [google_pubsub_topic.events]\n}\n"), []string{"google_pubsub_topic.events names no declared resource"}},
		{"in a nested module", map[string]string{"infra/main.tf": good, "infra/modules/queue/main.tf": queueModule + "output \"r\" {\n  value = var.region\n}\n"}, []string{"infra/modules/queue/main.tf:10: var.region names no declared variable"}},
		{"variable used only by its own validation", with("variable \"unused\" {\n  description = \"Nothing.\"\n  validation {\n    condition     = var.unused != \"\"\n    error_message = \"empty\"\n  }\n}\n"), []string{`variable "unused" is declared but never used`}},
		{"variable without description", with("variable \"quiet\" {\n  type = string\n}\noutput \"q\" {\n  value = var.quiet\n}\n"), []string{`variable "quiet" has no description`}},
		{"variable with empty description", with("variable \"quiet\" {\n  description = \" \"\n}\noutput \"q\" {\n  value = var.quiet\n}\n"), []string{`variable "quiet" has an empty description`}},
		{"declared twice", with("locals {\n  names = []\n}\n"), []string{"local.names is declared twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			expectProblems(t, checkReferences(filepath.Join(dir, "infra")), tt.want...)
		})
	}
}

// TestTerraformReferencesCatchBrokenCopy breaks a copy of the real infra/:
// the check must notice.
func TestTerraformReferencesCatchBrokenCopy(t *testing.T) {
	dir := realInfraCopy(t)
	before := checkReferences(dir)
	appendFile(t, filepath.Join(dir, "zz_broken.tf"), `variable "zz_unused" {
  type = string
}

output "zz" {
  value = [var.zz_missing, local.zz_missing, google_pubsub_topic.zz_missing.id]
}
`)
	expectProblems(t, newProblems(before, checkReferences(dir)),
		"var.zz_missing names no declared variable",
		"local.zz_missing names no declared local value",
		"google_pubsub_topic.zz_missing names no declared resource",
		`variable "zz_unused" is declared but never used`,
		`variable "zz_unused" has no description`,
	)
}
