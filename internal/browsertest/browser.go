// Package browsertest drives hookrun's web pages in a real headless
// Chromium (Debian's chromium package; scripts/test installs it when it
// is missing) with chromedp. Its tests run ingest in-process on the memory
// store behind httptest, so they need no emulator.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the executables tried, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Chromium returns the path of the browser ($HOOKRUN_CHROMIUM, else the
// first of chromiumNames on PATH). Without one the test is skipped, but
// with CI=true it fails: CI must never pass by skipping the browser.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HOOKRUN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const hint = "no Chromium found: install it (apt-get install -y chromium; scripts/test does) or set HOOKRUN_CHROMIUM"
	switch os.Getenv("CI") {
	case "true", "TRUE", "True", "1":
		t.Fatal("CI: " + hint)
	}
	t.Skip(hint)
	return ""
}

// Browser starts a headless Chromium for t, closed when t ends, and
// returns a context that drives one tab of it. Every action on it ends
// within timeout.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		// Root (CI containers) cannot use Chromium's sandbox.
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	// The first run starts the browser and binds its life to its context,
	// so it gets no timeout; the actions after it do.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(func() { cancel(); cancelTab(); cancelAlloc() })
	return ctx
}

// ArtefactDir is where tests keep screenshots: $HOOKRUN_ARTEFACTS/<test>
// when set (CI uploads it), else a directory removed after the test.
func ArtefactDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("HOOKRUN_ARTEFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, filepath.Base(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the whole page as dir/name.png.
func Screenshot(ctx context.Context, t testing.TB, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
