package firestore

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	fs "cloud.google.com/go/firestore"
)

// The tests here keep CompositeIndexes and TTLPolicies true to the code
// without an emulator (which needs no index): they read the package's
// source. internal/infracheck checks that infra/ declares both lists.

// queryShape is what the analysis knows of a query value: the collections
// it may run on and the fields its Where and OrderBy calls may name, every
// optional condition included, with how each is used. Inside a helper,
// argQuery and argField say which parameters it takes the query, or a field
// name, from.
type queryShape struct {
	colls  map[string]bool
	fields map[string]bool
	// ranges are the fields of range filters (<, <=, >, >=, !=, not-in).
	ranges map[string]bool
	// order is the direction of each field of an OrderBy: true descending.
	order    map[string]bool
	argQuery map[paramRef]bool
	argField map[paramRef]map[fieldUse]bool
}

// paramRef is parameter i of the function with body fn: a closure may use
// the parameters of the function it is written in.
type paramRef struct {
	fn *ast.BlockStmt
	i  int
}

// fieldUse is how a Where or OrderBy uses a field.
type fieldUse int

const (
	useEqual fieldUse = iota
	useRange
	useAsc
	useDesc
)

func newShape() queryShape {
	return queryShape{
		colls: map[string]bool{}, fields: map[string]bool{}, ranges: map[string]bool{}, order: map[string]bool{},
		argQuery: map[paramRef]bool{}, argField: map[paramRef]map[fieldUse]bool{},
	}
}

func (q queryShape) merge(o queryShape) queryShape {
	maps.Copy(q.colls, o.colls)
	maps.Copy(q.fields, o.fields)
	maps.Copy(q.ranges, o.ranges)
	maps.Copy(q.order, o.order)
	maps.Copy(q.argQuery, o.argQuery)
	for r, uses := range o.argField {
		if q.argField[r] == nil {
			q.argField[r] = map[fieldUse]bool{}
		}
		maps.Copy(q.argField[r], uses)
	}
	return q
}

// direction returns the direction an index must have on field f for a
// query of this shape: an explicit order, else ascending for a range
// (Firestore orders by a range field, ascending, when the query does
// not), else any.
func (q queryShape) direction(f string) (desc, matters bool) {
	if d, ok := q.order[f]; ok {
		return d, true
	}
	return false, q.ranges[f]
}

// passThrough are the query methods that keep the shape of their receiver.
var passThrough = map[string]bool{
	"Query": true, "Limit": true, "LimitToLast": true, "Offset": true, "StartAt": true, "StartAfter": true,
	"EndAt": true, "EndBefore": true, "Select": true, "Documents": true, "NewAggregationQuery": true,
	"WithCount": true, "WithSum": true, "WithAvg": true,
}

// scope is a function body being analyzed: a declaration or a function
// literal, within the scope it is written in.
type scope struct {
	params []string
	// transactions are the parameters of type *fs.Transaction.
	transactions map[string]bool
	body         *ast.BlockStmt
	parent       *scope
	resolving    map[string]bool
}

func newScope(ft *ast.FuncType, body *ast.BlockStmt, parent *scope) *scope {
	sc := &scope{body: body, parent: parent, resolving: map[string]bool{}, transactions: map[string]bool{}}
	for _, f := range ft.Params.List {
		isTx := false
		if star, ok := f.Type.(*ast.StarExpr); ok {
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Transaction" {
				isTx = true
			}
		}
		if len(f.Names) == 0 {
			sc.params = append(sc.params, "_")
		}
		for _, n := range f.Names {
			sc.params = append(sc.params, n.Name)
			sc.transactions[n.Name] = isTx
		}
	}
	return sc
}

// param finds name among the parameters of sc and the functions it is
// written in.
func (sc *scope) param(name string) (paramRef, bool) {
	for s := sc; s != nil; s = s.parent {
		if i := slices.Index(s.params, name); i >= 0 {
			return paramRef{fn: s.body, i: i}, true
		}
	}
	return paramRef{}, false
}

// funcSummary is what a function does with queries: the shape of what it
// returns first, and which parameters it runs as queries.
type funcSummary struct {
	result   queryShape
	execArgs map[int]bool
}

// queryAnalysis follows query values through a package's source.
type queryAnalysis struct {
	fset      *token.FileSet
	funcs     map[string]*ast.FuncDecl // functions and methods by name
	summaries map[*ast.BlockStmt]*funcSummary
	problems  []string
	// built are the shapes of every call of the package, run or not: the
	// fields of each must be in some index.
	built []locatedShape
	// executed are the queries the package runs (Documents,
	// NewAggregationQuery, and helpers that run a parameter): each needs
	// an index with its fields in the right direction.
	executed []locatedShape
}

