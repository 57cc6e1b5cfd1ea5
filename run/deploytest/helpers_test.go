package deploytest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// services are hookrun's Cloud Run services: image name (a directory under
// run/, or the receiver) and Cloud Run service name, as infra/main.tf
// names them.
var services = map[string]string{
	"ingest":     "hookrun-ingest",
	"dispatcher": "hookrun-dispatcher",
	"receiver":   "hookrun-receiver",
}

// exists reports whether the repository path rel exists.
func exists(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

var (
	tfResourcePattern = regexp.MustCompile(`(?m)^resource\s+"([^"]+)"\s+"([^"]+)"`)
	tfVariablePattern = regexp.MustCompile(`(?m)^variable\s+"([^"]+)"`)
	tfOutputPattern   = regexp.MustCompile(`(?m)^output\s+"([^"]+)"`)
)

// infra is what infra/*.tf declares at the top level: resource addresses
// (type.name), variables and outputs.
type infra struct {
	resources, variables, outputs []string
	blocks                        map[string]string // resource address => its text
	text                          string            // all files, concatenated
}

func readInfra(t *testing.T, root string) infra {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "infra", "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no infra/*.tf (%v): scripts/deploy and cloudbuild.yaml apply infra/", err)
	}
	in := infra{blocks: map[string]string{}}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		all.WriteByte('\n')
		for _, m := range tfResourcePattern.FindAllSubmatchIndex(b, -1) {
			addr := string(b[m[2]:m[3]]) + "." + string(b[m[4]:m[5]])
			in.resources = append(in.resources, addr)
			// terraform fmt puts a top-level block's closing brace at
			// the start of a line.
			body := b[m[0]:]
			if end := strings.Index(string(body), "\n}"); end >= 0 {
				body = body[:end+2]
			}
			in.blocks[addr] = string(body)
		}
		for _, m := range tfVariablePattern.FindAllSubmatch(b, -1) {
			in.variables = append(in.variables, string(m[1]))
		}
		for _, m := range tfOutputPattern.FindAllSubmatch(b, -1) {
			in.outputs = append(in.outputs, string(m[1]))
		}
	}
	in.text = all.String()
	slices.Sort(in.resources)
	slices.Sort(in.variables)
	slices.Sort(in.outputs)
	return in
}
