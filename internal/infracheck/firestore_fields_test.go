package infracheck

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookrun/hookrun/internal/firestore"
	"github.com/hookrun/hookrun/internal/testenv"
)

// tfField is a google_firestore_field instance that exempts its field from
// single-field indexing (an index_config with no indexes).
type tfField struct {
	addr  string
	where string
	field firestore.Field
}

// infraExemptions returns the fields the module exempts from single-field
// indexing.
func infraExemptions(infraDir string) ([]tfField, problems) {
	mods, ps := loadModules(infraDir)
	m := rootModule(mods, infraDir)
	if m == nil {
		ps.addf("%s: no Terraform files", displayName(infraDir, infraDir))
		return nil, ps
	}
	var out []tfField
	var inner problems
	ps = append(ps, eachFirestoreField(m, newEvaluator(m), "index_config", func(addr string, where hcl.Range, coll, field string, b *hcl.Block) {
		idx, diags := content(b.Body, nil, "indexes")
		inner = append(inner, diagProblems(addr, diags)...)
		if len(idx.Blocks) > 0 {
			return // indexes of its own choosing, not an exemption
		}
		out = append(out, tfField{addr: addr, where: at(where), field: firestore.Field{Collection: coll, Field: field}})
	})...)
	return out, append(ps, inner...)
}

// checkExemptions reports the fields infraDir exempts from single-field
// indexing that a query reads through that index (queried, less those
// that queries read only through composite indexes: it would fail in
// production only, with FAILED_PRECONDITION), and the sequential fields
// no query reads through a single-field index that it leaves indexed
// (each caps its collection at 500 writes per second).
func checkExemptions(infraDir string, queried, composite, sequential []firestore.Field) problems {
	queried = slices.DeleteFunc(slices.Clone(queried), func(f firestore.Field) bool { return slices.Contains(composite, f) })
	exempt, ps := infraExemptions(infraDir)
	for _, x := range exempt {
		if slices.Contains(queried, x.field) {
			ps.addf("%s: %s exempts %s.%s from indexing, which a query reads through its single-field index (firestore.QueryFields, not ShardedFields): the query would fail in production", x.where, x.addr, x.field.Collection, x.field.Field)
		}
	}
	for _, f := range sequential {
		if slices.Contains(queried, f) {
			continue
		}
		if !slices.ContainsFunc(exempt, func(x tfField) bool { return x.field == f }) {
			ps.addf("%s: %s.%s grows with time and no query reads it through a single-field index, but no google_firestore_field exempts it from indexing: it caps its collection at 500 writes per second", displayName(infraDir, infraDir), f.Collection, f.Field)
		}
	}
	return ps
}

func TestInfraExemptsOnlyUnqueriedFields(t *testing.T) {
	report(t, "infra/ Firestore index exemptions",
		checkExemptions(filepath.Join(testenv.RepoRoot(t), "infra"), firestore.QueryFields, firestore.ShardedFields, firestore.SequentialFields))
}

func TestInfraExemptsOnlyUnqueriedFieldsFixtures(t *testing.T) {
	queried := []firestore.Field{{Collection: "items", Field: "time"}, {Collection: "items", Field: "state"}, {Collection: "items", Field: "sorted_at"}}
	composite := []firestore.Field{{Collection: "items", Field: "sorted_at"}}
	sequential := []firestore.Field{{Collection: "items", Field: "time"}, {Collection: "items", Field: "update_time"}, {Collection: "items", Field: "sorted_at"}, {Collection: "logs", Field: "at"}}
	const tf = `locals {
  unindexed = {
    items_update = { collection = "items", field = "update_time" }
    items_sorted = { collection = "items", field = "sorted_at" }
  }
}

resource "google_firestore_field" "unindexed" {
  for_each   = local.unindexed
  collection = each.value.collection
  field      = each.value.field
  index_config {}
}

resource "google_firestore_field" "logs_at" {
  collection = "logs"
  field      = "at"
  ttl_config {}
  index_config {}
}

resource "google_firestore_field" "state_asc_only" {
  collection = "items"
  field      = "state"
  index_config {
    indexes {
      order = "ASCENDING"
    }
  }
}
`
	tests := []struct {
		name string
		tf   string
		want []string
	}{
		{"exempts what no query uses", tf, nil},
		{"exempts a queried field", strings.Replace(tf, `field = "update_time"`, `field = "time"`, 1), []string{
			"google_firestore_field.unindexed[\"items_update\"] exempts items.time from indexing, which a query reads through its single-field index",
			"items.update_time grows with time and no query reads it through a single-field index",
		}},
		{"composite-only field left indexed", strings.Replace(tf, `    items_sorted = { collection = "items", field = "sorted_at" }
`, "", 1), []string{"items.sorted_at grows with time and no query reads it through a single-field index"}},
		{"sequential field left indexed", strings.Replace(tf, "  ttl_config {}\n  index_config {}\n", "  ttl_config {}\n", 1), []string{
			"logs.at grows with time and no query reads it through a single-field index",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"infra/main.tf": tt.tf})
			expectProblems(t, checkExemptions(filepath.Join(dir, "infra"), queried, composite, sequential), tt.want...)
		})
	}
}
