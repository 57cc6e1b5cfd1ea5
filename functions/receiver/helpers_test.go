package receiver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/signature"
)

// TestMain keeps the expected warnings of refused requests out of the test
// output; tests that check logs capture them (logtest).
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// testNow is the receiver's clock in tests, so signatures never go stale.
var testNow = time.Unix(1_800_000_000, 0)

const testBody = `{"id":"evt_1","type":"user.created","timestamp":"2027-01-15T08:00:00Z","data":{"name":"Ada"}}`

// fakeHandoff records what was handed off, or fails with err.
type fakeHandoff struct {
	mu  sync.Mutex
	got []Webhook
	err error
}

var _ Handoff = (*fakeHandoff)(nil)

func (f *fakeHandoff) Send(_ context.Context, wh Webhook) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, wh)
	return nil
}

func (f *fakeHandoff) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeHandoff) sent() []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Webhook(nil), f.got...)
}

// newSecret returns a new whsec_ secret and its key.
func newSecret(t testing.TB) (string, []byte) {
	t.Helper()
	s := signature.NewSecret()
	key, err := signature.ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	return s, key
}

// newReceiver returns a Receiver for cfg and deps on testNow's clock.
func newReceiver(t testing.TB, cfg Config, deps Deps) *Receiver {
	t.Helper()
	rc, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rc.now = func() time.Time { return testNow }
	return rc
}

// signedRequest is a POST of body signed with keys (one signature each)
// as webhook id at ts.
func signedRequest(id string, ts time.Time, body string, keys ...[]byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(signature.HeaderID, id)
	r.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	var sigs []string
	for _, k := range keys {
		sigs = append(sigs, signature.NewSigner(k).Sign(id, ts.Unix(), []byte(body)))
	}
	r.Header.Set(signature.HeaderSignature, strings.Join(sigs, " "))
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorBody is the Google error shape of an answer.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// httptestBody makes r a request body.
func httptestBody(r io.Reader) io.ReadCloser { return io.NopCloser(r) }