type locatedShape struct {
	pos   string
	shape queryShape
}

// problemf records a problem once: an expression is analyzed each time a
// query it is part of is.
func (a *queryAnalysis) problemf(n ast.Node, format string, args ...any) {
	if p := a.fset.Position(n.Pos()).String() + ": " + fmt.Sprintf(format, args...); !slices.Contains(a.problems, p) {
		a.problems = append(a.problems, p)
	}
}

// analyzeQueries reads the non-test Go files of dir.
func analyzeQueries(dir string) (*queryAnalysis, error) {
	a := &queryAnalysis{fset: token.NewFileSet(), funcs: map[string]*ast.FuncDecl{}, summaries: map[*ast.BlockStmt]*funcSummary{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(a.fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				a.funcs[fd.Name.Name] = fd
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				a.visit(newScope(fd.Type, fd.Body, nil), fd.Body)
			}
		}
	}
	return a, nil
}

// visit records the shape of every call in n, analyzing function literals
// in their own scope.
func (a *queryAnalysis) visit(sc *scope, n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			a.visit(newScope(n.Type, n.Body, sc), n.Body)
			return false
		case *ast.CallExpr:
			pos := a.fset.Position(n.Pos()).String()
			a.built = append(a.built, locatedShape{pos: pos, shape: a.shapeOf(sc, n)})
			for _, s := range a.execShapes(sc, n) {
				a.executed = append(a.executed, locatedShape{pos: pos, shape: s})
			}
		}
		return true
	})
}

// execShapes returns the shapes of the queries call runs: its receiver's
// for Documents and NewAggregationQuery (its argument's for a
// transaction's Documents), and the arguments a called helper runs.
func (a *queryAnalysis) execShapes(sc *scope, call *ast.CallExpr) []queryShape {
	var sum funcSummary
	switch fun := call.Fun.(type) {
	case *ast.SelectorExpr:
		switch fun.Sel.Name {
		case "Documents", "NewAggregationQuery":
			if x, ok := fun.X.(*ast.Ident); ok && sc.isTransaction(x.Name) && len(call.Args) == 1 {
				return []queryShape{a.shapeOf(sc, call.Args[0])}
			}
			return []queryShape{a.shapeOf(sc, fun.X)}
		}
		if passThrough[fun.Sel.Name] || fun.Sel.Name == "Where" || fun.Sel.Name == "OrderBy" || a.funcs[fun.Sel.Name] == nil {
			return nil
		}
		fd := a.funcs[fun.Sel.Name]
		sum = a.summary(fd.Type, fd.Body, nil)
	case *ast.Ident:
		body, ft, def := a.resolveFunc(sc, fun.Name)
		if body == nil {
			return nil
		}
		sum = a.summary(ft, body, def)
	default:
		return nil
	}
	var out []queryShape
	for i := range sum.execArgs {
		if i < len(call.Args) {
			out = append(out, a.shapeOf(sc, call.Args[i]))
		}
	}
	return out
}

// isTransaction reports whether name is a *fs.Transaction parameter in
// scope.
func (sc *scope) isTransaction(name string) bool {
	for s := sc; s != nil; s = s.parent {
		if isTx, ok := s.transactions[name]; ok {
			return isTx
		}
	}
	return false
}

// shapeOf returns the shape of the query value e, as far as it can be told.
func (a *queryAnalysis) shapeOf(sc *scope, e ast.Expr) queryShape {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return a.shapeOf(sc, e.X)
	case *ast.SelectorExpr:
		if e.Sel.Name == "Query" {
			return a.shapeOf(sc, e.X)
		}
	case *ast.Ident:
		return a.resolve(sc, e.Name)
	case *ast.CallExpr:
		switch fun := e.Fun.(type) {
		case *ast.SelectorExpr:
			return a.methodShape(sc, e, fun)
		case *ast.Ident:
			if body, ft, def := a.resolveFunc(sc, fun.Name); body != nil {
				return a.apply(sc, body, a.summary(ft, body, def).result, e.Args)
			}
		}
	}
	return newShape()
}

