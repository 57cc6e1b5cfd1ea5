package receivertest_test

// Webhooks signed by GitHub's and Stripe's own libraries (for Node:
// @octokit/webhooks-methods and stripe, installed by npm ci from
// testdata/senders) verify in the sample receiver, whose module has no
// dependency on them: the receiver's own tests sign by the documented
// algorithms and the senders' published vectors.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// signRequest is one signature for testdata/senders/sign.mjs to make.
type signRequest struct {
	Sender    string `json:"sender"` // github or stripe
	Secret    string `json:"secret"`
	Payload   string `json:"payload"`
	Timestamp int64  `json:"timestamp,omitempty"` // Stripe's t
}

// npmTimeout bounds npm ci, which downloads the senders' libraries the
// first time.
const npmTimeout = 5 * time.Minute

// signWithSenderLibraries installs testdata/senders' locked dependencies
// in a temporary copy (npm ci) and returns the signature header values
// sign.mjs makes for reqs with the senders' libraries.
func signWithSenderLibraries(t *testing.T, reqs []signRequest) []string {
	t.Helper()
	node, npm := runtime(t, "node"), runtime(t, "npm")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "sign.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "senders", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), npmTimeout)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in a copy of testdata/senders: %v\n%s", err, out)
	}

	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	sign := exec.CommandContext(ctx, node, "sign.mjs")
	sign.Dir = dir
	sign.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	sign.Stderr = &stderr
	out, err := sign.Output()
	if err != nil {
		t.Fatalf("node sign.mjs: %v\n%s", err, stderr.String())
	}
	var headers []string
	if err := json.Unmarshal(out, &headers); err != nil || len(headers) != len(reqs) {
		t.Fatalf("sign.mjs wrote %q (%v), want %d header values", out, err, len(reqs))
	}
	return headers
}

func TestSenderLibrariesSignaturesVerify(t *testing.T) {
	const (
		githubSecret = "gh-webhook-secret-0123456789"
		stripeSecret = "whsec_0123456789abcdefghijklmnopqrstuv"
		ping         = `{"zen":"Design for failure.","hook_id":1,"hook":{"type":"Repository","events":["push"]}}`
		push         = `{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}`
		checkout     = `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_a1"}}}`
	)
	now := time.Now().Unix()
	stale := now - int64(verify.StripeTolerance/time.Second) - 60
	sigs := signWithSenderLibraries(t, []signRequest{
		{Sender: "github", Secret: githubSecret, Payload: ping},
		{Sender: "github", Secret: githubSecret, Payload: push},
		{Sender: "stripe", Secret: stripeSecret, Payload: checkout, Timestamp: now},
		{Sender: "stripe", Secret: stripeSecret, Payload: checkout, Timestamp: stale},
		// GitHub's documented test values: the library agrees with them.
		{Sender: "github", Secret: "It's a Secret to Everybody", Payload: "Hello, World!"},
	})
	if want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; sigs[4] != want {
		t.Errorf("@octokit/webhooks-methods signs GitHub's test values %s, want the documented %s", sigs[4], want)
	}

	var (
		mu      sync.Mutex
		handled []receiver.Webhook
	)
	rc, err := receiver.New(receiver.Config{GitHubWebhookSecret: githubSecret, StripeWebhookSecret: stripeSecret}, receiver.Deps{
		Handle: func(_ context.Context, wh receiver.Webhook) error {
			mu.Lock()
			defer mu.Unlock()
			handled = append(handled, wh)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	github := func(event, delivery, sig, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/github", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(verify.HeaderGitHubEvent, event)
		r.Header.Set(verify.HeaderGitHubDelivery, delivery)
		r.Header.Set(verify.HeaderGitHubSignature, sig)
		return r
	}
	stripe := func(sig, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/stripe", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
		r.Header.Set(verify.HeaderStripeSignature, sig)
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"GitHub ping", github("ping", "d-1", sigs[0], ping), http.StatusNoContent},
		{"GitHub ping, tampered", github("ping", "d-2", sigs[0], strings.Replace(ping, "failure", "success", 1)), http.StatusUnauthorized},
		{"GitHub push", github("push", "d-3", sigs[1], push), http.StatusNoContent},
		{"GitHub push, signature of another body", github("push", "d-4", sigs[0], push), http.StatusUnauthorized},
		{"Stripe checkout.session.completed", stripe(sigs[2], checkout), http.StatusNoContent},
		{"Stripe, tampered", stripe(sigs[2], strings.Replace(checkout, "cs_test_a1", "cs_test_a2", 1)), http.StatusUnauthorized},
		{"Stripe, stale", stripe(sigs[3], checkout), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, tt.req)
		if w.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body, tt.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 2 || handled[0].Sender != receiver.SenderGitHub || handled[0].ID != "d-3" || handled[0].Type != "push" ||
		handled[1].Sender != receiver.SenderStripe || handled[1].ID != "evt_1NG8Du2eZvKYlo2CUI79vXWy" || handled[1].Type != "checkout.session.completed" {
		t.Errorf("handled %+v, want the GitHub push d-3 and the Stripe event, each with its sender", handled)
	}
}
