package deploy_test

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

const finalImage = "gcr.io/distroless/static-debian12:nonroot"

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

// parseDockerfile reads the subset of the Dockerfile syntax the receiver's
// uses: comments, continuation lines, and instructions.
func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
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
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--") })
			s := stage{image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.name = fields[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s before the first FROM", in.cmd)
		}
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

// flagValue returns the value of flag -name in go build arguments, written
// -name=value or -name value.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// goBuild is the go build of a RUN instruction.
type goBuild struct {
	env  []string // leading NAME=value assignments
	args []string // after "go build"
	out  string   // the -o path
	pkgs []string
}

func parseGoBuild(t *testing.T, run string) goBuild {
	t.Helper()
	words := shellWords(t, run)
	var b goBuild
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
		b.env, words = append(b.env, words[0]), words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("RUN %s: want [NAME=value…] go build …", run)
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
	}
	return b
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "functions", "receiver", "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a small final one", len(stages))
	}
	final := stages[len(stages)-1]

	// The build stage and its go build.
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

	t.Run("build stage Go matches go.mod", func(t *testing.T) {
		goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
		if m == nil {
			t.Fatal("no go directive in go.mod")
		}
		if want := "golang:" + string(m[1]); build.image != want && !strings.HasPrefix(build.image, want+"-") && !strings.HasPrefix(build.image, want+".") {
			t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", build.image, want, m[1])
		}
	})

	t.Run("copies what the build needs", func(t *testing.T) {
		var copied []string // repository paths, relative to the root
		for _, in := range build.all("COPY") {
			from, srcs, dst := copyArgs(t, in.args)
			if from != "" {
				continue
			}
			for _, src := range srcs {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("COPY %s: %v (the build context is the repository root)", in.args, err)
				}
				// The build runs in WORKDIR with paths as in the repository.
				clean := path.Clean(src)
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
		// Every package of this module the binary is built from.
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
	})

	t.Run("go build with the same flags", func(t *testing.T) {
		if !slices.Contains(gb.env, "CGO_ENABLED=0") {
			t.Errorf("go build env %v lacks CGO_ENABLED=0: distroless/static has no libc", gb.env)
		}
		if !slices.Contains(gb.args, "-trimpath") {
			t.Errorf("go build %v lacks -trimpath", gb.args)
		}
		if ld := flagValue(gb.args, "ldflags"); !slices.Contains(strings.Fields(ld), "-s") || !slices.Contains(strings.Fields(ld), "-w") {
			t.Errorf("go build %q lacks -ldflags '-s -w'", gb.args)
		}
		bin := filepath.Join(t.TempDir(), "receiver")
		args := []string{"build"}
		for i := 0; i < len(gb.args); i++ {
			switch a := gb.args[i]; {
			case a == "-o" || a == "--o":
				i++ // replaced below
			case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
			default:
				args = append(args, a)
			}
		}
		args = append(args[:1], append([]string{"-o", bin}, args[1:]...)...)
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
	})

	t.Run("final stage is small and non-root", func(t *testing.T) {
		if final.image != finalImage {
			t.Errorf("final FROM %s, want %s", final.image, finalImage)
		}
		users := final.all("USER")
		if len(users) == 0 {
			t.Fatal("final stage sets no USER; it would run as the image's default")
		}
		if u, _, _ := strings.Cut(users[len(users)-1].args, ":"); u == "root" || u == "0" {
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
	})
}
