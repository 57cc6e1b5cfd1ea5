// Command apigen generates package api, the core of the Go client, from
// ingest's OpenAPI document with oapi-codegen (the version go.mod pins).
//
//	go run ./run/ingest/client/internal/apigen -spec internal/ingest/openapi.json -out run/ingest/client/internal/api/api.gen.go
//
// Package api's go:generate line runs it; its test fails when the
// committed code is not what the document generates now.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	spec := flag.String("spec", "", "the OpenAPI document")
	out := flag.String("out", "", "the Go file to write")
	flag.Parse()
	if *spec == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: apigen -spec openapi.json -out api.gen.go")
		os.Exit(2)
	}
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

func run(specPath, outPath string) error {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	code, err := generate(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, code, 0o644)
}