func (a *queryAnalysis) methodShape(sc *scope, call *ast.CallExpr, fun *ast.SelectorExpr) queryShape {
	switch name := fun.Sel.Name; {
	case name == "Where" || name == "OrderBy":
		s := a.shapeOf(sc, fun.X)
		if len(call.Args) >= 2 {
			a.addField(sc, &s, call.Args[0], a.use(name, call.Args[1]))
		}
		return s
	case name == "WherePath" || name == "WhereEntity" || name == "OrderByPath":
		a.problemf(call, "%s is not followed by this test: extend it, or use Where and OrderBy", name)
	case name == "Collection" || name == "CollectionGroup":
		s := newShape()
		if len(call.Args) == 1 {
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				c, _ := strconv.Unquote(lit.Value)
				s.colls[c] = true
				return s
			}
		}
		a.problemf(call, "%s with a name that is not a string literal: this test cannot tell which indexes its queries need", name)
		return s
	case passThrough[name]:
		return a.shapeOf(sc, fun.X)
	case a.funcs[name] != nil:
		fd := a.funcs[name]
		return a.apply(sc, fd.Body, a.summary(fd.Type, fd.Body, nil).result, call.Args)
	}
	return newShape()
}

// use tells how a Where (from its operator) or an OrderBy (from its
// direction) uses its field.
func (a *queryAnalysis) use(method string, arg ast.Expr) fieldUse {
	if method == "OrderBy" {
		if sel, ok := arg.(*ast.SelectorExpr); ok && sel.Sel.Name == "Desc" {
			return useDesc
		}
		if sel, ok := arg.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Asc" {
			a.problemf(arg, "cannot tell the direction of this OrderBy: use fs.Asc or fs.Desc")
		}
		return useAsc
	}
	lit, ok := arg.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		a.problemf(arg, "cannot tell the operator of this Where: use a string literal")
		return useEqual
	}
	switch op, _ := strconv.Unquote(lit.Value); op {
	case "<", "<=", ">", ">=", "!=", "not-in":
		return useRange
	}
	return useEqual
}

// addField adds the field that the first argument of a Where or OrderBy
// names to s, used as u: a literal, or a parameter of the function
// analyzed.
func (a *queryAnalysis) addField(sc *scope, s *queryShape, arg ast.Expr, u fieldUse) {
	switch arg := arg.(type) {
	case *ast.BasicLit:
		if f, err := strconv.Unquote(arg.Value); err == nil && arg.Kind == token.STRING {
			s.fields[f] = true
			switch u {
			case useRange:
				s.ranges[f] = true
			case useAsc, useDesc:
				s.order[f] = u == useDesc
			}
			return
		}
	case *ast.SelectorExpr:
		if x, ok := arg.X.(*ast.Ident); ok && x.Name == "fs" && arg.Sel.Name == "DocumentID" {
			return // the document ID ends every index, in its last field's direction
		}
	case *ast.Ident:
		if r, ok := sc.param(arg.Name); ok {
			if s.argField[r] == nil {
				s.argField[r] = map[fieldUse]bool{}
			}
			s.argField[r][u] = true
			return
		}
	}
	a.problemf(arg, "cannot tell which field this Where or OrderBy names: use a string literal or a parameter")
}

// apply returns the shape of a call of the function with body fn, whose
// result has shape sum, given the call's arguments. What sum takes from
// the parameters of other functions (a closure's captures) it keeps.
func (a *queryAnalysis) apply(sc *scope, fn *ast.BlockStmt, sum queryShape, args []ast.Expr) queryShape {
	s := newShape()
	maps.Copy(s.colls, sum.colls)
	maps.Copy(s.fields, sum.fields)
	maps.Copy(s.ranges, sum.ranges)
	maps.Copy(s.order, sum.order)
	for r := range sum.argQuery {
		switch {
		case r.fn != fn:
			s.argQuery[r] = true
		case r.i < len(args):
			s = s.merge(a.shapeOf(sc, args[r.i]))
		}
	}
	for r, uses := range sum.argField {
		for u := range uses {
			switch {
			case r.fn != fn:
				s = s.merge(queryShape{argField: map[paramRef]map[fieldUse]bool{r: {u: true}}})
			case r.i < len(args):
				a.addField(sc, &s, args[r.i], u)
			}
		}
	}
	return s
}

