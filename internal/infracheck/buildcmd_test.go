package infracheck

// How cloudbuild.yaml's steps are read: as commands of words, from which
// docker builds, gcloud run deploys and repository paths are picked.

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/dockerfile"
)

// commands returns the step's command lines as words: its entrypoint (or
// the builder's) with its args, or the commands of the shell script it
// runs (bash -c / sh -c, or script).
func (s buildStep) commands() [][]string {
	if s.Script != "" {
		return shellCommands(s.Script)
	}
	entry := s.Entrypoint
	if entry == "" {
		image, _, _ := strings.Cut(path.Base(s.Name), ":")
		if image == "docker" || image == "gcloud" || image == "git" || image == "go" {
			entry = image // the cloud-builders images' entrypoints
		}
	}
	if entry == "bash" || entry == "sh" || strings.HasSuffix(entry, "/bash") || strings.HasSuffix(entry, "/sh") {
		if i := slices.Index(s.Args, "-c"); i >= 0 && i+1 < len(s.Args) {
			return shellCommands(s.Args[i+1])
		}
	}
	if entry != "" {
		return [][]string{append([]string{entry}, s.Args...)}
	}
	return [][]string{s.Args}
}

// shellCommands splits a shell script into commands of words, near enough
// to find commands and paths: quotes are removed, a backslash-newline
// joins lines, and newlines, ;, &&, || and | end a command. Words with
// expansions keep their $ and are left alone by the checks.
func shellCommands(script string) [][]string {
	var cmds [][]string
	var cmd []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			cmd = append(cmd, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cmd) > 0 {
			cmds = append(cmds, cmd)
			cmd = nil
		}
	}
	r := []rune(script)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r) && r[i+1] == '\n':
			i++
		case c == '\\' && i+1 < len(r):
			word.WriteRune(r[i+1])
			inWord = true
			i++
		case c == '\'':
			inWord = true
			for i++; i < len(r) && r[i] != '\''; i++ {
				word.WriteRune(r[i])
			}
		case c == '"':
			inWord = true
			for i++; i < len(r) && r[i] != '"'; i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
				}
				word.WriteRune(r[i])
			}
		case c == '#' && !inWord:
			for i < len(r) && r[i] != '\n' {
				i++
			}
			endCmd()
		case c == '\n' || c == ';' || c == '|' || c == '&':
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// substitute replaces the user substitutions ${_X} and $_X in s with their
// defaults from subs. ok is false when a $ is left.
func substitute(s string, subs map[string]string) (string, bool) {
	out := substitution.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := subs[name]; ok {
			return v
		}
		return m
	})
	return out, !strings.Contains(out, "$")
}

var substitution = regexp.MustCompile(`\$\{_[A-Z0-9_]+\}|\$_[A-Z0-9_]+`)

