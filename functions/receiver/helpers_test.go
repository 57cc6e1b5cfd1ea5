package receiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// TestMain keeps the expected warnings of refused requests out of the test
// output; tests that check logs capture them (captureLogs).
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
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key), key
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
// as webhook id at ts, by the Standard Webhooks library, as any sender
// would sign it.
func signedRequest(id string, ts time.Time, body string, keys ...[]byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(verify.HeaderID, id)
	r.Header.Set(verify.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	var sigs []string
	for _, k := range keys {
		wh, err := standardwebhooks.NewWebhookRaw(k)
		if err != nil {
			panic(err)
		}
		sig, err := wh.Sign(id, ts, []byte(body))
		if err != nil {
			panic(err)
		}
		sigs = append(sigs, sig)
	}
	r.Header.Set(verify.HeaderSignature, strings.Join(sigs, " "))
	return r
}

// serveNew serves r with a new Receiver of cfg on testNow's clock, which
// hands off to the returned fake, and fails the test unless it answers
// want.
func serveNew(t *testing.T, cfg Config, r *http.Request, want int) (*httptest.ResponseRecorder, *fakeHandoff) {
	t.Helper()
	h := &fakeHandoff{}
	w := serve(newReceiver(t, cfg, Deps{Handoff: h}), r)
	if w.Code != want {
		t.Fatalf("status = %d, want %d (body %s)", w.Code, want, w.Body)
	}
	return w, h
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
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

// logBuffer holds captured log output. It is safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the JSON log lines written so far, failing the test on a
// line that is not JSON.
func (b *logBuffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// captureLogs makes slog's default logger the receiver's, at debug level,
// writing to a new buffer until the test ends. Tests using it must not run
// in parallel.
func captureLogs(t testing.TB) *logBuffer {
	t.Helper()
	b := &logBuffer{}
	prev := slog.Default()
	slog.SetDefault(NewLogger(b, slog.LevelDebug))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return b
}

// The senders' secrets in tests, shaped like theirs.
const (
	slackSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	githubSecret = "gh-webhook-secret-0123456789"
	stripeSecret = "whsec_0123456789abcdefghijklmnopqrstuv"
)

// hexHMAC is the hex HMAC-SHA256 of parts under key, which Slack, GitHub
// and Stripe all sign with.
func hexHMAC(key string, parts ...string) string {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// slackRequest is a POST of a JSON body signed at ts with secret by
// Slack's documented scheme: X-Slack-Signature "v0=" and the hex HMAC of
// "v0:{timestamp}:{body}".
func slackRequest(ts time.Time, body, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sec := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set(verify.HeaderSlackTimestamp, sec)
	r.Header.Set(verify.HeaderSlackSignature, "v0="+hexHMAC(secret, "v0:", sec, ":", body))
	return r
}

// githubRequest is a delivery of event with a JSON body, signed with
// secret by GitHub's documented scheme: X-Hub-Signature-256 "sha256=" and
// the hex HMAC of the body.
func githubRequest(delivery, event, body, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/github", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(verify.HeaderGitHubDelivery, delivery)
	r.Header.Set(verify.HeaderGitHubEvent, event)
	r.Header.Set(verify.HeaderGitHubSignature, "sha256="+hexHMAC(secret, body))
	return r
}

// stripeRequest is an event body signed at ts with secrets by Stripe's
// documented scheme: Stripe-Signature "t={ts}" and a "v1=" hex HMAC of
// "{ts}.{body}" per secret.
func stripeRequest(ts time.Time, body string, secrets ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/stripe", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	sec := strconv.FormatInt(ts.Unix(), 10)
	sig := "t=" + sec
	for _, s := range secrets {
		sig += ",v1=" + hexHMAC(s, sec, ".", body)
	}
	r.Header.Set(verify.HeaderStripeSignature, sig)
	return r
}
