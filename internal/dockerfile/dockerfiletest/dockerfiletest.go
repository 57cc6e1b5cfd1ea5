// Package dockerfiletest holds the test helpers that the offline Dockerfile
// checks of run/ and functions/receiver share: internal/dockerfile's
// readers that fail the test instead of returning an error, and the rules
// every hookrun image follows.
package dockerfiletest

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/dockerfile"
	"github.com/hookrun/hookrun/internal/testenv"
)

// FinalImage is the base of every hookrun image's last stage: static,
// distroless, non-root.
const FinalImage = "gcr.io/distroless/static-debian12:nonroot"

// Parse reads file with the build arguments args.
func Parse(t testing.TB, file string, args map[string]string) []dockerfile.Stage {
	t.Helper()
	stages, err := dockerfile.Parse(file, args)
	if err != nil {
		t.Fatal(err)
	}
	return stages
}

// CopyArgs splits a COPY into its --from stage (if any), sources and
// destination.
func CopyArgs(t testing.TB, args string) (from string, srcs []string, dst string) {
	t.Helper()
	from, srcs, dst, err := dockerfile.CopyArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return from, srcs, dst
}

// ParseGoBuild reads the go build of a RUN instruction; its -ldflags must
// strip the binary (-s -w).
func ParseGoBuild(t testing.TB, run string) dockerfile.GoBuild {
	t.Helper()
	b, err := dockerfile.ParseGoBuild(run)
	if err != nil {
		t.Fatal(err)
	}
	if ld := b.Flag("ldflags"); ld != "" {
		for _, f := range []string{"-s", "-w"} {
			if !slices.Contains(strings.Fields(ld), f) {
				t.Errorf("go build -ldflags %q lacks %s", ld, f)
			}
		}
	}
	return b
}

// BuildStage finds the build stage among stages (all but the last) and its
// go build -o <binary> <package>; it stops the test when there is none.
func BuildStage(t testing.TB, stages []dockerfile.Stage) (dockerfile.Stage, dockerfile.GoBuild) {
	t.Helper()
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a small final one", len(stages))
	}
	var build dockerfile.Stage
	var gb dockerfile.GoBuild
	for _, s := range stages[:len(stages)-1] {
		for _, in := range s.All("RUN") {
			if strings.Contains(in.Args, "go build") {
				build, gb = s, ParseGoBuild(t, in.Args)
			}
		}
	}
	if gb.Out == "" || len(gb.Pkgs) != 1 {
		t.Fatalf("no go build -o <binary> <package> in a build stage (found %+v)", gb)
	}
	return build, gb
}

// GoVersion returns the go directive of root's go.mod ("1.26").
func GoVersion(t testing.TB, root string) string {
	t.Helper()
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	return string(m[1])
}

// CheckGoImage checks that the build stage's image is the Go that go.mod
// names.
func CheckGoImage(t testing.TB, build dockerfile.Stage, goVersion string) {
	t.Helper()
	if want := "golang:" + goVersion; build.Image != want && !strings.HasPrefix(build.Image, want+"-") && !strings.HasPrefix(build.Image, want+".") {
		t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", build.Image, want, goVersion)
	}
}

