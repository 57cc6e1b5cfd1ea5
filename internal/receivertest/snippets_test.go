package receivertest_test

// The Node and Python verification snippets that the README shows
// (functions/receiver/snippets/verify.js, verify.py), run against webhooks
// signed by hookrun's own signer, must agree with the Go package verify.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Exit codes of the snippets' CLI mode.
const (
	verified    = 0
	notVerified = 1
	badUsage    = 2
)

// webhook is one request as it reaches a receiver, and the receiver's
// secret.
type webhook struct {
	name    string
	secret  string
	headers map[string]string
	body    []byte
	want    int
}

func signer(t *testing.T, secret string) *signature.Signer {
	t.Helper()
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	return signature.NewSigner(key)
}

func cases(t *testing.T) []webhook {
	oldSecret, newSecret := signature.NewSecret(), signature.NewSecret()
	oldSigner, newSigner := signer(t, oldSecret), signer(t, newSecret)
	body := []byte(`{"id":"evt_1","type":"user.created","timestamp":"2026-11-23T10:00:00Z","data":{"name":"Zoë"}}`)
	const id = "msg_2r9QY3cHbYkCzpGkGzT8xk4Zw1H"
	now := time.Now().Unix()
	headers := func(ts int64, sig string) map[string]string {
		return map[string]string{"webhook-id": id, "webhook-timestamp": strconv.FormatInt(ts, 10), "webhook-signature": sig}
	}
	binary := []byte("\xff\x00 raw bytes, not UTF-8\r\n")
	tolerance := int64(verify.Tolerance / time.Second)

	return []webhook{
		{"valid", newSecret, headers(now, newSigner.Sign(id, now, body)), body, verified},
		{"valid, canonical header names", newSecret, map[string]string{
			"Webhook-Id": id, "Webhook-Timestamp": strconv.FormatInt(now, 10), "Webhook-Signature": newSigner.Sign(id, now, body),
		}, body, verified},
		{"valid, binary body", newSecret, headers(now, newSigner.Sign(id, now, binary)), binary, verified},
		{"tampered body", newSecret, headers(now, newSigner.Sign(id, now, body)),
			[]byte(strings.Replace(string(body), "Zoë", "Eve", 1)), notVerified},
		{"tampered id", newSecret, func() map[string]string {
			h := headers(now, newSigner.Sign(id, now, body))
			h["webhook-id"] = "msg_other"
			return h
		}(), body, notVerified},
		{"wrong secret", oldSecret, headers(now, newSigner.Sign(id, now, body)), body, notVerified},
		{"expired timestamp", newSecret, headers(now-tolerance-60, newSigner.Sign(id, now-tolerance-60, body)), body, notVerified},
		{"future-dated timestamp", newSecret, headers(now+tolerance+60, newSigner.Sign(id, now+tolerance+60, body)), body, notVerified},
		{"rotated: two signatures, receiver has the new secret", newSecret,
			headers(now, oldSigner.Sign(id, now, body)+" "+newSigner.Sign(id, now, body)), body, verified},
		{"rotated: two signatures, receiver still has the old secret", oldSecret,
			headers(now, oldSigner.Sign(id, now, body)+" "+newSigner.Sign(id, now, body)), body, verified},
		{"rotated: receiver holds both secrets", oldSecret + " " + newSecret, headers(now, newSigner.Sign(id, now, body)), body, verified},
		{"other signature scheme only", newSecret, headers(now, "v1a,"+newSigner.Sign(id, now, body)[3:]), body, notVerified},
		{"no signature header", newSecret, map[string]string{"webhook-id": id, "webhook-timestamp": strconv.FormatInt(now, 10)}, body, notVerified},
		{"secret is not whsec_ base64", "whsec_%%%", headers(now, newSigner.Sign(id, now, body)), body, badUsage},
	}
}

// runtime returns the path of a runtime the snippets need, or stops the
// test: skipped locally, failed in CI, which must run every snippet.
func runtime(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if testenv.InCI() {
		t.Fatalf("%s not found: CI must run the %s snippet", name, name)
	}
	t.Skipf("%s not found; install it to test its snippet", name)
	return ""
}

func TestSnippets(t *testing.T) {
	snippets := []struct {
		runtime, script string
	}{
		{"node", "verify.js"},
		{"python3", "verify.py"},
	}
	webhooks := cases(t)
	for _, s := range snippets {
		t.Run(s.script, func(t *testing.T) {
			bin := runtime(t, s.runtime)
			script := filepath.Join(testenv.RepoRoot(t), "functions", "receiver", "snippets", s.script)
			for _, wh := range webhooks {
				t.Run(wh.name, func(t *testing.T) {
					t.Parallel()
					got, out := run(t, bin, script, wh)
					if got != wh.want {
						t.Errorf("%s %s exited %d, want %d; output:\n%s", s.runtime, s.script, got, wh.want, out)
					}
				})
			}
		})
	}
}

// The Go package and the snippets must agree on every case.
func TestCasesAgreeWithGoVerify(t *testing.T) {
	for _, wh := range cases(t) {
		h := make(map[string][]string, len(wh.headers))
		for k, v := range wh.headers {
			h[k] = []string{v}
		}
		err := verify.Verify(wh.secret, h, wh.body)
		got := verified
		switch {
		case errors.Is(err, verify.ErrInvalidSecret):
			got = badUsage
		case err != nil:
			got = notVerified
		}
		if got != wh.want {
			t.Errorf("%s: verify.Verify = %v, want the outcome of exit code %d", wh.name, err, wh.want)
		}
	}
}

// run runs the snippet's CLI mode on wh: the secret in WEBHOOK_SECRET, the
// headers as a JSON file, the body on stdin. It returns the exit code and
// the output.
func run(t *testing.T, bin, script string, wh webhook) (int, string) {
	t.Helper()
	dir := t.TempDir()
	headers, err := json.Marshal(wh.headers)
	if err != nil {
		t.Fatal(err)
	}
	headersFile, bodyFile := filepath.Join(dir, "headers.json"), filepath.Join(dir, "body")
	if err := os.WriteFile(headersFile, headers, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bodyFile, wh.body, 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(bodyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()

	cmd := exec.Command(bin, script, headersFile)
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+wh.secret)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("run %s %s: %v", bin, script, err)
		return -1, ""
	}
}
