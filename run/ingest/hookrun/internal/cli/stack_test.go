package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	"github.com/hookrun/hookrun/internal/testenv"
)

// receiver answers the ownership challenge, then every delivery with
// status (204 unless set), and logs each accepted one's event ID.
type receiver struct {
	status    atomic.Int32
	delivered *devstack.LineWatcher
}

func newReceiver(t *testing.T) (*receiver, string) {
	r := &receiver{delivered: devstack.NewLineWatcher()}
	r.status.Store(http.StatusNoContent)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if devstack.AnswerChallenge(w, body) {
		return
	}
	status := int(r.status.Load())
	if status/100 == 2 {
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &ev)
		fmt.Fprintf(r.delivered, "delivered %q\n", ev.ID)
	}
	w.WriteHeader(status)
}

// waitFor waits until every id was delivered.
func (r *receiver) waitFor(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if _, err := r.delivered.WaitFor(ctx, strconv.Quote(id)); err != nil {
			return fmt.Errorf("event %s never delivered: %w", id, err)
		}
	}
	return nil
}

// TestCLIAgainstTheLocalStack runs the real commands against ingest, the
// dispatcher and the emulators: login, a tenant and its endpoints, a send
// that tail sees delivered, a batch from NDJSON, events list and get with
// the attempts, a dead letter replayed, and a portal link.
func TestCLIAgainstTheLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the services")
	}
	pubsubHost, firestoreHost := testenv.PubSubHost(t), testenv.FirestoreHost(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out := &testLog{t: t}
	stack, err := devstack.StartStack(ctx, devstack.StackConfig{
		ProjectID: testenv.ProjectID(t), PubSubHost: pubsubHost, FirestoreHost: firestoreHost,
		Output: out,
	})
	if err != nil {
		t.Fatalf("StartStack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		out.done.Store(true)
	})

	// The operator logs in with the admin token and creates the tenant.
	admin := newTestEnv(t)
	admin.must(t, stack.AdminToken+"\n", "login", "--url", stack.IngestURL, "--key-stdin")
	var created struct {
		APIKey string `json:"api_key"`
	}
	decode(t, admin.must(t, "", "tenants", "create", "shop", "--name", "Shop", "-o", "json"), &created)
	e := newTestEnv(t)
	e.must(t, created.APIKey+"\n", "login", "--url", stack.IngestURL, "--tenant", "shop", "--key-stdin")

	orders, ordersURL := newReceiver(t)
	var ep struct{ ID, Status string }
	decode(t, e.must(t, "", "endpoints", "create", "--url", ordersURL, "--type", "order.*", "-o", "json"), &ep)
	if ep.Status != "active" {
		t.Fatalf("endpoint %s is %s, want active", ep.ID, ep.Status)
	}

	// tail, started before the send, sees its delivery.
	tailOut, tailErr := devstack.NewLineWatcher(), devstack.NewLineWatcher()
	tailCtx, stopTail := context.WithCancel(ctx)
	tailDone := make(chan int, 1)
	go func() {
		tailDone <- Main(tailCtx, []string{"tail", "--interval", "250ms"}, Env{
			Stdin: strings.NewReader(""), Stdout: tailOut, Stderr: tailErr,
			Getenv: func(string) string { return "" }, ConfigDir: e.configDir,
		})
	}()
	if _, err := tailErr.WaitFor(ctx, "Following tenant shop"); err != nil {
		t.Fatalf("tail did not start: %v", err)
	}
	e.must(t, "", "send", "--type", "order.created", "--id", "o-1", "--data", `{"total":42}`)
	if _, err := tailOut.WaitFor(ctx, "o-1  order.created"); err != nil {
		t.Fatalf("tail did not show the event: %v", err)
	}
	line, err := tailOut.WaitFor(ctx, "#1  204")
	if err != nil || !strings.Contains(line, "o-1") || !strings.Contains(line, ep.ID) || !strings.Contains(line, "succeeded") {
		t.Fatalf("tail's attempt line %q (%v): want o-1's first attempt to %s, 204, succeeded", line, err, ep.ID)
	}
	stopTail()
	if code := <-tailDone; code != ExitOK {
		t.Errorf("tail ended by Ctrl-C: exit %d, want 0", code)
	}

	// A batch from NDJSON with two bad events: exactly the good ones
	// arrive.
	var batch strings.Builder
	var good []string
	for i := range 20 {
		switch i {
		case 5:
			batch.WriteString("{oops\n")
		case 11:
			batch.WriteString(`{"type":"Order Created","data":{}}` + "\n")
		default:
			id := fmt.Sprintf("batch-%d", i)
			good = append(good, id)
			fmt.Fprintf(&batch, `{"id":%q,"type":"order.created","data":{"n":%d}}`+"\n", id, i)
		}
	}
	r := e.run(t, batch.String(), "send", "--batch", "-o", "ndjson")
	if r.code != ExitPartial || strings.Count(r.stdout, `"result":"accepted"`) != 18 || strings.Count(r.stdout, `"result":"refused"`) != 2 {
		t.Fatalf("send --batch: exit %d, want %d with 18 accepted and 2 refused:\n%s\n%s", r.code, ExitPartial, r.stdout, r.stderr)
	}
	if err := orders.waitFor(ctx, append(good, "o-1")...); err != nil {
		t.Fatal(err)
	}

	// events list and get, with the attempt. Event and attempt records
	// are written just after the answers (README: Records written after
	// the answer), so a delivered event may be listed a moment later.
	var evs []struct{ ID string }
	var got struct {
		Deliveries []struct {
			State      string
			AttemptLog []struct {
				StatusCode int `json:"status_code"`
			} `json:"attempt_log"`
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		evs, got.Deliveries = nil, nil
		decode(t, e.must(t, "", "events", "list", "--limit", "0", "-o", "json"), &evs)
		decode(t, e.must(t, "", "events", "get", "o-1", "-o", "json"), &got)
		if len(evs) == 19 && len(got.Deliveries) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(evs) != 19 {
		t.Errorf("events list: %d events, want 19 (o-1 and the batch's 18)", len(evs))
	}
	if len(got.Deliveries) != 1 || got.Deliveries[0].State != "succeeded" || len(got.Deliveries[0].AttemptLog) != 1 || got.Deliveries[0].AttemptLog[0].StatusCode != 204 {
		t.Errorf("events get o-1: %+v, want one succeeded delivery with one 204 attempt", got)
	}
	if out := e.must(t, "", "events", "get", "o-1"); !strings.Contains(out, "Attempts") || !strings.Contains(out, "204") {
		t.Errorf("events get o-1 table:\n%s", out)
	}

	// A dead letter, replayed in bulk once the receiver is fixed.
	invoices, invoicesURL := newReceiver(t)
	var ep2 struct{ ID string }
	decode(t, e.must(t, "", "endpoints", "create", "--url", invoicesURL, "--type", "invoice.*", "--on-client-error", "dead_letter", "-o", "json"), &ep2)
	invoices.status.Store(http.StatusBadRequest)
	e.must(t, "", "send", "--type", "invoice.failed", "--id", "inv-1", "--data", `{}`)
	deadID := ""
	for deadID == "" {
		var dls []struct{ ID string }
		decode(t, e.must(t, "", "dead-letters", "list", "--endpoint", ep2.ID, "-o", "json"), &dls)
		if len(dls) > 0 {
			deadID = dls[0].ID
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("inv-1 never became a dead letter")
		case <-time.After(200 * time.Millisecond):
		}
	}
	if deadID != "inv-1:"+ep2.ID {
		t.Errorf("dead letter %q, want inv-1:%s", deadID, ep2.ID)
	}
	invoices.status.Store(http.StatusNoContent)
	var replay struct {
		State  string
		Counts struct{ Matched, Replayed int }
	}
	decode(t, e.must(t, "", "replay", "--all", "--endpoint", ep2.ID, "-o", "json"), &replay)
	if replay.State != "done" || replay.Counts.Matched != 1 || replay.Counts.Replayed != 1 {
		t.Errorf("replay --all: %+v, want done with 1 matched and replayed", replay)
	}
	if err := invoices.waitFor(ctx, "inv-1"); err != nil {
		t.Fatal(err)
	}

	if out := e.must(t, "", "portal"); !strings.HasPrefix(out, stack.IngestURL+"/portal/open?token=hkp_") {
		t.Errorf("portal printed %q, want a link into the stack's portal", out)
	}
}

// testLog sends the stack's output to the test log, shown on failure;
// nothing once the test ended.
type testLog struct {
	t    *testing.T
	done atomic.Bool
}

func (w *testLog) Write(b []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
