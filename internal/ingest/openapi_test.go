package ingest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// customMethods are the POST routes whose handler dispatches Google-style
// custom methods on the last path segment ("{event}:redeliver"): the mux
// serves every action by one wildcard pattern, the document names each
// action as a path of its own. A new action goes here and in the document.
var customMethods = map[string][]string{
	"POST /v1/tenants/{tenant}/endpoints/{endpoint}": {"verify"},
	"POST /v1/tenants/{tenant}/events/{event}":       {"redeliver"},
	"POST /v1/tenants/{tenant}/dead-letters/{id}":    {"replay"},
}

// handlerRoutes are served by Handler beside routes().
var handlerRoutes = []string{"GET /healthz"}

// schemaTypes names the Go type each component schema describes, and
// whether it is (part of) a request body, which the API decodes strictly,
// so its schema must refuse other properties; or of an answer, whose
// schema must require exactly the fields Go always writes.
var schemaTypes = map[string]struct {
	typ     reflect.Type
	in, out bool
}{
	"Tenant":                     {reflect.TypeFor[hookrun.Tenant](), false, true},
	"TenantList":                 {reflect.TypeFor[listTenantsResponse](), false, true},
	"CreateTenantRequest":        {reflect.TypeFor[createTenantRequest](), true, false},
	"CreateTenantResponse":       {reflect.TypeFor[createTenantResponse](), false, true},
	"TenantUpdate":               {reflect.TypeFor[hookrun.TenantUpdate](), true, false},
	"ApiKey":                     {reflect.TypeFor[hookrun.APIKey](), false, true},
	"ApiKeyList":                 {reflect.TypeFor[listAPIKeysResponse](), false, true},
	"CreateApiKeyRequest":        {reflect.TypeFor[createAPIKeyRequest](), true, false},
	"CreateApiKeyResponse":       {reflect.TypeFor[createAPIKeyResponse](), false, true},
	"ProducerKey":                {reflect.TypeFor[hookrun.ProducerKey](), false, true},
	"ProducerKeyList":            {reflect.TypeFor[listProducerKeysResponse](), false, true},
	"CreateProducerKeyRequest":   {reflect.TypeFor[createProducerKeyRequest](), true, false},
	"CreateProducerKeyResponse":  {reflect.TypeFor[createProducerKeyResponse](), false, true},
	"RetryPolicy":                {reflect.TypeFor[hookrun.RetryPolicy](), true, true},
	"EndpointAuth":               {reflect.TypeFor[hookrun.EndpointAuth](), true, false},
	"Endpoint":                   {reflect.TypeFor[hookrun.Endpoint](), false, true},
	"EndpointList":               {reflect.TypeFor[listEndpointsResponse](), false, true},
	"CreateEndpointRequest":      {reflect.TypeFor[createEndpointRequest](), true, false},
	"CreateEndpointResponse":     {reflect.TypeFor[createEndpointResponse](), false, true},
	"PatchEndpointRequest":       {reflect.TypeFor[patchEndpointRequest](), true, false},
	"RotateSecretRequest":        {reflect.TypeFor[rotateRequest](), true, false},
	"RotateSecretResponse":       {reflect.TypeFor[rotateResponse](), false, true},
	"EventTypeCatalogue":         {reflect.TypeFor[catalogueJSON](), true, true},
	"PublishEventRequest":        {reflect.TypeFor[publishEventRequest](), true, false},
	"PublishEventResponse":       {reflect.TypeFor[publishEventResponse](), false, true},
	"PublishEventsResponse":      {reflect.TypeFor[batchResponse](), false, true},
	"PublishEventsResult":        {reflect.TypeFor[batchResult](), false, true},
	"Event":                      {reflect.TypeFor[hookrun.Event](), false, true},
	"EventWithDeliveries":        {reflect.TypeFor[eventResponse](), false, true},
	"EventList":                  {reflect.TypeFor[eventsResponse](), false, true},
	"EventSummary":               {reflect.TypeFor[hookrun.EventSummary](), false, true},
	"DeliverySummary":            {reflect.TypeFor[hookrun.DeliverySummary](), false, true},
	"Delivery":                   {reflect.TypeFor[deliveryJSON](), false, true},
	"Attempt":                    {reflect.TypeFor[hookrun.Attempt](), false, true},
	"RedeliverRequest":           {reflect.TypeFor[redeliverRequest](), true, false},
	"ReplayResponse":             {reflect.TypeFor[replayResponse](), false, true},
	"DeadLetterFilter":           {reflect.TypeFor[hookrun.DeadLetterFilter](), true, true},
	"Replay":                     {reflect.TypeFor[replayJSON](), false, true},
	"TenantDeletion":             {reflect.TypeFor[tenantDeletionJSON](), false, true},
	"ReplayCounts":               {reflect.TypeFor[hookrun.ReplayCounts](), false, true},
	"DeadLetterList":             {reflect.TypeFor[deadLettersResponse](), false, true},
	"RejectedMessage":            {reflect.TypeFor[hookrun.RejectedMessage](), false, true},
	"RejectedMessageList":        {reflect.TypeFor[rejectedResponse](), false, true},
	"Metrics":                    {reflect.TypeFor[hookrun.Metrics](), false, true},
	"CreatePortalSessionRequest": {reflect.TypeFor[createPortalSessionRequest](), true, false},
	"PortalSession":              {reflect.TypeFor[createPortalSessionResponse](), false, true},
	"SourceMatch":                {reflect.TypeFor[hookrun.SourceMatch](), true, true},
	"CloudEventsMatch":           {reflect.TypeFor[hookrun.CloudEventsMatch](), true, true},
	"StorageMatch":               {reflect.TypeFor[hookrun.StorageMatch](), true, true},
	"AuditLogMatch":              {reflect.TypeFor[hookrun.AuditLogMatch](), true, true},
	"CreateSourceBindingRequest": {reflect.TypeFor[createSourceBindingRequest](), true, false},
	"SourceBinding":              {reflect.TypeFor[hookrun.SourceBinding](), false, true},
	"SourceBindingList":          {reflect.TypeFor[listSourceBindingsResponse](), false, true},
}

