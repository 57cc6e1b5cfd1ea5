package receivertest_test

// The snippets' servers (functions/receiver/snippets/server.js, server.py)
// pass hookrun's ownership challenge as hookrun really runs it: ingest's
// API and challenger verify an endpoint pointed at each.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/signature"
)

const adminToken = "receivertest-admin-token"

// droppedEvents is the events topic of a test that sends no event: what
// ingest publishes (its operational notices) is acknowledged and dropped.
type droppedEvents struct{}

func (droppedEvents) Publish(context.Context, []byte, map[string]string) (string, error) {
	return "dropped", nil
}

// ingestAPI serves hookrun's ingest API, with its real ownership
// challenge, on the memory store and hookrun's Secret Manager emulator,
// allowing http:// endpoints on loopback, and returns a client of it.
func ingestAPI(t *testing.T) *devstack.Client {
	t.Helper()
	secrets, _ := secretManager(t)
	svc, err := ingest.New(ingest.Config{AdminToken: adminToken, AllowHTTPEndpoints: true, AllowPrivateNetworks: true},
		memstore.New(), ingest.PublishFunc(droppedEvents{}.Publish), secrets)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &devstack.Client{BaseURL: srv.URL}
}

func TestSnippetServersPassTheChallenge(t *testing.T) {
	api := ingestAPI(t)
	for _, s := range []struct{ runtime, script, tenant string }{
		{"node", "server.js", "snippet-node"},
		{"python3", "server.py", "snippet-python"},
	} {
		t.Run(s.script, func(t *testing.T) {
			bin := runtime(t, s.runtime)
			ctx := t.Context()
			key, err := api.CreateTenant(ctx, adminToken, s.tenant, s.script)
			if err != nil {
				t.Fatalf("create tenant: %v", err)
			}

			// Served with another secret, the snippet refuses the challenge,
			// which is signed with the endpoint's: the endpoint stays pending.
			port, stop := startSnippetServer(t, bin, s.script, signature.NewSecret(), "0")
			id, secret, err := api.CreateEndpoint(ctx, key, s.tenant, "http://127.0.0.1:"+port+"/webhooks", []string{"*"})
			if err != nil {
				t.Fatalf("create endpoint: %v", err)
			}
			var ep struct {
				Status            string `json:"status"`
				VerificationError string `json:"verification_error"`
			}
			if err := api.Do(ctx, http.MethodGet, "/v1/tenants/"+s.tenant+"/endpoints/"+id, key, nil, &ep); err != nil {
				t.Fatal(err)
			}
			if ep.Status != "pending" || !strings.Contains(ep.VerificationError, "401") {
				t.Fatalf("endpoint served with another secret is %s (%q), want pending: answered 401", ep.Status, ep.VerificationError)
			}
			stop()

			// Served with the endpoint's secret, it answers the challenge.
			startSnippetServer(t, bin, s.script, secret, port)
			if err := api.VerifyEndpoint(ctx, key, s.tenant, id); err != nil {
				t.Fatalf("verify endpoint: %v", err)
			}
		})
	}
}

// startSnippetServer runs a snippet's server with WEBHOOK_SECRET secret on
// 127.0.0.1:port ("0": any free port), and returns the port once it
// listens, and a function that stops it (also called when the test ends).
func startSnippetServer(t *testing.T, bin, script, secret, port string) (string, func()) {
	t.Helper()
	cmd := exec.Command(bin, script)
	cmd.Dir = filepath.Join(receiverDir(t), "snippets")
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "HOST=127.0.0.1", "PORT="+port)
	out, all := devstack.NewLineWatcher(), &lockedBuffer{}
	w := io.MultiWriter(out, all)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
		cancel() // stops the wait below: it will not listen now
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	t.Cleanup(stop)

	const listening = "listening on port "
	line, err := out.WaitFor(ctx, listening)
	if err != nil {
		stop()
		t.Fatalf("%s did not listen: %v; output:\n%s", script, err, all.String())
	}
	return strings.TrimSpace(line[strings.Index(line, listening)+len(listening):]), stop
}
