package receivertest_test

import (
	"context"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
)

const functionsPackage = "github.com/GoogleCloudPlatform/functions-framework-go/functions"

func TestDeployScriptIsValidBash(t *testing.T) {
	root := testenv.RepoRoot(t)
	path := filepath.Join(root, "scripts", "deploy-receiver")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable", path)
	}
	testenv.Run(t, root, nil, "bash", "-n", path)
}

// TestFolderBuildsAsFunction copies the receiver's folder out of the
// repository, as a tenant would, and does to it what the Go functions
// buildpack does on `gcloud functions deploy --gen2 --runtime=go126
// --entry-point=Receive --source=functions/receiver`: read the root
// package, generate a main that imports the module root, go mod tidy, go
// build. Then it runs that main and sends it a webhook the dispatcher
// signed. Without the repository's go.work (testenv.Run sets GOWORK=off),
// the folder must need nothing of hookrun.
func TestFolderBuildsAsFunction(t *testing.T) {
	src := filepath.Join(t.TempDir(), "receiver")
	if err := os.CopyFS(src, os.DirFS(receiverDir(t))); err != nil {
		t.Fatal(err)
	}
	env := []string{"GOFLAGS=-mod=mod"}
	module := modulePath(t, src)

	t.Run("layout", func(t *testing.T) { checkLayout(t, src, module) })
	t.Run("builds and vets", func(t *testing.T) {
		testenv.Run(t, src, env, "go", "mod", "tidy", "-diff") // go.mod and go.sum are complete and minimal
		testenv.Run(t, src, append(env, "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"), "go", "build", "./...")
		testenv.Run(t, src, env, "go", "vet", "./...")
	})
	t.Run("buildpack main serves Receive", func(t *testing.T) {
		bin := buildAsBuildpack(t, src, module)
		base := startFunction(t, bin)
		checkServesWebhooks(t, base)
	})
}

// hookrunModule is the module path of hookrun itself, which the receiver
// must not need.
const hookrunModule = "github.com/hookrun/hookrun"

// checkLayout checks what the buildpack requires of the source root, and
// that nothing the receiver builds from is hookrun's.
func checkLayout(t *testing.T, src, module string) {
	if first, _, _ := strings.Cut(module, "/"); !strings.Contains(first, ".") {
		t.Errorf("module path %q: the buildpack needs a dot in its first element", module)
	}
	if fi, err := os.Stat(filepath.Join(src, "go.sum")); err != nil || fi.Size() == 0 {
		t.Errorf("go.sum missing or empty (%v): the buildpack's go list fails without it", err)
	}

	// The buildpack picks its declarative main, which serves the function
	// registered in init() under the --entry-point name, only when the root
	// package imports the functions package.
	name, imports := rootPackage(t, src)
	if !slices.Contains(imports, functionsPackage) {
		t.Errorf("root package imports %v, want %s among them", imports, functionsPackage)
	}
	if fi, err := os.Stat(filepath.Join(src, name)); err == nil && fi.IsDir() {
		t.Errorf("root package %q has a directory of its name at the root: the buildpack would import that instead", name)
	}

	// Every module the receiver and its tests build from.
	mods := strings.Fields(testenv.Run(t, src, []string{"GOFLAGS=-mod=mod"}, "go", "list", "-deps", "-test",
		"-f", "{{with .Module}}{{.Path}}{{end}}", "./..."))
	for _, m := range mods {
		if m == hookrunModule {
			t.Errorf("the receiver builds from %s: a tenant's copy would not build", m)
		}
	}
}

// rootPackage returns the name and imports of the package at src's root,
// read from its files as the buildpack reads them.
func rootPackage(t *testing.T, src string) (string, []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files at the root of %s (%v)", src, err)
	}
	var name string
	var imports []string
	for _, file := range files {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if name != "" && f.Name.Name != name {
			t.Fatalf("root files declare packages %s and %s", name, f.Name.Name)
		}
		name = f.Name.Name
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			imports = append(imports, path)
		}
	}
	return name, imports
}

// buildpackMain is the main the buildpack generates (its declarative
// template) in functions.local/app, except that it listens on loopback
// only, as a test should, where Cloud Run listens on all interfaces.
const buildpackMain = `package main

import (
	"log"
	"net/http"
	"os"

	_ "MODULE"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
		log.Fatalf("Function failed to start: %v\n", err)
	}
}
`

// buildAsBuildpack adds the buildpack's main to src and builds it as the
// buildpack does, returning the binary.
func buildAsBuildpack(t *testing.T, src, module string) string {
	t.Helper()
	app := filepath.Join(src, "functions.local", "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	main := strings.Replace(buildpackMain, "MODULE", module, 1)
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, src, []string{"GOFLAGS=-mod=mod"}, "go", "mod", "tidy")
	bin := filepath.Join(t.TempDir(), "function")
	testenv.Run(t, src, []string{"GOFLAGS=-mod=mod", "CGO_ENABLED=0"}, "go", "build", "-o", bin, "./functions.local/app")
	return bin
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const functionSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// startFunction runs bin as Cloud Run would run the function, and returns
// its base URL once it accepts connections.
func startFunction(t *testing.T, bin string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "FUNCTION_TARGET=Receive", "PORT="+port, "WEBHOOK_SECRET="+functionSecret)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", port)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return "http://" + addr
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("function exited before serving: %v", err)
		case <-ctx.Done():
			t.Fatalf("function did not listen on %s within 10s", addr)
		case <-time.After(20 * time.Millisecond): // a process start has no event to wait on
		}
	}
}

// checkServesWebhooks sends the function a webhook signed by hookrun's
// dispatcher and the same webhook unsigned.
func checkServesWebhooks(t *testing.T, base string) {
	t.Helper()
	body := testBody
	signed := signedHeaders(t, functionSecret, "msg_1", body)

	for _, tt := range []struct {
		name    string
		headers http.Header
		ok      bool
	}{
		{"signed by hookrun", signed, true},
		{"unsigned", http.Header{}, false},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = tt.headers.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s webhook: %v", tt.name, err)
		}
		resp.Body.Close()
		switch {
		case tt.ok && (resp.StatusCode < 200 || resp.StatusCode > 299):
			t.Errorf("POST %s webhook: status %d, want 2xx", tt.name, resp.StatusCode)
		case !tt.ok && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("POST %s webhook: status %d, want 401", tt.name, resp.StatusCode)
		}
	}
}
