package infracheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// tfFile is one parsed Terraform file. Its name, in messages and in the
// ranges of its syntax tree, is its path from the parent of the infra
// directory: "infra/main.tf".
type tfFile struct {
	name string
	src  []byte
	body *hclsyntax.Body
}

// tfModule is the .tf files of one directory: Terraform reads a directory
// as one module, with one namespace of variables, locals and resources.
type tfModule struct {
	dir   string
	files []*tfFile
}

// tfFiles returns the paths of the files under dir whose names end in one
// of exts, skipping hidden directories such as .terraform.
func tfFiles(dir string, exts ...string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.ContainsFunc(exts, func(ext string) bool { return strings.HasSuffix(d.Name(), ext) }) {
			paths = append(paths, path)
		}
		return nil
	})
	return paths, err
}

// displayName is path as messages show it: from the parent of infraDir.
func displayName(infraDir, path string) string {
	rel, err := filepath.Rel(filepath.Dir(infraDir), path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// loadModules parses every .tf file under infraDir, grouped by directory.
// Files that do not parse are left out and reported.
func loadModules(infraDir string) ([]*tfModule, problems) {
	var ps problems
	paths, err := tfFiles(infraDir, ".tf")
	if err != nil {
		ps.addf("%s: %v", displayName(infraDir, infraDir), err)
		return nil, ps
	}
	if len(paths) == 0 {
		ps.addf("%s: no .tf files", displayName(infraDir, infraDir))
		return nil, ps
	}
	parser := hclparse.NewParser()
	byDir := map[string]*tfModule{}
	var mods []*tfModule
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			ps.addf("%s: %v", displayName(infraDir, path), err)
			continue
		}
		name := displayName(infraDir, path)
		f, diags := parser.ParseHCL(src, name)
		if diags.HasErrors() {
			for _, d := range diags.Errs() {
				ps.addf("does not parse: %v", d)
			}
			continue
		}
		dir := filepath.Dir(path)
		m := byDir[dir]
		if m == nil {
			m = &tfModule{dir: dir}
			byDir[dir] = m
			mods = append(mods, m)
		}
		m.files = append(m.files, &tfFile{name: name, src: src, body: f.Body.(*hclsyntax.Body)})
	}
	return mods, ps
}

// rootModule returns the module of infraDir itself, or nil.
func rootModule(mods []*tfModule, infraDir string) *tfModule {
	for _, m := range mods {
		if filepath.Clean(m.dir) == filepath.Clean(infraDir) {
			return m
		}
	}
	return nil
}

// blocks returns the module's top-level blocks of type typ.
func (m *tfModule) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, f := range m.files {
		for _, b := range f.body.Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

// resources returns the module's resource blocks of resource type typ.
func (m *tfModule) resources(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocks("resource") {
		if len(b.Labels) == 2 && b.Labels[0] == typ {
			out = append(out, b)
		}
	}
	return out
}

// locals returns the attributes of the module's locals blocks by name.
func (m *tfModule) locals() map[string]*hclsyntax.Attribute {
	out := map[string]*hclsyntax.Attribute{}
	for _, b := range m.blocks("locals") {
		for name, a := range b.Body.Attributes {
			out[name] = a
		}
	}
	return out
}

// at is where r starts, as file:line.
func at(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

// addr is a resource block's address, TYPE.NAME.
func addr(b *hclsyntax.Block) string { return strings.Join(b.Labels, ".") }

// evaluator evaluates a module's expressions as far as is possible offline:
// variables take their defaults, locals are computed from them, and
// everything a provider would know (resource attributes, data sources) is
// unknown. Values built around unknowns keep what is known: the keys of a
// map of environment variables whose values are resource attributes, say.
type evaluator struct {
	ctx *hcl.EvalContext
}

func newEvaluator(m *tfModule) *evaluator {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: tfFunctions}
	// Every root an expression names starts as an unknown placeholder, so
	// that evaluating around a resource reference is not an error.
	for _, f := range m.files {
		hclsyntax.VisitAll(f.body, func(n hclsyntax.Node) hcl.Diagnostics {
			if st, ok := n.(*hclsyntax.ScopeTraversalExpr); ok {
				ctx.Variables[st.Traversal.RootName()] = cty.DynamicVal
			}
			return nil
		})
	}
	vars := map[string]cty.Value{}
	for _, b := range m.blocks("variable") {
		if len(b.Labels) != 1 {
			continue
		}
		vars[b.Labels[0]] = cty.DynamicVal
		if def := b.Body.Attributes["default"]; def != nil {
			if v, diags := def.Expr.Value(nil); !diags.HasErrors() {
				vars[b.Labels[0]] = v
			}
		}
	}
	ctx.Variables["var"] = cty.ObjectVal(vars)

	// Locals may name each other: evaluate them all until nothing changes
	// (at most once per local, the longest possible chain).
	locals := m.locals()
	vals := map[string]cty.Value{}
	for name := range locals {
		vals[name] = cty.DynamicVal
	}
	for range len(locals) + 1 {
		ctx.Variables["local"] = cty.ObjectVal(vals)
		next := map[string]cty.Value{}
		changed := false
		for name, a := range locals {
			v, _ := a.Expr.Value(ctx)
			next[name] = v
			changed = changed || !v.RawEquals(vals[name])
		}
		vals = next
		if !changed {
			break
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(vals)
	return &evaluator{ctx: ctx}
}

// instance is one instance of a resource block: one per for_each key, else
// one (whatever count says: its configuration is checked even when count
// is 0 by default, as for an optional service).
type instance struct {
	addr string
	// body has the resource's dynamic blocks expanded.
	body hcl.Body
	ctx  *hcl.EvalContext
}

// instances expands a resource block's for_each.
func (e *evaluator) instances(b *hclsyntax.Block) ([]instance, problems) {
	var ps problems
	one := func(addr string, each cty.Value) instance {
		ctx := e.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{
			"each":  each,
			"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(0)}),
		}
		return instance{addr: addr, body: dynblock.Expand(b.Body, ctx), ctx: ctx}
	}
	fe := b.Body.Attributes["for_each"]
	if fe == nil {
		return []instance{one(addr(b), cty.DynamicVal)}, nil
	}
	v, diags := fe.Expr.Value(e.ctx)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		ps.addf("%s: %s's for_each is not known offline: give it literal keys (a map in a local, say)", at(fe.SrcRange), addr(b))
		return []instance{one(addr(b), cty.DynamicVal)}, ps
	}
	var out []instance
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		if v.Type().IsSetType() {
			k = val
		}
		key, ok := stringOf(k)
		if !ok {
			ps.addf("%s: %s has a for_each key that is not known offline", at(fe.SrcRange), addr(b))
			continue
		}
		each := cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": val})
		out = append(out, one(fmt.Sprintf("%s[%q]", addr(b), key), each))
	}
	return out, ps
}

// content returns the attributes and nested blocks of body that the schema
// names, ignoring all others.
func content(body hcl.Body, attrs []string, blocks ...string) (*hcl.BodyContent, hcl.Diagnostics) {
	var s hcl.BodySchema
	for _, a := range attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a})
	}
	for _, b := range blocks {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: b})
	}
	c, _, diags := body.PartialContent(&s)
	return c, diags
}

