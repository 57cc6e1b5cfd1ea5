// Package api is the generated core of the Go client: the models and
// request builders oapi-codegen makes of ingest's OpenAPI document
// (internal/ingest/openapi.json). Do not edit api.gen.go: change the
// document and run go generate; the apigen test fails while the two
// differ.
package api

//go:generate go run ../apigen -spec ../../../../../internal/ingest/openapi.json -out api.gen.go