// summary returns what the function with type ft and body body does with
// queries, in terms of its parameters. def is the scope a function
// literal is written in.
func (a *queryAnalysis) summary(ft *ast.FuncType, body *ast.BlockStmt, def *scope) funcSummary {
	if s, ok := a.summaries[body]; ok {
		if s == nil {
			return funcSummary{result: newShape()} // recursion
		}
		return *s
	}
	a.summaries[body] = nil
	sc := newScope(ft, body, def)
	sum := funcSummary{result: newShape(), execArgs: map[int]bool{}}
	inspectOwn(body, func(n ast.Node) {
		if r, ok := n.(*ast.ReturnStmt); ok && len(r.Results) > 0 {
			sum.result = sum.result.merge(a.shapeOf(sc, r.Results[0]))
		}
	})
	// Queries run in closures (g.Go(func…)) count as the function's own.
	var runs func(sc *scope, n ast.Node)
	runs = func(sc *scope, n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				runs(newScope(n.Type, n.Body, sc), n.Body)
				return false
			case *ast.CallExpr:
				for _, s := range a.execShapes(sc, n) {
					for r := range s.argQuery {
						if r.fn == body {
							sum.execArgs[r.i] = true
						}
					}
				}
			}
			return true
		})
	}
	runs(sc, body)
	a.summaries[body] = &sum
	return sum
}

// inspectOwn calls fn for the nodes of body outside its function literals.
func inspectOwn(body *ast.BlockStmt, fn func(ast.Node)) {
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if n != nil {
			fn(n)
		}
		return true
	})
}

// resolve returns the shape of the variable name in sc: a parameter (with
// whatever the function assigns to it), everything assigned to it, or, for
// a variable of an enclosing function, what it is there.
func (a *queryAnalysis) resolve(sc *scope, name string) queryShape {
	s := newShape()
	if sc == nil || sc.resolving[name] {
		return s
	}
	isParam := slices.Contains(sc.params, name)
	if isParam {
		s.argQuery[paramRef{fn: sc.body, i: slices.Index(sc.params, name)}] = true
	}
	sc.resolving[name] = true
	defer delete(sc.resolving, name)
	found := false
	for _, rhs := range assignments(sc.body, name) {
		found = true
		s = s.merge(a.shapeOf(sc, rhs))
	}
	if !found && !isParam {
		return a.resolve(sc.parent, name)
	}
	return s
}

// resolveFunc finds the function a call of name calls: a function literal
// assigned to a variable in scope, or a function of the package.
func (a *queryAnalysis) resolveFunc(sc *scope, name string) (*ast.BlockStmt, *ast.FuncType, *scope) {
	for s := sc; s != nil; s = s.parent {
		for _, rhs := range assignments(s.body, name) {
			if fl, ok := rhs.(*ast.FuncLit); ok {
				return fl.Body, fl.Type, s
			}
		}
	}
	if fd := a.funcs[name]; fd != nil {
		return fd.Body, fd.Type, nil
	}
	return nil, nil, nil
}

// assignments returns the expressions assigned to the variable name in
// body (outside function literals): by =, := and var. Of a call returning
// several values, the first is the query.
func assignments(body *ast.BlockStmt, name string) []ast.Expr {
	var out []ast.Expr
	inspectOwn(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == name {
					switch {
					case len(n.Rhs) == len(n.Lhs):
						out = append(out, n.Rhs[i])
					case len(n.Rhs) == 1 && i == 0:
						out = append(out, n.Rhs[0])
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if id.Name == name && i < len(n.Values) {
					out = append(out, n.Values[i])
				}
			}
		}
	})
	return out
}

