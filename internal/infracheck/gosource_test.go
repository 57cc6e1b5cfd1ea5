package infracheck

// Reading the configuration structs of the services' Go code: the fields
// with `env:"…"` tags, through embedded and nested structs of this module.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// goSource parses Go files of one repository, each once.
type goSource struct {
	root   string
	module string
	fset   *token.FileSet
	files  map[string]*ast.File // by slash path from root
}

func newGoSource(root string) (*goSource, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	var module string
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			module = strings.TrimSpace(rest)
		}
	}
	if module == "" {
		return nil, fmt.Errorf("%s: no module line", filepath.Join(root, "go.mod"))
	}
	return &goSource{root: root, module: module, fset: token.NewFileSet(), files: map[string]*ast.File{}}, nil
}

func (g *goSource) file(rel string) (*ast.File, error) {
	if f, ok := g.files[rel]; ok {
		return f, nil
	}
	f, err := parser.ParseFile(g.fset, filepath.Join(g.root, filepath.FromSlash(rel)), nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	g.files[rel] = f
	return f, nil
}

// packageFiles returns the non-test Go files of the package in dir (slash
// path from root).
func (g *goSource) packageFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(g.root, filepath.FromSlash(dir)))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			out = append(out, path.Join(dir, n))
		}
	}
	return out, nil
}

// pos returns where n is, as a slash path from root and a line.
func (g *goSource) pos(n ast.Node) string {
	p := g.fset.Position(n.Pos())
	rel, err := filepath.Rel(g.root, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), p.Line)
}

// findType returns the declaration of the named type in the package in dir.
func (g *goSource) findType(dir, name string) (*ast.TypeSpec, string, error) {
	files, err := g.packageFiles(dir)
	if err != nil {
		return nil, "", err
	}
	for _, rel := range files {
		f, err := g.file(rel)
		if err != nil {
			return nil, "", err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.Name == name {
					return ts, rel, nil
				}
			}
		}
	}
	return nil, "", nil
}

// resolveStruct returns the struct type that the field type expr, written
// in file rel, names, when it is a struct of this module.
func (g *goSource) resolveStruct(rel string, expr ast.Expr) (*ast.StructType, string, error) {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return g.resolveStruct(rel, e.X)
	case *ast.StructType:
		return e, rel, nil
	case *ast.Ident:
		ts, in, err := g.findType(path.Dir(rel), e.Name)
		if err != nil || ts == nil {
			return nil, "", err
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return nil, "", nil
		}
		return st, in, nil
	case *ast.SelectorExpr:
		pkg, ok := e.X.(*ast.Ident)
		if !ok {
			return nil, "", nil
		}
		f, err := g.file(rel)
		if err != nil {
			return nil, "", err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			dir, inModule := strings.CutPrefix(p, g.module+"/")
			if name != pkg.Name || !inModule {
				continue
			}
			ts, in, err := g.findType(dir, e.Sel.Name)
			if err != nil || ts == nil {
				return nil, "", err
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return nil, "", nil
			}
			return st, in, nil
		}
	}
	return nil, "", nil
}

// structEnv adds the variables that env.Parse reads into st (declared in
// file rel) to out: tagged fields, and the fields of embedded and nested
// structs of this module, with their envPrefix.
func (g *goSource) structEnv(rel string, st *ast.StructType, prefix string, out map[string]codeVar) error {
	for _, field := range st.Fields.List {
		var tag reflect.StructTag
		if field.Tag != nil {
			s, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				return fmt.Errorf("%s: tag: %w", g.pos(field), err)
			}
			tag = reflect.StructTag(s)
		}
		if env, ok := tag.Lookup("env"); ok {
			name, opts, _ := strings.Cut(env, ",")
			if name == "" {
				continue
			}
			def, hasDef := tag.Lookup("envDefault")
			out[prefix+name] = codeVar{name: prefix + name, secret: slices.Contains(strings.Split(opts, ","), "unset"), from: g.pos(field), def: def, hasDef: hasDef}
			continue
		}
		nested, in, err := g.resolveStruct(rel, field.Type)
		if err != nil {
			return err
		}
		if nested != nil {
			if err := g.structEnv(in, nested, prefix+tag.Get("envPrefix"), out); err != nil {
				return err
			}
		}
	}
	return nil
}

// configEnv returns the variables of every struct in file rel that reads
// at least one.
func (g *goSource) configEnv(rel string) (map[string]codeVar, error) {
	f, err := g.file(rel)
	if err != nil {
		return nil, err
	}
	out := map[string]codeVar{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			if st, ok := s.(*ast.TypeSpec).Type.(*ast.StructType); ok {
				if err := g.structEnv(rel, st, "", out); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no struct with env tags", rel)
	}
	return out, nil
}
