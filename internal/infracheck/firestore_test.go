package infracheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	fs "cloud.google.com/go/firestore"
	"github.com/hashicorp/hcl/v2"

	"github.com/hookrun/hookrun/internal/firestore"
	"github.com/hookrun/hookrun/internal/testenv"
)

// tfIndex is one instance of a google_firestore_index.
type tfIndex struct {
	addr       string
	where      hcl.Range
	collection string
	fields     []firestore.IndexField
}

// normalIndex returns fields with the document ID Firestore appends to an
// index that does not end with it: in the direction of the last field.
func normalIndex(fields []firestore.IndexField) []firestore.IndexField {
	if len(fields) == 0 || fields[len(fields)-1].Path == fs.DocumentID {
		return fields
	}
	return append(slices.Clone(fields), firestore.IndexField{Path: fs.DocumentID, Desc: fields[len(fields)-1].Desc})
}

func indexString(collection string, fields []firestore.IndexField) string {
	var parts []string
	for _, f := range fields {
		if f.Desc {
			parts = append(parts, f.Path+" desc")
		} else {
			parts = append(parts, f.Path)
		}
	}
	return collection + "(" + strings.Join(parts, ", ") + ")"
}

// infraIndexes returns the composite indexes the module declares. Indexes
// of collection-group scope, of the Datastore API, or with array or vector
// fields are reported: no query of hookrun's can use them.
func infraIndexes(m *tfModule, e *evaluator) ([]tfIndex, problems) {
	var ps problems
	var out []tfIndex
	for _, b := range m.resources("google_firestore_index") {
		insts, more := e.instances(b)
		ps = append(ps, more...)
		for _, inst := range insts {
			c, diags := content(inst.body, []string{"collection", "query_scope", "api_scope"}, "fields")
			ps = append(ps, diagProblems(inst.addr, diags)...)
			ix := tfIndex{addr: inst.addr, where: b.DefRange()}
			var ok bool
			if ix.collection, ok = stringAttr(c, "collection", inst.ctx); !ok {
				ps.addf("%s: %s: collection is not known offline", at(b.DefRange()), inst.addr)
				continue
			}
			if scope, ok := stringAttr(c, "query_scope", inst.ctx); ok && scope != "COLLECTION" {
				ps.addf("%s: %s has query_scope %s: hookrun's queries run on one collection (COLLECTION)", at(b.DefRange()), inst.addr, scope)
			}
			if api, ok := stringAttr(c, "api_scope", inst.ctx); ok && api != "ANY_API" {
				ps.addf("%s: %s has api_scope %s: hookrun uses the Firestore API (ANY_API)", at(b.DefRange()), inst.addr, api)
			}
			for _, fb := range c.Blocks {
				fc, diags := content(fb.Body, []string{"field_path", "order", "array_config", "vector_config"})
				ps = append(ps, diagProblems(inst.addr, diags)...)
				path, ok1 := stringAttr(fc, "field_path", inst.ctx)
				order, ok2 := stringAttr(fc, "order", inst.ctx)
				if !ok1 || !ok2 || (order != "ASCENDING" && order != "DESCENDING") {
					ps.addf("%s: %s: every field needs a field_path and an order (ASCENDING or DESCENDING) known offline", at(fb.DefRange), inst.addr)
					continue
				}
				ix.fields = append(ix.fields, firestore.IndexField{Path: path, Desc: order == "DESCENDING"})
			}
			out = append(out, ix)
		}
	}
	return out, ps
}

// tfTTL is a TTL policy of a google_firestore_field.
type tfTTL struct {
	addr              string
	where             hcl.Range
	collection, field string
}

// infraTTLs returns the google_firestore_field instances with a
// ttl_config.
func infraTTLs(m *tfModule, e *evaluator) ([]tfTTL, problems) {
	var out []tfTTL
	ps := eachFirestoreField(m, e, "ttl_config", func(addr string, where hcl.Range, coll, field string, _ *hcl.Block) {
		out = append(out, tfTTL{addr: addr, where: where, collection: coll, field: field})
	})
	return out, ps
}

// eachFirestoreField calls fn for every google_firestore_field instance
// with a block of type block, with its collection and field (which must
// be known offline) and that block.
func eachFirestoreField(m *tfModule, e *evaluator, block string, fn func(addr string, where hcl.Range, coll, field string, b *hcl.Block)) problems {
	var ps problems
	for _, b := range m.resources("google_firestore_field") {
		insts, more := e.instances(b)
		ps = append(ps, more...)
		for _, inst := range insts {
			c, diags := content(inst.body, []string{"collection", "field"}, block)
			ps = append(ps, diagProblems(inst.addr, diags)...)
			if len(c.Blocks) == 0 {
				continue
			}
			coll, ok1 := stringAttr(c, "collection", inst.ctx)
			field, ok2 := stringAttr(c, "field", inst.ctx)
			if !ok1 || !ok2 {
				ps.addf("%s: %s: collection and field are not known offline", at(b.DefRange()), inst.addr)
				continue
			}
			fn(inst.addr, b.DefRange(), coll, field, c.Blocks[0])
		}
	}
	return ps
}