// uncovered returns the queries of a that use two fields or more with no
// index in idx holding them all: every query built, and, for the queries
// run, in the direction each needs on its range and ordered fields.
// Equality-only queries could do without (Firestore merges single-field
// indexes for them), but a multi-field one must still find its fields in
// some index: a new field must be thought about.
func uncovered(a *queryAnalysis, idx []Index) []string {
	var out []string
	check := func(q locatedShape, directions bool) {
		if len(q.shape.fields) < 2 || len(q.shape.argQuery) > 0 {
			return // single-field, or a helper's query, checked where it is called
		}
		fields := slices.Sorted(maps.Keys(q.shape.fields))
		if len(q.shape.colls) == 0 {
			out = append(out, fmt.Sprintf("%s: a query on %v whose collection this test cannot tell", q.pos, fields))
			return
		}
		for _, c := range slices.Sorted(maps.Keys(q.shape.colls)) {
			if covered(idx, c, q.shape, directions) {
				continue
			}
			uses := fmt.Sprint(fields)
			if directions {
				uses = q.shape.describe(fields)
			}
			out = append(out, fmt.Sprintf("%s: a query on %s uses %s together, and no CompositeIndexes entry of %s has them all: add the index it needs (and to infra/)", q.pos, c, uses, c))
		}
	}
	for _, q := range a.built {
		check(q, false)
	}
	for _, q := range a.executed {
		check(q, true)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// covered reports whether an index of idx on collection c holds every
// field of q, in the direction q needs where directions is set.
func covered(idx []Index, c string, q queryShape, directions bool) bool {
	return slices.ContainsFunc(idx, func(ix Index) bool {
		if ix.Collection != c {
			return false
		}
		for f := range q.fields {
			i := slices.IndexFunc(ix.Fields, func(x IndexField) bool { return x.Path == f })
			if i < 0 {
				return false
			}
			if desc, matters := q.direction(f); directions && matters && ix.Fields[i].Desc != desc {
				return false
			}
		}
		return true
	})
}

// describe lists fields with the direction the query needs on each.
func (q queryShape) describe(fields []string) string {
	var parts []string
	for _, f := range fields {
		if desc, matters := q.direction(f); matters && desc {
			f += " desc"
		} else if matters {
			f += " asc"
		}
		parts = append(parts, f)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestCompositeIndexesCoverQueries(t *testing.T) {
	a, err := analyzeQueries(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.problems {
		t.Error(p)
	}
	for _, p := range uncovered(a, CompositeIndexes) {
		t.Error(p)
	}
	// The analysis must see the multi-field queries it guards, or it
	// guards nothing.
	want := []struct{ coll, uses string }{
		{"deliveries", "[endpoint_id, state]"},                             // ListEndpointDeliveries
		{"deliveries", "[dead_time desc, endpoint_id, event_type, state]"}, // ListDeadLetters
		{"deliveries", "[dead_time asc, endpoint_id, event_type, state]"},  // ClaimDeadLetters
		{"deliveries", "[endpoint_id, event_time asc, shard, state]"},      // Metrics
		{"rejected_messages", "[reject_time desc, tenant_id]"},             // ListRejected
	}
	for _, w := range want {
		if !slices.ContainsFunc(a.executed, func(q locatedShape) bool {
			return q.shape.colls[w.coll] && q.shape.describe(slices.Sorted(maps.Keys(q.shape.fields))) == w.uses
		}) {
			t.Errorf("the analysis found no query run on %s using %s: it no longer follows the code", w.coll, w.uses)
		}
	}
}

func TestCompositeIndexesCoverQueriesFixtures(t *testing.T) {
	const helpers = `package p

import fs "cloud.google.com/go/firestore"

type Store struct{ c *fs.Client }

func (s *Store) tenant(id string) *fs.DocumentRef { return s.c.Collection("tenants").Doc(id) }

func (s *Store) items(id string) *fs.CollectionRef { return s.tenant(id).Collection("items") }

func newest(q fs.Query, field string) fs.Query {
	return q.OrderBy(field, fs.Desc).OrderBy(fs.DocumentID, fs.Desc)
}
`
	idx := []Index{
		{Collection: "items", Fields: []IndexField{{Path: "state"}, {Path: "owner"}, {Path: "time", Desc: true}}},
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"single field", `func (s *Store) f() { s.items("t").Where("color", "==", "red").Documents(nil) }`, nil},
		{"covered chain", `func (s *Store) f() { s.items("t").Where("state", "==", 1).Where("owner", "==", 2).Documents(nil) }`, nil},
		{"covered through a helper and a variable", `func (s *Store) f(owner string) {
	q := s.items("t").Where("state", "==", 1)
	if owner != "" {
		q = q.Where("owner", "==", owner)
	}
	newest(q, "time").Documents(nil)
}`, nil},
		{"new field", `func (s *Store) f() { s.items("t").Where("state", "==", 1).Where("color", "==", 2).Documents(nil) }`, []string{"uses [color, state] together"}},
		{"new field in an optional condition", `func (s *Store) f(c string) {
	q := s.items("t").Where("state", "==", 1)
	if c != "" {
		q = q.Where("color", "==", c)
	}
	q.Documents(nil)
}`, []string{"uses [color, state] together"}},
		{"new field through a helper", `func (s *Store) f() { newest(s.items("t").Where("state", "==", 1), "color").Documents(nil) }`, []string{"uses [color desc, state] together"}},
		{"new field through a function literal", `func (s *Store) f() {
	window := func(q fs.Query, field string) fs.Query { return q.Where(field, ">=", 1).Where(field, "<", 2) }
	window(s.items("t").Where("owner", "==", 1), "size").Documents(nil)
}`, []string{"uses [owner, size asc] together"}},
		{"range in the index's direction", `func (s *Store) f() {
	newest(s.items("t").Where("state", "==", 1).Where("time", "<", 2), "time").Documents(nil)
}`, nil},
		{"range without an order, against a descending index", `func (s *Store) f() {
	s.items("t").Where("state", "==", 1).Where("time", "<", 2).NewAggregationQuery()
}`, []string{"uses [state, time asc] together"}},
		{"run by a helper, in a closure", `func (s *Store) f() {
	count := func(q fs.Query) { go func() { q.NewAggregationQuery() }() }
	count(s.items("t").Where("owner", "==", 1).Where("time", ">", 2))
}`, []string{"uses [owner, time asc] together"}},
		{"run in a transaction", `func (s *Store) f() {
	s.c.RunTransaction(nil, func(ctx context.Context, tx *fs.Transaction) error {
		_, err := tx.Documents(s.items("t").Where("owner", "==", 1).Where("time", ">", 2)).GetAll()
		return err
	})
}`, []string{"uses [owner, time asc] together"}},
		{"order against the index's direction", `func (s *Store) f() {
	s.items("t").Where("owner", "==", 1).OrderBy("time", fs.Asc).Documents(nil)
}`, []string{"uses [owner, time asc] together"}},
		{"other collection", `func (s *Store) f() { s.c.Collection("things").Where("state", "==", 1).Where("owner", "==", 2).Documents(nil) }`, []string{"a query on things uses [owner, state]"}},
		{"field not a literal", `func (s *Store) f() {
	name := "state"
	s.items("t").Where(name, "==", 1).Documents(nil)
}`, []string{"cannot tell which field"}},
		{"WherePath", `func (s *Store) f() { s.items("t").WherePath(fs.FieldPath{"a"}, "==", 1).Documents(nil) }`, []string{"WherePath is not followed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(helpers+"\n"+tt.src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := analyzeQueries(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := append(a.problems, uncovered(a, idx)...)
			if len(tt.want) == 0 && len(got) > 0 {
				t.Errorf("got %q, want no problem", got)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem mentions %q; got %q", w, got)
				}
			}
		})
	}
}

// TestCompositeIndexesCoverQueriesWithoutAnEntry drops, in turn, indexes
// that only one query can use: the check must notice each time. (Dropping
// ListEndpointDeliveries' would not be noticed: its equality filters are
// in the Metrics index on endpoint_id, state and event_time too, and
// Firestore could merge single-field indexes for them anyway.)
func TestCompositeIndexesCoverQueriesWithoutAnEntry(t *testing.T) {
	a, err := analyzeQueries(".")
	if err != nil {
		t.Fatal(err)
	}
	drops := []struct {
		query  string
		fields []IndexField
	}{
		{"ListDeadLetters by endpoint and type", []IndexField{asc("state"), asc("endpoint_id"), asc("event_type"), desc("dead_time"), desc(fs.DocumentID)}},
		{"ClaimDeadLetters by endpoint and type", []IndexField{asc("state"), asc("endpoint_id"), asc("event_type"), asc("dead_time")}},
		{"Metrics by endpoint and state", []IndexField{asc("endpoint_id"), asc("state"), asc("shard"), asc("event_time")}},
		{"ListRejected", []IndexField{asc("tenant_id"), desc("reject_time"), desc(fs.DocumentID)}},
	}
	for _, d := range drops {
		idx := slices.DeleteFunc(slices.Clone(CompositeIndexes), func(ix Index) bool { return reflect.DeepEqual(ix.Fields, d.fields) })
		if len(idx) != len(CompositeIndexes)-1 {
			t.Errorf("%s: no CompositeIndexes entry %v to drop", d.query, d.fields)
			continue
		}
		if len(uncovered(a, idx)) == 0 {
			t.Errorf("without the index of %s, no query is reported uncovered", d.query)
		}
	}
}

func TestCompositeIndexesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i, ix := range CompositeIndexes {
		key := fmt.Sprint(ix)
		if seen[key] {
			t.Errorf("CompositeIndexes[%d] %v is listed twice", i, ix)
		}
		seen[key] = true
		if ix.Collection == "" || strings.Contains(ix.Collection, "/") {
			t.Errorf("CompositeIndexes[%d]: collection %q: want a collection ID", i, ix.Collection)
		}
		if len(ix.Fields) < 2 {
			t.Errorf("CompositeIndexes[%d] %v has fewer than two fields: a single-field index is automatic", i, ix)
		}
		paths := map[string]bool{}
		for j, f := range ix.Fields {
			if paths[f.Path] {
				t.Errorf("CompositeIndexes[%d] names %s twice", i, f.Path)
			}
			paths[f.Path] = true
			if f.Path == fs.DocumentID && j != len(ix.Fields)-1 {
				t.Errorf("CompositeIndexes[%d]: %s must be the last field", i, fs.DocumentID)
			}
		}
	}
}

// TestCompositeIndexesNameTheirQueries keeps the comments of
// CompositeIndexes current: the comment above each entry (or group of
// entries) names a function of the package that runs the query.
func TestCompositeIndexesNameTheirQueries(t *testing.T) {
	ps, err := indexCommentProblems(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Error(p)
	}
}

func indexCommentProblems(dir string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "indexes.go"), nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	a, err := analyzeQueries(dir)
	if err != nil {
		return nil, err
	}
	var lit *ast.CompositeLit
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && vs.Names[0].Name == "CompositeIndexes" && len(vs.Values) == 1 {
			lit, _ = vs.Values[0].(*ast.CompositeLit)
		}
		return lit == nil
	})
	if lit == nil {
		return []string{"indexes.go: no CompositeIndexes literal"}, nil
	}
	var ps []string
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	for i, el := range lit.Elts {
		var comment *ast.CommentGroup
		for _, cg := range f.Comments {
			if cg.Pos() > lit.Lbrace && cg.End() < el.Pos() {
				comment = cg
			}
		}
		if comment == nil {
			ps = append(ps, fmt.Sprintf("%s: CompositeIndexes[%d] has no comment above it naming the query function", fset.Position(el.Pos()), i))
			continue
		}
		names := slices.DeleteFunc(ident.FindAllString(comment.Text(), -1), func(w string) bool { return a.funcs[w] == nil })
		if len(names) == 0 {
			ps = append(ps, fmt.Sprintf("%s: the comment above CompositeIndexes[%d] names no function of the package: %q", fset.Position(el.Pos()), i, comment.Text()))
		}
	}
	return ps, nil
}