// pathWord matches a word that looks like a path in the repository: a
// relative path with a directory.
var pathWord = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]*)+$`)

// dockerValueFlags are the docker build flags that take a value.
var dockerValueFlags = map[string]bool{
	"-f": true, "--file": true, "-t": true, "--tag": true, "--build-arg": true, "--target": true,
	"--platform": true, "--cache-from": true, "--cache-to": true, "--label": true, "--network": true,
	"--secret": true, "--ssh": true, "--progress": true, "--iidfile": true, "-o": true, "--output": true,
	"--build-context": true, "--add-host": true, "--shm-size": true, "--ulimit": true, "-m": true, "--memory": true,
}

// dockerBuild is one docker build command of a step.
type dockerBuild struct {
	dockerfile, context string
	args                map[string]string
}

// parseDockerBuild reads the docker build in words, if there is one.
func parseDockerBuild(words []string) (dockerBuild, bool) {
	i := slices.Index(words, "docker")
	if i < 0 {
		return dockerBuild{}, false
	}
	rest := words[i+1:]
	if len(rest) > 0 && rest[0] == "buildx" {
		rest = rest[1:]
	}
	if len(rest) == 0 || rest[0] != "build" {
		return dockerBuild{}, false
	}
	b := dockerBuild{args: map[string]string{}}
	var positional []string
	for j := 1; j < len(rest); j++ {
		w := rest[j]
		flag, value, hasValue := strings.Cut(w, "=")
		if !strings.HasPrefix(w, "-") {
			positional = append(positional, w)
			continue
		}
		if !hasValue && dockerValueFlags[flag] && j+1 < len(rest) {
			j++
			value, hasValue = rest[j], true
		}
		if !hasValue {
			continue
		}
		switch flag {
		case "-f", "--file":
			b.dockerfile = value
		case "--build-arg":
			k, v, _ := strings.Cut(value, "=")
			b.args[k] = v
		}
	}
	if len(positional) > 0 {
		b.context = positional[len(positional)-1]
	}
	return b, true
}

// deployedService returns the Cloud Run service a gcloud command names:
// gcloud [beta] run deploy NAME, or run services update|describe|
// update-traffic NAME.
func deployedService(words []string) (string, bool) {
	if !slices.Contains(words, "gcloud") {
		return "", false
	}
	for i := range words {
		var next []string
		switch {
		case i+2 < len(words) && words[i] == "run" && words[i+1] == "deploy":
			next = words[i+2:]
		case i+3 < len(words) && words[i] == "run" && words[i+1] == "services" &&
			slices.Contains([]string{"update", "describe", "update-traffic"}, words[i+2]):
			next = words[i+3:]
		default:
			continue
		}
		if strings.HasPrefix(next[0], "-") {
			return "", true // the name is not first: reported
		}
		return next[0], true
	}
	return "", false
}

// dockerfileSources returns the sources of the COPY and ADD instructions
// of a Dockerfile (not those copying from another stage), with the build
// arguments substituted.
func dockerfileSources(file string, args map[string]string) ([]string, error) {
	stages, err := dockerfile.Parse(file, args)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range stages {
		for _, in := range st.Instructions {
			if in.Cmd != "COPY" && in.Cmd != "ADD" {
				continue
			}
			from, srcs, _, err := dockerfile.CopyArgs(in.Args)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if from == "" {
				out = append(out, srcs...)
			}
		}
	}
	return out, nil
}

func TestShellCommands(t *testing.T) {
	got := shellCommands("set -eu # strict\nif [ -n \"$$x\" ]; then docker build \\\n  -f 'run/Docker file' .; fi && echo a|wc -l\n")
	want := [][]string{
		{"set", "-eu"},
		{"if", "[", "-n", "$$x", "]"},
		{"then", "docker", "build", "-f", "run/Docker file", "."},
		{"fi"}, {"echo", "a"}, {"wc", "-l"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shellCommands = %q, want %q", got, want)
	}
}

func TestParseDockerBuild(t *testing.T) {
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"docker", "build", "-f", "run/Dockerfile", "--build-arg", "SERVICE=ingest", "-t", "x:1", "."}, "{run/Dockerfile . map[SERVICE:ingest]}"},
		{[]string{"docker", "buildx", "build", "--file=d/Dockerfile", "--build-arg=A=b=c", "--push", "ctx"}, "{d/Dockerfile ctx map[A:b=c]}"},
		{[]string{"docker", "push", "x"}, "not a build"},
	}
	for _, tt := range tests {
		b, ok := parseDockerBuild(tt.words)
		got := fmt.Sprint(b)
		if !ok {
			got = "not a build"
		}
		if got != tt.want {
			t.Errorf("parseDockerBuild(%q) = %s, want %s", tt.words, got, tt.want)
		}
	}
}

func TestDeployedService(t *testing.T) {
	tests := []struct {
		words  []string
		want   string
		wantOK bool
	}{
		{[]string{"gcloud", "run", "deploy", "hookrun-ingest", "--image=x"}, "hookrun-ingest", true},
		{[]string{"gcloud", "beta", "run", "services", "update", "svc"}, "svc", true},
		{[]string{"gcloud", "run", "deploy", "--region=r", "svc"}, "", true},
		{[]string{"gcloud", "run", "services", "list"}, "", false},
		{[]string{"echo", "run", "deploy", "x"}, "", false},
	}
	for _, tt := range tests {
		got, ok := deployedService(tt.words)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("deployedService(%q) = %q, %v; want %q, %v", tt.words, got, ok, tt.want, tt.wantOK)
		}
	}
}