// checkFirestore reports the indexes of want that infraDir's root module
// does not declare, the ones it declares that want does not hold (no
// query needs them), and the same for TTL policies.
func checkFirestore(infraDir string, want []firestore.Index, wantTTL []firestore.TTLPolicy) problems {
	mods, ps := loadModules(infraDir)
	m := rootModule(mods, infraDir)
	if m == nil {
		ps.addf("%s: no Terraform files", displayName(infraDir, infraDir))
		return ps
	}
	e := newEvaluator(m)
	have, more := infraIndexes(m, e)
	ps = append(ps, more...)

	key := func(coll string, fields []firestore.IndexField) string {
		return indexString(coll, normalIndex(fields))
	}
	declared := map[string]tfIndex{}
	for _, ix := range have {
		k := key(ix.collection, ix.fields)
		if prev, dup := declared[k]; dup {
			ps.addf("%s: %s declares %s, as %s does", at(ix.where), ix.addr, k, prev.addr)
			continue
		}
		declared[k] = ix
	}
	needed := map[string]bool{}
	for _, ix := range want {
		k := key(ix.Collection, ix.Fields)
		needed[k] = true
		if _, ok := declared[k]; !ok {
			ps.addf("%s: no google_firestore_index declares %s, which firestore.CompositeIndexes lists (internal/firestore/indexes.go)", displayName(infraDir, infraDir), k)
		}
	}
	for _, k := range sortedKeys(declared) {
		if !needed[k] {
			ix := declared[k]
			ps.addf("%s: %s declares %s, which no query needs (not in firestore.CompositeIndexes): drop it, or add it there with the query that needs it", at(ix.where), ix.addr, k)
		}
	}

	ttls, more := infraTTLs(m, e)
	ps = append(ps, more...)
	for _, p := range wantTTL {
		if !slices.ContainsFunc(ttls, func(t tfTTL) bool { return t.collection == p.Collection && t.field == p.Field }) {
			ps.addf("%s: no google_firestore_field with a ttl_config for %s.%s, which firestore.TTLPolicies lists: its documents would never expire", displayName(infraDir, infraDir), p.Collection, p.Field)
		}
	}
	for _, t := range ttls {
		if !slices.Contains(wantTTL, firestore.TTLPolicy{Collection: t.collection, Field: t.field}) {
			ps.addf("%s: %s is a TTL policy on %s.%s, which the code does not write (not in firestore.TTLPolicies)", at(t.where), t.addr, t.collection, t.field)
		}
	}
	return ps
}

func TestInfraDeclaresFirestoreIndexes(t *testing.T) {
	report(t, "infra/ Firestore indexes and TTL policies",
		checkFirestore(filepath.Join(testenv.RepoRoot(t), "infra"), firestore.CompositeIndexes, firestore.TTLPolicies))
}

