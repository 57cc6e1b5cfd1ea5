// Package dockerfile reads the plain subset of Dockerfile syntax hookrun's
// Dockerfiles use (comments, continuation lines, FROM … AS, ARG, COPY, a
// RUN that is one `go build`), so the offline deploy checks can test what
// the images would be built from without a Docker engine.
package dockerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Instruction is one Dockerfile instruction, continuation lines joined.
type Instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY…
	Args string
}

// Stage is one FROM and what follows it.
type Stage struct {
	Image, Name  string
	Instructions []Instruction
}

// All returns the stage's instructions of one kind.
func (s Stage) All(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// Parse reads file and replaces $NAME and ${NAME} of the build arguments in
// instruction arguments with their values, as docker build --build-arg
// does. An ARG is scoped to its stage; one without a value and without a
// default stays unset, and a reference to it is an error.
func Parse(file string, args map[string]string) ([]Stage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		stages   []Stage
		declared = map[string]string{}
		pending  string
		expErr   error
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || (strings.HasPrefix(line, "#") && pending == "") {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			pending += s + " "
			continue
		}
		line, pending = pending+line, ""
		cmd, rest, _ := strings.Cut(line, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(rest)}
		switch in.Cmd {
		case "FROM":
			fields := slices.DeleteFunc(strings.Fields(in.Args), func(f string) bool { return strings.HasPrefix(f, "--") })
			if len(fields) == 0 {
				return nil, fmt.Errorf("%s: FROM without an image", file)
			}
			s := Stage{Image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.Name = fields[2]
			}
			stages = append(stages, s)
			declared = map[string]string{}
			continue
		case "ARG":
			name, def, _ := strings.Cut(in.Args, "=")
			if v, ok := args[name]; ok {
				def = v
			}
			declared[name] = def
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s: %s before the first FROM", file, in.Cmd)
		}
		in.Args = os.Expand(in.Args, func(name string) string {
			v, ok := declared[name]
			if (!ok || v == "") && expErr == nil {
				expErr = fmt.Errorf("%s: %s %s: $%s is not a build argument with a value", file, in.Cmd, in.Args, name)
			}
			return v
		})
		if expErr != nil {
			return nil, expErr
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	return stages, sc.Err()
}

// CopyArgs splits the arguments of a COPY into its --from stage (if any),
// sources and destination.
func CopyArgs(args string) (from string, srcs []string, dst string, err error) {
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
			return "", nil, "", fmt.Errorf("COPY %s: %w", args, err)
		}
	}
	if len(fields) < 2 {
		return "", nil, "", fmt.Errorf("COPY %s: want sources and a destination", args)
	}
	return from, fields[:len(fields)-1], fields[len(fields)-1], nil
}

// ShellWords splits a plain shell command into words, honouring single and
// double quotes. It refuses anything that would make it more than one
// plain command, since callers run it.
func ShellWords(s string) ([]string, error) {
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
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case strings.IndexByte(";&|<>$`\\", c) >= 0:
			return nil, fmt.Errorf("RUN %q is not one plain command (%q)", s, c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// GoBuild is the go build of a RUN instruction.
type GoBuild struct {
	Env  []string // leading NAME=value assignments
	Args []string // after "go build"
	Out  string   // the -o path
	Pkgs []string
}

var envAssignment = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// ParseGoBuild reads a RUN of the form [NAME=value…] go build ….
func ParseGoBuild(run string) (GoBuild, error) {
	words, err := ShellWords(run)
	if err != nil {
		return GoBuild{}, err
	}
	var b GoBuild
	for len(words) > 0 && envAssignment.MatchString(words[0]) {
		b.Env, words = append(b.Env, words[0]), words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		return GoBuild{}, fmt.Errorf("RUN %s: want [NAME=value…] go build …", run)
	}
	b.Args = words[2:]
	for i := 0; i < len(b.Args); i++ {
		a := b.Args[i]
		if !strings.HasPrefix(a, "-") {
			b.Pkgs = append(b.Pkgs, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && slices.Contains([]string{"o", "ldflags", "gcflags", "tags", "mod", "C"}, name) && i+1 < len(b.Args) {
			i++
			value = b.Args[i]
		}
		if name == "o" {
			b.Out = value
		}
	}
	return b, nil
}

// Flag returns the value of flag -name in go build arguments, written
// -name=value or -name value.
func (b GoBuild) Flag(name string) string {
	for i, a := range b.Args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(b.Args) {
			return b.Args[i+1]
		}
	}
	return ""
}