func TestCompositeIndexesNameTheirQueriesFixtures(t *testing.T) {
	const code = "package p\n\nfunc (s *Store) ListThings() {}\n"
	tests := []struct {
		name, indexes, want string
	}{
		{"named", "// ListThings: a and b.\n\t{Collection: \"t\"},\n\t{Collection: \"u\"},\n", ""},
		{"no comment", "{Collection: \"t\"},\n", "CompositeIndexes[0] has no comment"},
		{"renamed function", "// ListStuff: a and b.\n\t{Collection: \"t\"},\n", "names no function of the package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := "package p\n\nvar CompositeIndexes = []Index{\n\t" + tt.indexes + "}\n"
			for name, content := range map[string]string{"indexes.go": src, "store.go": code} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ps, err := indexCommentProblems(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && len(ps) > 0 || tt.want != "" && !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems = %q, want one mentioning %q", ps, tt.want)
			}
		})
	}
}

// ttlWriters are the document types and field maps of the package that
// carry a TTL field, and the collection each is written to. A new one
// fails TestTTLPoliciesMatchWriters until its collection is in TTLPolicies.
var ttlWriters = map[string]string{
	"eventDoc":       "events",
	"deliveryDoc":    "deliveries",
	"deliveryFields": "deliveries",
	"rejectedDoc":    "rejected_messages",
	"deletionDoc":    "tenant_deletions",
	"portalLinkDoc":  "portal_links",
	// CountDeadInARow's marker of a counted dead letter.
	"CountDeadInARow": "dead_counted",
}

