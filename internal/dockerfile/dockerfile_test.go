package dockerfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Dockerfile")
	src := `# syntax comment
FROM golang:1.26 AS build
ARG SERVICE
COPY go.mod go.sum ./
COPY ${SERVICE}/ ./svc/
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags='-s -w' -o /out/app ./$SERVICE
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER nonroot:nonroot
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stages, err := Parse(file, map[string]string{"SERVICE": "run/ingest"})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(stages) != 2 || stages[0].Name != "build" || stages[1].Image != "gcr.io/distroless/static-debian12:nonroot" {
		t.Fatalf("stages = %+v", stages)
	}
	copies := stages[0].All("COPY")
	if _, srcs, _, err := CopyArgs(copies[1].Args); err != nil || srcs[0] != "run/ingest/" {
		t.Errorf("COPY with a build argument = %v, %v; want run/ingest/", srcs, err)
	}
	if from, srcs, dst, err := CopyArgs(stages[1].All("COPY")[0].Args); err != nil || from != "build" || srcs[0] != "/out/app" || dst != "/app" {
		t.Errorf("COPY --from = %q %v %q %v", from, srcs, dst, err)
	}
	b, err := ParseGoBuild(stages[0].All("RUN")[0].Args)
	if err != nil {
		t.Fatalf("ParseGoBuild: %v", err)
	}
	if !slices.Equal(b.Env, []string{"CGO_ENABLED=0"}) || b.Out != "/out/app" || !slices.Equal(b.Pkgs, []string{"./run/ingest"}) || b.Flag("ldflags") != "-s -w" {
		t.Errorf("go build = %+v, ldflags %q", b, b.Flag("ldflags"))
	}

	if _, err := Parse(file, nil); err == nil || !strings.Contains(err.Error(), "$SERVICE") {
		t.Errorf("Parse without the build argument = %v, want an error naming $SERVICE", err)
	}
	for _, bad := range []string{"go build ./x && rm -rf /", "echo hi", "go build 'unterminated"} {
		if _, err := ParseGoBuild(bad); err == nil {
			t.Errorf("ParseGoBuild(%q) succeeded", bad)
		}
	}
}
