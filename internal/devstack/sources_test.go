package devstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/wire"
)

// TestSourceBindingsEndToEnd publishes to the emulator's events topic as
// Google services and a CloudEvents publisher would, with the README's
// commands: a structured CloudEvent (the Go client) and a Cloud Storage
// OBJECT_FINALIZE notification (gcloud) reach the bound tenant's endpoint
// with the types their bindings make; a message no binding matches is
// rejected with what was looked for; a dead letter is pulled from the
// dead-letters subscription scripts/dev creates.
func TestSourceBindingsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the services")
	}
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		t.Fatalf("gcloud, which ships the emulators, is not on PATH: %v", err)
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, project := startTestStack(t)
	c := &Client{BaseURL: stack.IngestURL}
	key, err := c.CreateTenant(ctx, stack.AdminToken, "acme", "Acme")
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	rcv := &verifyingReceiver{byEvent: map[string]int{}, webhookIDs: map[string]string{}, types: map[string]string{}, changed: make(chan struct{})}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	_, secret, err := c.CreateEndpoint(ctx, key, "acme", srv.URL+"/hooks", []string{"storage.object.*", "invoice.*"})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if rcv.wh, err = standardwebhooks.NewWebhook(secret); err != nil {
		t.Fatal(err)
	}
	// An endpoint that fails once and for all, for a dead letter.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body [4096]byte
		n, _ := r.Body.Read(body[:])
		if !AnswerChallenge(w, body[:n]) {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer failing.Close()
	if err := c.Do(ctx, http.MethodPost, "/v1/tenants/acme/endpoints", key, map[string]any{
		"url": failing.URL, "event_types": []string{"invoice.*"}, "retry_policy": map[string]int{"max_attempts": 1},
	}, nil); err != nil {
		t.Fatalf("create failing endpoint: %v", err)
	}

	for _, b := range []map[string]any{
		{"match": map[string]any{"storage": map[string]string{"bucket": "acme-uploads"}}},
		{"match": map[string]any{"cloudevents": map[string]string{"source": "https://billing.example.com", "type_prefix": "invoice."}}},
	} {
		if err := c.Do(ctx, http.MethodPost, "/v1/tenants/acme/source-bindings", key, b, nil); err != nil {
			t.Fatalf("create source binding %v: %v", b, err)
		}
	}

	// The README's Go example: a structured CloudEvent.
	pub, err := pubsub.NewPublisher(ctx, pubsub.Config{ProjectID: project, Topic: EventsTopic}, stack.PubSubOptions()...)
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	defer pub.Close()
	if _, err := pub.Publish(ctx, []byte(`{"specversion":"1.0","id":"in_1-paid","source":"https://billing.example.com","type":"invoice.paid","datacontenttype":"application/json","data":{"invoice":"in_1"}}`),
		map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"}); err != nil {
		t.Fatalf("publish structured CloudEvent: %v", err)
	}
	unboundID, err := pub.Publish(ctx, []byte(`{"specversion":"1.0","id":"x-1","source":"https://elsewhere.example.com","type":"thing.happened","data":{}}`),
		map[string]string{"Content-Type": "application/cloudevents+json"})
	if err != nil {
		t.Fatalf("publish unbound CloudEvent: %v", err)
	}

	// The README's gcloud example: a Cloud Storage notification, as the
	// bucket's notification configuration would publish it.
	out := runGcloud(ctx, t, gcloud, stack, "pubsub", "topics", "publish", EventsTopic,
		`--message={"kind":"storage#object","bucket":"acme-uploads","name":"report.pdf","generation":"1701"}`,
		"--attribute=notificationConfig=projects/_/buckets/acme-uploads/notificationConfigs/1,eventType=OBJECT_FINALIZE,payloadFormat=JSON_API_V1,bucketId=acme-uploads,objectId=report.pdf,objectGeneration=1701,eventTime=2026-12-07T12:00:00.000000Z",
		"--format=value(messageIds)")
	gcsEventID := "msg-" + strings.TrimSpace(out)

	if err := rcv.waitFor(ctx, "in_1-paid", gcsEventID); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	rcv.mu.Lock()
	if got := rcv.types["in_1-paid"]; got != "invoice.paid" {
		t.Errorf("structured CloudEvent delivered as %q, want invoice.paid", got)
	}
	if got := rcv.types[gcsEventID]; got != "storage.object.finalize" {
		t.Errorf("Cloud Storage notification delivered as %q, want storage.object.finalize", got)
	}
	if len(rcv.bad) > 0 {
		t.Errorf("deliveries that failed verification: %v", rcv.bad)
	}
	rcv.mu.Unlock()

	rej := waitRejected(ctx, t, project, unboundID)
	if want := `no source binding matches ce-source "https://elsewhere.example.com" ce-type "thing.happened"`; !strings.Contains(rej.Reason, want) || rej.TenantID != "" {
		t.Errorf("rejected %+v, want a reason containing %q and no tenant", rej, want)
	}

	// The invoice died at the failing endpoint: its announcement is on
	// the dead-letters topic, pulled as the README shows.
	for {
		out := runGcloud(ctx, t, gcloud, stack, "pubsub", "subscriptions", "pull", DeadLettersLocalSubscription, "--auto-ack", "--limit=10", "--format=json")
		var pulled []struct {
			Message struct {
				Data       []byte            `json:"data"`
				Attributes map[string]string `json:"attributes"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(out), &pulled); err != nil {
			t.Fatalf("gcloud pull printed %q: %v", out, err)
		}
		if len(pulled) > 0 {
			var d wire.DeadLetter
			if err := json.Unmarshal(pulled[0].Message.Data, &d); err != nil || d.EventID != "in_1-paid" || d.TenantID != "acme" {
				t.Errorf("dead letter %s (%v), want in_1-paid of acme", pulled[0].Message.Data, err)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no dead letter on the dead-letters subscription")
		}
		time.Sleep(500 * time.Millisecond) // gcloud's pull returns at once when there is nothing
	}
}

// runGcloud runs gcloud with args against the stack's emulator, as the
// README's commands do after scripts/dev's export lines, and returns its
// output.
func runGcloud(ctx context.Context, t *testing.T, gcloud string, stack *Stack, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, gcloud, args...)
	// A configuration directory of its own: nothing of the user's gcloud
	// setup, and nothing written into it.
	cmd.Env = append(os.Environ(), append(stack.GcloudEnv(), "CLOUDSDK_CONFIG="+t.TempDir())...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("gcloud %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