func TestTTLPoliciesMatchWriters(t *testing.T) {
	ps, err := ttlProblems(".", ttlWriters, TTLPolicies)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Error(p)
	}
}

// ttlProblems compares the struct types (by `firestore:"…"` tag) and
// functions (by map key) of the package in dir that carry a field of
// policies with writers, and the collections of writers with policies.
func ttlProblems(dir string, writers map[string]string, policies []TTLPolicy) ([]string, error) {
	ttlFields := map[string]bool{}
	for _, p := range policies {
		ttlFields[p.Field] = true
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						if fl.Tag == nil {
							continue
						}
						tag, _ := strconv.Unquote(fl.Tag.Value)
						name, _, _ := strings.Cut(reflect.StructTag(tag).Get("firestore"), ",")
						if ttlFields[name] {
							found[ts.Name.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				if d.Body == nil {
					continue
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					if kv, ok := n.(*ast.KeyValueExpr); ok {
						if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if k, _ := strconv.Unquote(lit.Value); ttlFields[k] {
								found[d.Name.Name] = true
							}
						}
					}
					return true
				})
			}
		}
	}
	var ps []string
	for _, w := range slices.Sorted(maps.Keys(found)) {
		if _, ok := writers[w]; !ok {
			ps = append(ps, fmt.Sprintf("%s writes a TTL field: add it to ttlWriters with its collection, and the collection to TTLPolicies", w))
		}
	}
	for _, w := range slices.Sorted(maps.Keys(writers)) {
		if !found[w] {
			ps = append(ps, fmt.Sprintf("ttlWriters names %s, which no longer writes a TTL field: update ttlWriters and TTLPolicies", w))
		}
	}
	want := slices.Compact(slices.Sorted(maps.Values(writers)))
	var got []string
	for _, p := range policies {
		got = append(got, p.Collection)
	}
	slices.Sort(got)
	if !slices.Equal(want, got) {
		ps = append(ps, fmt.Sprintf("TTLPolicies collections = %v, want %v (one per collection written with a TTL field)", got, want))
	}
	return ps, nil
}