// CheckCopies checks that every source the build stage copies exists in
// the build context (root: the repository's, or the receiver's folder),
// lands where the build expects it, and that together they hold every package of this module the binary
// is built from, and go.mod and go.sum.
func CheckCopies(t testing.TB, root string, build dockerfile.Stage, gb dockerfile.GoBuild) {
	t.Helper()
	var copied []string // repository paths, relative to the root
	for _, in := range build.All("COPY") {
		from, srcs, dst := CopyArgs(t, in.Args)
		if from != "" {
			continue
		}
		for _, src := range srcs {
			clean := path.Clean(src)
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(clean))); err != nil {
				t.Errorf("COPY %s: %s does not exist in the build context %s", in.Args, src, root)
			}
			// The build runs in WORKDIR with paths as in the repository.
			if d := path.Clean(dst); d != clean && !(d == "." && !strings.Contains(clean, "/")) {
				t.Errorf("COPY %s: copy %s to %s/ or ./, where the build expects it", in.Args, src, clean)
			}
			copied = append(copied, clean)
		}
	}
	for _, need := range []string{"go.mod", "go.sum"} {
		if !slices.Contains(copied, need) {
			t.Errorf("build stage does not COPY %s", need)
		}
	}
	dirs := strings.Fields(testenv.Run(t, root, []string{"GOOS=linux", "GOARCH=amd64"}, "go", "list", "-deps",
		"-f", "{{if and .Module .Module.Main}}{{.Dir}}{{end}}", gb.Pkgs[0]))
	for _, dir := range dirs {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if !slices.ContainsFunc(copied, func(c string) bool { return c == "." || rel == c || strings.HasPrefix(rel, c+"/") }) {
			t.Errorf("the build needs %s, which no COPY brings in", rel)
		}
	}
}

// CheckFinalStage checks that the final stage is distroless, runs the
// built binary as a non-root user in exec form, and exposes Cloud Run's
// port.
func CheckFinalStage(t testing.TB, final, build dockerfile.Stage, gb dockerfile.GoBuild) {
	t.Helper()
	if final.Image != FinalImage {
		t.Errorf("final FROM %s, want %s", final.Image, FinalImage)
	}
	users := final.All("USER")
	if len(users) == 0 {
		t.Error("final stage sets no USER; it would run as the image's default")
	} else if u, _, _ := strings.Cut(users[len(users)-1].Args, ":"); u == "root" || u == "0" {
		t.Errorf("final USER %s, want a non-root user", users[len(users)-1].Args)
	}
	if !slices.ContainsFunc(final.All("EXPOSE"), func(in dockerfile.Instruction) bool { return slices.Contains(strings.Fields(in.Args), "8080") }) {
		t.Error("final stage does not EXPOSE 8080, Cloud Run's default PORT")
	}
	var binary string
	for _, in := range final.All("COPY") {
		from, srcs, dst := CopyArgs(t, in.Args)
		if from != "" && from == build.Name && slices.Contains(srcs, gb.Out) {
			binary = dst
		}
	}
	if binary == "" {
		t.Fatalf("final stage does not COPY --from=%s %s", build.Name, gb.Out)
	}
	entry := final.All("ENTRYPOINT")
	var argv []string
	if len(entry) == 0 || json.Unmarshal([]byte(entry[len(entry)-1].Args), &argv) != nil || len(argv) == 0 || argv[0] != binary {
		t.Errorf("ENTRYPOINT %v, want the exec form [%q] (distroless has no shell)", entry, binary)
	}
}

// BuildStatic runs the Dockerfile's go build, with its environment and
// flags, for Cloud Run's linux/amd64, into a temporary directory, and
// checks that the binary is statically linked.
func BuildStatic(t testing.TB, root string, gb dockerfile.GoBuild) {
	t.Helper()
	if !slices.Contains(gb.Env, "CGO_ENABLED=0") {
		t.Errorf("go build env %v lacks CGO_ENABLED=0: distroless/static has no libc", gb.Env)
	}
	if !slices.Contains(gb.Args, "-trimpath") {
		t.Errorf("go build %v lacks -trimpath", gb.Args)
	}
	if ld := gb.Flag("ldflags"); !slices.Contains(strings.Fields(ld), "-s") || !slices.Contains(strings.Fields(ld), "-w") {
		t.Errorf("go build %q lacks -ldflags '-s -w'", gb.Args)
	}
	bin := filepath.Join(t.TempDir(), "server")
	args := []string{"build", "-o", bin}
	for i := 0; i < len(gb.Args); i++ {
		switch a := gb.Args[i]; {
		case a == "-o" || a == "--o":
			i++ // replaced above
		case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
		default:
			args = append(args, a)
		}
	}
	testenv.Run(t, root, append(gb.Env, "GOOS=linux", "GOARCH=amd64"), "go", args...)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary is dynamically linked; it cannot run on distroless/static")
		}
	}
}
