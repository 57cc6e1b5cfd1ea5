package deploytest_test

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
)

const (
	finalImage = "gcr.io/distroless/static-debian12:nonroot"
	// runDockerfile builds ingest and the dispatcher; the receiver keeps
	// functions/receiver/Dockerfile, which functions/receiver/deploy tests.
	runDockerfile = "run/Dockerfile"
	serviceArg    = "SERVICE"
)

// runServices are the services run/Dockerfile builds: the directories
// under run/ that hold a main package.
func runServices(t *testing.T, root string) []string {
	t.Helper()
	out := run(t, root, nil, "go", "list", "-f", "{{if eq .Name \"main\"}}{{.Dir}}{{end}}", "./run/...")
	var names []string
	for _, dir := range strings.Fields(out) {
		names = append(names, filepath.Base(dir))
	}
	if len(names) == 0 {
		t.Fatal("no main packages under run/")
	}
	return names
}

// parseDockerfile reads file with the build arguments args.
func parseDockerfile(t *testing.T, file string, args map[string]string) []dockerfile.Stage {
	t.Helper()
	stages, err := dockerfile.Parse(file, args)
	if err != nil {
		t.Fatal(err)
	}
	return stages
}

// copyArgs splits a COPY into its --from stage (if any), sources and
// destination.
func copyArgs(t *testing.T, args string) (from string, srcs []string, dst string) {
	t.Helper()
	from, srcs, dst, err := dockerfile.CopyArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return from, srcs, dst
}

// parseGoBuild reads the go build of a RUN instruction; its -ldflags must
// strip the binary (-s -w).
func parseGoBuild(t *testing.T, run string) dockerfile.GoBuild {
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

// TestRunDockerfile checks run/Dockerfile for each service under run/, as
// docker build --build-arg SERVICE=<service> would read it, and runs its go
// build: once per service, the slow part.
func TestRunDockerfile(t *testing.T) {
	root := repoRoot(t)
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	goVersion := string(m[1])

	for _, svc := range runServices(t, root) {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			stages := parseDockerfile(t, filepath.Join(root, runDockerfile), map[string]string{serviceArg: svc})
			if len(stages) < 2 {
				t.Fatalf("%d stages, want a build stage and a small final one", len(stages))
			}
			var build dockerfile.Stage
			var gb dockerfile.GoBuild
			for _, s := range stages[:len(stages)-1] {
				for _, in := range s.All("RUN") {
					if strings.Contains(in.Args, "go build") {
						build, gb = s, parseGoBuild(t, in.Args)
					}
				}
			}
			if gb.Out == "" || len(gb.Pkgs) != 1 {
				t.Fatalf("no go build -o <binary> <package> in a build stage (found %+v)", gb)
			}
			if want := "./run/" + svc; path.Clean(gb.Pkgs[0]) != path.Clean(want) {
				t.Errorf("go build %s, want %s", gb.Pkgs[0], want)
			}
			if want := "golang:" + goVersion; build.Image != want && !strings.HasPrefix(build.Image, want+"-") && !strings.HasPrefix(build.Image, want+".") {
				t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", build.Image, want, goVersion)
			}
			checkCopies(t, root, build, gb)
			checkFinalStage(t, stages[len(stages)-1], build, gb)
			buildStatic(t, root, gb)
		})
	}
}

// checkCopies checks that every source the build stage copies exists in
// the build context (the repository root), lands where the build expects
// it, and that together they hold every package of this module the binary
// is built from, and go.mod and go.sum.
func checkCopies(t *testing.T, root string, build dockerfile.Stage, gb dockerfile.GoBuild) {
	t.Helper()
	var copied []string
	for _, in := range build.All("COPY") {
		from, srcs, dst := copyArgs(t, in.Args)
		if from != "" {
			continue
		}
		for _, src := range srcs {
			clean := path.Clean(src)
			if !exists(root, clean) {
				t.Errorf("COPY %s: %s does not exist (the build context is the repository root)", in.Args, src)
			}
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
	dirs := strings.Fields(run(t, root, []string{"GOOS=linux", "GOARCH=amd64"}, "go", "list", "-deps",
		"-f", "{{if and .Module .Module.Main}}{{.Dir}}{{end}}", gb.Pkgs[0]))
	for _, dir := range dirs {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if !slices.ContainsFunc(copied, func(c string) bool { return rel == c || strings.HasPrefix(rel, c+"/") }) {
			t.Errorf("the build needs %s, which no COPY brings in", rel)
		}
	}
}

// checkFinalStage checks that the final stage is distroless, runs the
// built binary as a non-root user in exec form, and exposes Cloud Run's
// port.
func checkFinalStage(t *testing.T, final, build dockerfile.Stage, gb dockerfile.GoBuild) {
	t.Helper()
	if final.Image != finalImage {
		t.Errorf("final FROM %s, want %s", final.Image, finalImage)
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
		from, srcs, dst := copyArgs(t, in.Args)
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

// buildStatic runs the Dockerfile's go build, with its environment and
// flags, for Cloud Run's linux/amd64, into a temporary directory, and
// checks that the binary is statically linked.
func buildStatic(t *testing.T, root string, gb dockerfile.GoBuild) {
	t.Helper()
	if !slices.Contains(gb.Env, "CGO_ENABLED=0") {
		t.Errorf("go build env %v lacks CGO_ENABLED=0: distroless/static has no libc", gb.Env)
	}
	if !slices.Contains(gb.Args, "-trimpath") {
		t.Errorf("go build %v lacks -trimpath", gb.Args)
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
	run(t, root, append(gb.Env, "GOOS=linux", "GOARCH=amd64"), "go", args...)

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

// TestRunDockerfileNeedsService: without --build-arg SERVICE the file must
// not quietly build some default service.
func TestRunDockerfileNeedsService(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, runDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.EqualFold(f[0], "ARG") && strings.HasPrefix(f[1], serviceArg+"=") {
			t.Errorf("%s: %q gives SERVICE a default; an image built without --build-arg would be that service", runDockerfile, line)
		}
	}
}
