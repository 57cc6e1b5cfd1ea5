package receivertest_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	smemu "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// testBody is a hookrun event as the dispatcher delivers it.
const testBody = `{"id":"evt_1","type":"user.created","timestamp":"2026-11-23T10:00:00Z","data":{"name":"Ada"}}`

// receiverDir is the sample receiver's folder, its own module's root.
func receiverDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(t), "functions", "receiver")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("the receiver is no module of its own: %v", err)
	}
	return dir
}

// modulePath returns the module path of the go.mod in dir.
func modulePath(t *testing.T, dir string) string {
	t.Helper()
	return strings.TrimSpace(testenv.Run(t, dir, nil, "go", "list", "-m"))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// signedHeaders are the headers of a webhook with id and body signed now
// with secret by the dispatcher's signer.
func signedHeaders(t *testing.T, secret, id, body string) http.Header {
	t.Helper()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(now, 10))
	h.Set(signature.HeaderSignature, signature.NewSigner(key).Sign(id, now, []byte(body)))
	return h
}

// post sends h a webhook with id and body signed with secret, and returns
// the answer.
func post(t *testing.T, h http.Handler, secret, id, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header = signedHeaders(t, secret, id, body)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// secretManager starts hookrun's in-process Secret Manager emulator and
// returns a store on it, in the test's own project, and its address. Both
// end with the test.
func secretManager(t *testing.T) (*secretmanager.Store, string) {
	t.Helper()
	em, err := smemu.Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start Secret Manager emulator: %v", err)
	}
	t.Cleanup(func() { _ = em.Close() })
	store, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: testenv.ProjectID(t), Endpoint: em.Addr()})
	if err != nil {
		t.Fatalf("secretmanager.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, em.Addr()
}