func TestInfraDeclaresFirestoreIndexesFixtures(t *testing.T) {
	want := []firestore.Index{
		{Collection: "items", Fields: []firestore.IndexField{{Path: "state"}, {Path: "time", Desc: true}, {Path: fs.DocumentID, Desc: true}}},
		{Collection: "items", Fields: []firestore.IndexField{{Path: "owner"}, {Path: "time"}}},
	}
	wantTTL := []firestore.TTLPolicy{{Collection: "items", Field: "expire_time"}, {Collection: "logs", Field: "expire_time"}}
	const literal = `resource "google_firestore_index" "state_time" {
  collection = "items"
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "owner_time" {
  collection  = "items"
  query_scope = "COLLECTION"
  fields {
    field_path = "owner"
    order      = "ASCENDING"
  }
  fields {
    field_path = "time"
    order      = "ASCENDING"
  }
}

resource "google_firestore_field" "ttl" {
  for_each   = toset(["items", "logs"])
  collection = each.value
  field      = "expire_time"
  ttl_config {}
  index_config {}
}

resource "google_firestore_field" "no_index" {
  collection = "items"
  field      = "payload"
  index_config {}
}
`
	const fromLocals = `locals {
  indexes = {
    state_time = [["state", "ASCENDING"], ["time", "DESCENDING"]]
    owner_time = [["owner", "ASCENDING"], ["time", "ASCENDING"], ["__name__", "ASCENDING"]]
  }
}

resource "google_firestore_index" "items" {
  for_each   = local.indexes
  collection = "items"
  dynamic "fields" {
    for_each = each.value
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }
}

resource "google_firestore_field" "items_ttl" {
  collection = "items"
  field      = "expire_time"
  ttl_config {}
}

resource "google_firestore_field" "logs_ttl" {
  collection = "logs"
  field      = "expire_time"
  ttl_config {}
}
`
	tests := []struct {
		name string
		tf   string
		want []string
	}{
		{"literal blocks", literal, nil},
		// __name__ left out, or written out in the last field's direction,
		// is the same index.
		{"from a local, with dynamic fields", fromLocals, nil},
		{"index missing", strings.Replace(literal, `"owner"`, `"ownr"`, 1), []string{
			"no google_firestore_index declares items(owner, time, __name__)",
			"google_firestore_index.owner_time declares items(ownr, time, __name__), which no query needs",
		}},
		{"wrong direction", strings.Replace(literal, `order      = "DESCENDING"`, `order      = "ASCENDING"`, 1), []string{"no google_firestore_index declares items(state, time desc, __name__ desc)"}},
		{"wrong document ID direction", strings.Replace(fromLocals, `["__name__", "ASCENDING"]`, `["__name__", "DESCENDING"]`, 1), []string{"no google_firestore_index declares items(owner, time, __name__)"}},
		{"wrong collection", strings.Replace(literal, `collection  = "items"`, `collection  = "item"`, 1), []string{"no google_firestore_index declares items(owner, time, __name__)"}},
		{"collection group", strings.Replace(literal, `"COLLECTION"`, `"COLLECTION_GROUP"`, 1), []string{"has query_scope COLLECTION_GROUP"}},
		{"declared twice", literal + strings.Replace(literal[:strings.Index(literal, `resource "google_firestore_index" "owner_time"`)], `"state_time"`, `"again"`, 1), []string{"declares items(state, time desc, __name__ desc), as google_firestore_index.state_time does"}},
		{"ttl missing", strings.Replace(literal, `toset(["items", "logs"])`, `toset(["items"])`, 1), []string{"no google_firestore_field with a ttl_config for logs.expire_time"}},
		{"ttl on the wrong field", strings.Replace(fromLocals, `field      = "expire_time"`, `field      = "expire"`, 1), []string{
			"no google_firestore_field with a ttl_config for items.expire_time",
			"google_firestore_field.items_ttl is a TTL policy on items.expire, which the code does not write",
		}},
		{"field not known offline", strings.Replace(literal, `field_path = "state"`, `field_path = var.field`, 1), []string{"every field needs a field_path and an order"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"infra/main.tf": tt.tf})
			expectProblems(t, checkFirestore(filepath.Join(dir, "infra"), want, wantTTL), tt.want...)
		})
	}
}

// TestInfraFirestoreCatchesBrokenCopy breaks a copy of the real infra/:
// the rejected_messages index moved to another collection, and an index
// no query needs.
func TestInfraFirestoreCatchesBrokenCopy(t *testing.T) {
	dir := realInfraCopy(t)
	before := checkFirestore(dir, firestore.CompositeIndexes, firestore.TTLPolicies)
	files, err := tfFiles(dir, ".tf")
	if err != nil {
		t.Fatal(err)
	}
	// Rename the collection of the rejected_messages index, whether it is
	// written as a resource or as an entry of a for_each table.
	rejected := regexp.MustCompile(`(collection\s*=\s*)"rejected_messages"`)
	broken := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if broken || !rejected.Match(b) || !strings.Contains(string(b), `resource "google_firestore_index"`) {
			continue
		}
		b = rejected.ReplaceAll(b, []byte(`${1}"rejected"`))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		broken = true
	}
	if !broken {
		t.Fatal(`no google_firestore_index with collection = "rejected_messages" in infra/ to break`)
	}
	appendFile(t, filepath.Join(dir, "zz_broken.tf"), `resource "google_firestore_index" "zz_unneeded" {
  collection = "deliveries"
  fields {
    field_path = "zz_field"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
}
`)
	expectProblems(t, newProblems(before, checkFirestore(dir, firestore.CompositeIndexes, firestore.TTLPolicies)),
		"no google_firestore_index declares rejected_messages(tenant_id, reject_time desc, __name__ desc)",
		"google_firestore_index.zz_unneeded declares deliveries(zz_field, state, __name__), which no query needs",
	)
}
