package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

const specPath = "../../../../../internal/ingest/openapi.json"

// TestGeneratedCoreIsInStep fails when package api is not what the OpenAPI
// document generates now: after a change of the document, run
// go generate ./run/ingest/client/... and commit the result.
func TestGeneratedCoreIsInStep(t *testing.T) {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../api/api.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		dir := t.TempDir()
		_ = os.WriteFile(dir+"/api.gen.go", want, 0o644)
		t.Errorf("run/ingest/client/internal/api/api.gen.go is not what internal/ingest/openapi.json generates (%s has what it does): run go generate ./run/ingest/client/...", dir+"/api.gen.go")
	}
}

// TestPrepareHoistsDeepRefs checks the rewrite the document needs before
// oapi-codegen takes it: a $ref into another schema becomes a named schema
// that both places refer to, and no $ref into a schema is left.
func TestPrepareHoistsDeepRefs(t *testing.T) {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := prepare(spec)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Components.Schemas["TenantLimits"]; !ok {
		t.Errorf("no schema TenantLimits hoisted from Tenant.limits")
	}
	for _, name := range []string{"Tenant", "CreateTenantRequest", "TenantUpdate"} {
		if !bytes.Contains(doc.Components.Schemas[name], []byte(`"limits":{"$ref":"#/components/schemas/TenantLimits"`)) {
			t.Errorf("%s.limits does not refer to TenantLimits: %s", name, doc.Components.Schemas[name])
		}
	}
	var raw any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	deep := map[string]bool{}
	collectDeepRefs(raw, deep)
	if len(deep) > 0 {
		t.Errorf("$refs into schemas left: %v", deep)
	}
}