// otherSchemas are the component schemas of no Go struct this test can
// see: Error is httpapi's unexported errorBody, Duration a string, Health
// a literal, PublishEventsRequest the list httpapi.DecodeJSONList decodes
// into PublishEventRequests.
var otherSchemas = []string{"Error", "Duration", "Health", "PublishEventsRequest"}

type jsonObject = map[string]any

func openAPIDoc(t *testing.T) jsonObject {
	t.Helper()
	var doc jsonObject
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// resolve follows a local "$ref" ("#/components/schemas/Tenant").
func resolve(t *testing.T, doc jsonObject, v any) jsonObject {
	t.Helper()
	o, _ := v.(jsonObject)
	ref, ok := o["$ref"].(string)
	if !ok {
		return o
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := cur.(jsonObject)
		if cur = m[part]; cur == nil {
			t.Errorf("$ref %s does not resolve", ref)
			return nil
		}
	}
	return resolve(t, doc, cur)
}

// pathWildcard matches a path template's {name}.
var pathWildcard = regexp.MustCompile(`\{([^}]+)\}`)

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// documentedOperations returns the document's operations by
// "METHOD /path", as route patterns are written.
func documentedOperations(doc jsonObject) map[string]jsonObject {
	ops := map[string]jsonObject{}
	paths, _ := doc["paths"].(jsonObject)
	for path, item := range paths {
		for _, m := range httpMethods {
			if op, ok := item.(jsonObject)[m].(jsonObject); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

// servedOperations returns what the router serves, as the document should
// name it: custom-method dispatchers as one operation per action.
func servedOperations(t *testing.T, s *Service) []string {
	t.Helper()
	served := slices.Clone(handlerRoutes)
	dispatchers := map[string]bool{}
	for _, r := range s.routes() {
		_, _, ok := strings.Cut(r.pattern, " ")
		if !ok {
			t.Errorf("route %q has no method: the document cannot name it", r.pattern)
			continue
		}
		actions, ok := customMethods[r.pattern]
		if !ok {
			served = append(served, r.pattern)
			continue
		}
		dispatchers[r.pattern] = true
		for _, a := range actions {
			served = append(served, r.pattern+":"+a)
		}
	}
	for p := range customMethods {
		if !dispatchers[p] {
			t.Errorf("customMethods lists %s, which no route serves", p)
		}
	}
	return served
}

func testService(t *testing.T) *Service {
	t.Helper()
	// No store: the tests send no credentials, so no handler reaches it.
	s, err := New(Config{AdminToken: "admin-token-0123456789abcdef"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := openAPIDoc(t)
	if v := doc["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
	// Every reference resolves.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case jsonObject:
			if _, ok := v["$ref"]; ok {
				resolve(t, doc, v)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)

	ids := map[string]string{}
	paths, _ := doc["paths"].(jsonObject)
	for key, op := range documentedOperations(doc) {
		id, _ := op["operationId"].(string)
		if prev, dup := ids[id]; dup || id == "" {
			t.Errorf("%s: operationId %q empty or also used by %s", key, id, prev)
		}
		ids[id] = key
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", key)
		}
		// Path parameters are exactly the path's {names}.
		_, path, _ := strings.Cut(key, " ")
		var want, got []string
		for _, m := range pathWildcard.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		params, _ := paths[path].(jsonObject)["parameters"].([]any)
		opParams, _ := op["parameters"].([]any)
		for _, p := range append(slices.Clone(params), opParams...) {
			if p := resolve(t, doc, p); p["in"] == "path" {
				got = append(got, p["name"].(string))
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s declares path parameters %v, want %v", key, got, want)
		}
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	documented := documentedOperations(openAPIDoc(t))
	served := servedOperations(t, testService(t))
	for _, op := range served {
		if documented[op] == nil {
			t.Errorf("route %s is missing from openapi.json", op)
		}
	}
	for _, op := range slices.Sorted(maps.Keys(documented)) {
		if slices.Contains(served, op) {
			continue
		}
		hint := ""
		if strings.Contains(op, ":") {
			hint = " (a custom method's action goes in customMethods)"
		}
		t.Errorf("openapi.json documents %s, which no route serves%s", op, hint)
	}
}

// TestOpenAPIOperationsReachTheirHandlers sends each documented operation,
// without credentials, through the real Handler: an operation that needs
// credentials must answer 401, which only its handler does (an unknown
// route or action is a 404), and one that needs none must answer 200.
func TestOpenAPIOperationsReachTheirHandlers(t *testing.T) {
	doc := openAPIDoc(t)
	h := testService(t).Handler()
	for key, op := range documentedOperations(doc) {
		t.Run(key, func(t *testing.T) {
			method, path, _ := strings.Cut(key, " ")
			path = pathWildcard.ReplaceAllString(path, "x$1")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			security, ok := op["security"].([]any)
			if !ok {
				security, _ = doc["security"].([]any)
			}
			want := http.StatusUnauthorized
			if len(security) == 0 {
				want = http.StatusOK
			}
			if w.Code != want {
				t.Errorf("%s %s without credentials = %d %s, want %d", method, path, w.Code, w.Body, want)
			}
		})
	}
}

func TestOpenAPIServed(t *testing.T) {
	w := httptest.NewRecorder()
	testService(t).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s, want 200", w.Code, w.Body)
	}
	if mt, _, err := mime.ParseMediaType(w.Header().Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", w.Header().Get("Content-Type"))
	}
	if got := w.Body.Bytes(); string(got) != string(openAPIDocument) {
		t.Errorf("GET /openapi.json served %d bytes, want the %d of openapi.json", len(got), len(openAPIDocument))
	}
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := openAPIDoc(t)
	enums := hookrunEnums(t)
	schemas := doc["components"].(jsonObject)["schemas"].(jsonObject)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		st, ok := schemaTypes[name]
		if !ok {
			if !slices.Contains(otherSchemas, name) {
				t.Errorf("schema %s: add its Go type to schemaTypes", name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			props, required, closed := schemaProperties(t, doc, schemas[name].(jsonObject))
			fields := goJSONFields(st.typ)
			for _, f := range slices.Sorted(maps.Keys(fields)) {
				p, ok := props[f]
				if !ok {
					t.Errorf("%s has no property %q of %v", name, f, st.typ)
					continue
				}
				if got, want := schemaType(t, doc, p), fields[f].jsonType; !slices.Contains(got, want) {
					t.Errorf("%s.%s has type %v, want %s as %v writes it", name, f, got, want, st.typ)
				}
			}
			for _, f := range slices.Sorted(maps.Keys(fields)) {
				if p, ok := props[f]; ok {
					checkEnum(t, doc, name+"."+f, fields[f].owner, p, fields[f].typ, enums)
				}
			}
			for _, p := range slices.Sorted(maps.Keys(props)) {
				if _, ok := fields[p]; !ok {
					t.Errorf("%s has property %q, which %v does not have", name, p, st.typ)
				}
			}
			if st.in && !closed {
				t.Errorf("%s: a request body, decoded strictly: set additionalProperties false", name)
			}
			if !st.out {
				return
			}
			var always []string
			for f, jf := range fields {
				if !jf.omittable {
					always = append(always, f)
				}
			}
			slices.Sort(always)
			slices.Sort(required)
			if !slices.Equal(required, always) {
				t.Errorf("%s requires %v, want the fields %v always writes: %v", name, required, st.typ, always)
			}
		})
	}
}

// The error statuses the document lists are those the API writes: each
// hookrun code as httpapi.WriteError names it in the body.
func TestOpenAPIErrorStatusesAreTheCodes(t *testing.T) {
	doc := openAPIDoc(t)
	errSchema := doc["components"].(jsonObject)["schemas"].(jsonObject)["Error"].(jsonObject)
	status := errSchema["properties"].(jsonObject)["error"].(jsonObject)["properties"].(jsonObject)["status"]
	var documented []string
	for _, v := range resolve(t, doc, status)["enum"].([]any) {
		documented = append(documented, v.(string))
	}
	var written []string
	for _, c := range hookrunEnums(t)["Code"] {
		w := httptest.NewRecorder()
		httpapi.WriteError(w, httptest.NewRequest(http.MethodGet, "/", nil), hookrun.Errorf(hookrun.Code(c), "x"))
		var body struct {
			Error struct {
				Status string `json:"status"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("error body of %s: %v", c, err)
		}
		if !slices.Contains(written, body.Error.Status) {
			written = append(written, body.Error.Status)
		}
	}
	slices.Sort(documented)
	slices.Sort(written)
	if !slices.Equal(documented, written) {
		t.Errorf("Error.error.status lists %v, want %v as the API writes them", documented, written)
	}
}

// untypedEnums are the Go fields ("Struct.json_name") that are plain
// strings taking one of a set of untyped constants: those constants.
var untypedEnums = map[string][]string{
	"Event.source":        {hookrun.SourceAPI, hookrun.SourcePubSub},
	"EventSummary.source": {hookrun.SourceAPI, hookrun.SourcePubSub},
	"batchResult.result":  {resultAccepted, resultDuplicate, resultRefused},
}

// enumSubsets are the properties of requests that take only some of their
// type's values, and why.
var enumSubsets = map[string]string{
	"TenantUpdate.status": "a tenant is deleted by DELETE, not by setting its status",
}

// hookrunEnums returns the string constants internal/hookrun declares with
// a type of its own, by type name (DeliveryState: pending, succeeded, …):
// the values a field of that type takes.
func hookrunEnums(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "hookrun", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files of internal/hookrun: %v", err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typ, ok := vs.Type.(*ast.Ident)
				if !ok {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						out[typ.Name] = append(out[typ.Name], s)
					}
				}
			}
		}
	}
	return out
}

// checkEnum compares the enum of property p (where names it, owner its Go
// field) with the
// values its Go field's type declares: a value the document lists that Go
// never writes or accepts, or one Go has that the document leaves out, is
// a drift.
func checkEnum(t *testing.T, doc jsonObject, where, owner string, p any, typ reflect.Type, enums map[string][]string) {
	t.Helper()
	var documented []string
	raw, hasEnum := resolve(t, doc, p)["enum"].([]any)
	for _, v := range raw {
		documented = append(documented, v.(string))
	}
	want, typed := untypedEnums[owner]
	if !typed && typ.PkgPath() == reflect.TypeFor[hookrun.Endpoint]().PkgPath() && typ.Kind() == reflect.String {
		want, typed = enums[typ.Name()]
	}
	switch {
	case !typed && hasEnum:
		t.Errorf("%s lists values %v, but its Go type %v declares none: add %s to untypedEnums", where, documented, typ, owner)
	case !typed:
	case !hasEnum:
		t.Errorf("%s has no enum; its Go type %v takes %v", where, typ, want)
	case enumSubsets[where] != "":
		for _, v := range documented {
			if !slices.Contains(want, v) {
				t.Errorf("%s lists %q, which %v does not declare (%v)", where, v, typ, want)
			}
		}
	default:
		slices.Sort(documented)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(documented, want) {
			t.Errorf("%s lists %v, want %v as %v declares them", where, documented, want, typ)
		}
	}
}

// schemaProperties merges the properties and required names of a schema
// and its allOf parts.
func schemaProperties(t *testing.T, doc, s jsonObject) (props jsonObject, required []string, closed bool) {
	t.Helper()
	props = jsonObject{}
	own, _ := s["properties"].(jsonObject)
	maps.Copy(props, own)
	req, _ := s["required"].([]any)
	for _, r := range req {
		required = append(required, r.(string))
	}
	closed = s["additionalProperties"] == false
	parts, _ := s["allOf"].([]any)
	for _, part := range parts {
		p, r, _ := schemaProperties(t, doc, resolve(t, doc, part))
		maps.Copy(props, p)
		required = append(required, r...)
	}
	return props, required, closed
}

// schemaType returns the JSON types a property schema allows.
func schemaType(t *testing.T, doc jsonObject, p any) []string {
	t.Helper()
	switch v := resolve(t, doc, p)["type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}

type goJSONField struct {
	jsonType  string
	omittable bool // omitempty or omitzero: absent from some answers
	// typ is the field's type, pointers and slices taken off: the type of
	// the value, or of each element.
	typ reflect.Type
	// owner is "Struct.field", the field as its Go struct declares it
	// (embedded structs' fields are their own).
	owner string
}

// goJSONFields returns the fields encoding/json writes for struct type t,
// embedded structs flattened.
func goJSONFields(t reflect.Type) map[string]goJSONField {
	out := map[string]goJSONField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			// The outer struct's own fields win over the embedded one's.
			for n, ef := range goJSONFields(f.Type) {
				if _, ok := out[n]; !ok {
					out[n] = ef
				}
			}
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		omitempty := slices.Contains(strings.Split(opts, ","), "omitempty")
		omitzero := slices.Contains(strings.Split(opts, ","), "omitzero")
		// omitempty leaves structs (time.Time included) in.
		omittable := omitzero || (omitempty && f.Type.Kind() != reflect.Struct)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		elem := ft
		for elem.Kind() == reflect.Slice || elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		out[name] = goJSONField{jsonType(ft), omittable, elem, t.Name() + "." + name}
	}
	return out
}

// jsonType is the JSON type encoding/json writes for t.
func jsonType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Time](), reflect.TypeFor[hookrun.Duration](), reflect.TypeFor[[]byte]():
		return "string"
	case reflect.TypeFor[json.RawMessage]():
		return "object" // event data, an object by validation
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}
