package deploytest_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
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

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY…
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	image, name  string
	instructions []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instructions {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile reads comments, continuation lines and instructions, and
// replaces $NAME and ${NAME} of the build arguments in args with their
// values, as docker build --build-arg does. An ARG without a value and
// without a default stays unset: a reference to it is an error.
func parseDockerfile(t *testing.T, file string, args map[string]string) []stage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	declared := map[string]string{}
	var pending string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		cmd, rest, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		switch in.cmd {
		case "FROM":
			fields := slices.DeleteFunc(strings.Fields(in.args), func(f string) bool { return strings.HasPrefix(f, "--") })
			s := stage{image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.name = fields[2]
			}
			stages = append(stages, s)
			declared = map[string]string{} // an ARG is scoped to its stage
			continue
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			if v, ok := args[name]; ok {
				def = v
			}
			declared[name] = def
		}
		if len(stages) == 0 {
			t.Fatalf("%s before the first FROM", in.cmd)
		}
		in.args = os.Expand(in.args, func(name string) string {
			v, ok := declared[name]
			if !ok || v == "" {
				t.Fatalf("%s %s: $%s is not a build argument with a value", in.cmd, in.args, name)
			}
			return v
		})
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// copyArgs splits a COPY into its --from stage (if any), sources and
// destination.
func copyArgs(t *testing.T, args string) (from string, srcs []string, dst string) {
	t.Helper()
	fields := strings.Fields(args)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		if v, ok := strings.CutPrefix(fields[0], "--from="); ok {
			from = v
		}
		fields = fields[1:]
	}
	if rest := strings.Join(fields, " "); strings.HasPrefix(rest, "[") {
		fields = nil
		if err := json.Unmarshal([]byte(rest), &fields); err != nil {
			t.Fatalf("COPY %s: %v", args, err)
		}
	}
	if len(fields) < 2 {
		t.Fatalf("COPY %s: want sources and a destination", args)
	}
	return from, fields[:len(fields)-1], fields[len(fields)-1]
}

// shellWords splits a plain shell command: words, single and double
// quotes. It refuses anything that would make it more than one command.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				t.Fatalf("unterminated quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case strings.IndexByte(";&|<>$`\\", c) >= 0:
			t.Fatalf("RUN %q is not one plain command (%q); the test runs it, so keep it simple", s, c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// goBuild is the go build of a RUN instruction.
type goBuild struct {
	env  []string // leading NAME=value assignments
	args []string // after "go build"
	out  string   // the -o path
	pkgs []string
}

var envAssignment = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

func parseGoBuild(t *testing.T, runArgs string) goBuild {
	t.Helper()
	words := shellWords(t, runArgs)
	var b goBuild
	for len(words) > 0 && envAssignment.MatchString(words[0]) {
		b.env, words = append(b.env, words[0]), words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("RUN %s: want [NAME=value…] go build …", runArgs)
	}
	b.args = words[2:]
	for i := 0; i < len(b.args); i++ {
		a := b.args[i]
		if !strings.HasPrefix(a, "-") {
			b.pkgs = append(b.pkgs, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && slices.Contains([]string{"o", "ldflags", "gcflags", "tags", "mod", "C"}, name) && i+1 < len(b.args) {
			i++
			value = b.args[i]
		}
		if name == "o" {
			b.out = value
		}
		if name == "ldflags" {
			for _, f := range []string{"-s", "-w"} {
				if !slices.Contains(strings.Fields(value), f) {
					t.Errorf("go build -ldflags %q lacks %s", value, f)
				}
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
			var build stage
			var gb goBuild
			for _, s := range stages[:len(stages)-1] {
				for _, in := range s.all("RUN") {
					if strings.Contains(in.args, "go build") {
						build, gb = s, parseGoBuild(t, in.args)
					}
				}
			}
			if gb.out == "" || len(gb.pkgs) != 1 {
				t.Fatalf("no go build -o <binary> <package> in a build stage (found %+v)", gb)
			}
			if want := "./run/" + svc; path.Clean(gb.pkgs[0]) != path.Clean(want) {
				t.Errorf("go build %s, want %s", gb.pkgs[0], want)
			}
			if want := "golang:" + goVersion; build.image != want && !strings.HasPrefix(build.image, want+"-") && !strings.HasPrefix(build.image, want+".") {
				t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", build.image, want, goVersion)
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
func checkCopies(t *testing.T, root string, build stage, gb goBuild) {
	t.Helper()
	var copied []string
	for _, in := range build.all("COPY") {
		from, srcs, dst := copyArgs(t, in.args)
		if from != "" {
			continue
		}
		for _, src := range srcs {
			clean := path.Clean(src)
			if !exists(root, clean) {
				t.Errorf("COPY %s: %s does not exist (the build context is the repository root)", in.args, src)
			}
			if d := path.Clean(dst); d != clean && !(d == "." && !strings.Contains(clean, "/")) {
				t.Errorf("COPY %s: copy %s to %s/ or ./, where the build expects it", in.args, src, clean)
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
		"-f", "{{if and .Module .Module.Main}}{{.Dir}}{{end}}", gb.pkgs[0]))
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
func checkFinalStage(t *testing.T, final, build stage, gb goBuild) {
	t.Helper()
	if final.image != finalImage {
		t.Errorf("final FROM %s, want %s", final.image, finalImage)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Error("final stage sets no USER; it would run as the image's default")
	} else if u, _, _ := strings.Cut(users[len(users)-1].args, ":"); u == "root" || u == "0" {
		t.Errorf("final USER %s, want a non-root user", users[len(users)-1].args)
	}
	if !slices.ContainsFunc(final.all("EXPOSE"), func(in instruction) bool { return slices.Contains(strings.Fields(in.args), "8080") }) {
		t.Error("final stage does not EXPOSE 8080, Cloud Run's default PORT")
	}
	var binary string
	for _, in := range final.all("COPY") {
		from, srcs, dst := copyArgs(t, in.args)
		if from != "" && from == build.name && slices.Contains(srcs, gb.out) {
			binary = dst
		}
	}
	if binary == "" {
		t.Fatalf("final stage does not COPY --from=%s %s", build.name, gb.out)
	}
	entry := final.all("ENTRYPOINT")
	var argv []string
	if len(entry) == 0 || json.Unmarshal([]byte(entry[len(entry)-1].args), &argv) != nil || len(argv) == 0 || argv[0] != binary {
		t.Errorf("ENTRYPOINT %v, want the exec form [%q] (distroless has no shell)", entry, binary)
	}
}

// buildStatic runs the Dockerfile's go build, with its environment and
// flags, for Cloud Run's linux/amd64, into a temporary directory, and
// checks that the binary is statically linked.
func buildStatic(t *testing.T, root string, gb goBuild) {
	t.Helper()
	if !slices.Contains(gb.env, "CGO_ENABLED=0") {
		t.Errorf("go build env %v lacks CGO_ENABLED=0: distroless/static has no libc", gb.env)
	}
	if !slices.Contains(gb.args, "-trimpath") {
		t.Errorf("go build %v lacks -trimpath", gb.args)
	}
	bin := filepath.Join(t.TempDir(), "server")
	args := []string{"build", "-o", bin}
	for i := 0; i < len(gb.args); i++ {
		switch a := gb.args[i]; {
		case a == "-o" || a == "--o":
			i++ // replaced above
		case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
		default:
			args = append(args, a)
		}
	}
	run(t, root, append(gb.env, "GOOS=linux", "GOARCH=amd64"), "go", args...)

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