// nestedBlocks returns the blocks reached from body by following the
// block types of path, depth first: ("template", "containers") gives every
// container of every template.
func nestedBlocks(body hcl.Body, path ...string) ([]*hcl.Block, hcl.Diagnostics) {
	c, diags := content(body, nil, path[0])
	if diags.HasErrors() {
		return nil, diags
	}
	if len(path) == 1 {
		return c.Blocks, diags
	}
	var out []*hcl.Block
	for _, b := range c.Blocks {
		sub, more := nestedBlocks(b.Body, path[1:]...)
		diags = append(diags, more...)
		out = append(out, sub...)
	}
	return out, diags
}

// stringAttr evaluates the attribute name of c as a string. ok is false
// when it is absent or not known offline.
func stringAttr(c *hcl.BodyContent, name string, ctx *hcl.EvalContext) (s string, ok bool) {
	a := c.Attributes[name]
	if a == nil {
		return "", false
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return "", false
	}
	return stringOf(v)
}

// stringOf converts a known, non-null value to a string.
func stringOf(v cty.Value) (string, bool) {
	if !v.IsWhollyKnown() || v.IsNull() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return s.AsString(), true
}

// diagProblems turns error diagnostics into problems.
func diagProblems(what string, diags hcl.Diagnostics) problems {
	var ps problems
	for _, d := range diags.Errs() {
		ps.addf("%s: %v", what, d)
	}
	return ps
}

// tfFunctions are the Terraform functions that go-cty implements under the
// same names and meaning; configurations use few others where values
// matter offline (env names, index fields, service names).
var tfFunctions = map[string]function.Function{
	"abs":             stdlib.AbsoluteFunc,
	"ceil":            stdlib.CeilFunc,
	"chunklist":       stdlib.ChunklistFunc,
	"coalesce":        stdlib.CoalesceFunc,
	"coalescelist":    stdlib.CoalesceListFunc,
	"compact":         stdlib.CompactFunc,
	"concat":          stdlib.ConcatFunc,
	"contains":        stdlib.ContainsFunc,
	"distinct":        stdlib.DistinctFunc,
	"element":         stdlib.ElementFunc,
	"flatten":         stdlib.FlattenFunc,
	"floor":           stdlib.FloorFunc,
	"format":          stdlib.FormatFunc,
	"formatlist":      stdlib.FormatListFunc,
	"index":           stdlib.IndexFunc,
	"join":            stdlib.JoinFunc,
	"jsondecode":      stdlib.JSONDecodeFunc,
	"jsonencode":      stdlib.JSONEncodeFunc,
	"keys":            stdlib.KeysFunc,
	"length":          stdlib.LengthFunc,
	"lookup":          stdlib.LookupFunc,
	"lower":           stdlib.LowerFunc,
	"max":             stdlib.MaxFunc,
	"merge":           stdlib.MergeFunc,
	"min":             stdlib.MinFunc,
	"range":           stdlib.RangeFunc,
	"regex":           stdlib.RegexFunc,
	"regexall":        stdlib.RegexAllFunc,
	"reverse":         stdlib.ReverseListFunc,
	"setintersection": stdlib.SetIntersectionFunc,
	"setproduct":      stdlib.SetProductFunc,
	"setsubtract":     stdlib.SetSubtractFunc,
	"setunion":        stdlib.SetUnionFunc,
	"slice":           stdlib.SliceFunc,
	"sort":            stdlib.SortFunc,
	"split":           stdlib.SplitFunc,
	"substr":          stdlib.SubstrFunc,
	"title":           stdlib.TitleFunc,
	"tobool":          stdlib.MakeToFunc(cty.Bool),
	"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tonumber":        stdlib.MakeToFunc(cty.Number),
	"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tostring":        stdlib.MakeToFunc(cty.String),
	"trim":            stdlib.TrimFunc,
	"trimprefix":      stdlib.TrimPrefixFunc,
	"trimspace":       stdlib.TrimSpaceFunc,
	"trimsuffix":      stdlib.TrimSuffixFunc,
	"upper":           stdlib.UpperFunc,
	"values":          stdlib.ValuesFunc,
	"zipmap":          stdlib.ZipmapFunc,
}