func TestTTLPoliciesMatchWritersFixtures(t *testing.T) {
	const src = `package p

type eventDoc struct {
	Expire int ` + "`firestore:\"expire_time\"`" + `
}

func fields() map[string]any { return map[string]any{"expire_time": 1} }
`
	policies := []TTLPolicy{{Collection: "events", Field: "expire_time"}, {Collection: "items", Field: "expire_time"}}
	tests := []struct {
		name     string
		writers  map[string]string
		policies []TTLPolicy
		want     string
	}{
		{"matching", map[string]string{"eventDoc": "events", "fields": "items"}, policies, ""},
		{"new writer", map[string]string{"eventDoc": "events"}, policies[:1], "fields writes a TTL field"},
		{"writer gone", map[string]string{"eventDoc": "events", "fields": "items", "oldDoc": "old"}, policies, "ttlWriters names oldDoc"},
		{"policy missing", map[string]string{"eventDoc": "events", "fields": "items"}, policies[:1], "TTLPolicies collections = [events], want [events items]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			ps, err := ttlProblems(dir, tt.writers, tt.policies)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && len(ps) > 0 || tt.want != "" && !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems = %q, want one mentioning %q", ps, tt.want)
			}
		})
	}
}

// queriedFields returns every field of a's queries, by collection.
func queriedFields(a *queryAnalysis) []Field {
	seen := map[Field]bool{}
	for _, q := range slices.Concat(a.built, a.executed) {
		if len(q.shape.argQuery) > 0 {
			continue // a helper's query: its fields are found where it is called
		}
		for c := range q.shape.colls {
			for f := range q.shape.fields {
				seen[Field{c, f}] = true
			}
		}
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b Field) int {
		return strings.Compare(a.Collection+"."+a.Field, b.Collection+"."+b.Field)
	})
}

// QueryFields is what infra/ must leave indexed: a field a query uses that
// it lacks could be exempted, and the query would fail in production only.
func TestQueryFieldsAreTheQueriesFields(t *testing.T) {
	a, err := analyzeQueries(".")
	if err != nil {
		t.Fatal(err)
	}
	got := queriedFields(a)
	for _, f := range got {
		if !slices.Contains(QueryFields, f) {
			t.Errorf("a query uses %s.%s, which QueryFields does not list: add it, so that infra/ cannot exempt it from indexing", f.Collection, f.Field)
		}
	}
	for _, f := range QueryFields {
		if !slices.Contains(got, f) {
			t.Errorf("QueryFields lists %s.%s, which no query uses: drop it", f.Collection, f.Field)
		}
	}
}

// A field of ShardedFields may lose its single-field index only if no
// query needs it: every query that reads it also asks for every shard,
// with another field, and a composite index serves it.
func TestShardedFieldsAreReadThroughCompositeIndexes(t *testing.T) {
	a, err := analyzeQueries(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ShardedFields {
		if !slices.Contains(QueryFields, f) {
			t.Errorf("ShardedFields lists %s.%s, which QueryFields does not", f.Collection, f.Field)
		}
		queries := 0
		for _, q := range a.executed {
			if len(q.shape.argQuery) > 0 || !q.shape.colls[f.Collection] || !q.shape.fields[f.Field] {
				continue
			}
			queries++
			if !q.shape.fields["shard"] || len(q.shape.fields) < 3 && f.Field != "shard" || !covered(CompositeIndexes, f.Collection, q.shape, true) {
				t.Errorf("%s: a query reads %s.%s without every shard, an equality filter and a composite index: it needs the single-field index infra/ exempts", q.pos, f.Collection, f.Field)
			}
		}
		if queries == 0 {
			t.Errorf("no query reads %s.%s: the analysis no longer follows the code", f.Collection, f.Field)
		}
	}
}
