package ingest

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of this API.
// openapi_test.go keeps it and the router in step: a route it lacks, a
// path no route serves, or a schema that differs from the JSON of its Go
// type fails the tests.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Service) openAPIRoutes() []route {
	return []route{
		{"GET /openapi.json", s.serveOpenAPI},
	}
}

// serveOpenAPI handles GET /openapi.json. It needs no credentials: the
// document describes the API, not anyone's data, and clients generated
// from it fetch it before they have a key.
func (s *Service) serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPIDocument) // an error here means the client went away
	return nil
}
