package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/devstack"
	smemu "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/memstore"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/hookrun/hookrun/run/ingest/client"
)

const testAdminToken = "cli-test-admin-token"

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// topic is the events topic of the in-process API: it keeps what was
// published.
type topic struct {
	mu   sync.Mutex
	msgs []map[string]string
}

func (p *topic) Publish(_ context.Context, _ []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, attrs)
	return "m", nil
}

// newAPI serves the real ingest API on the memory store and the Secret
// Manager emulator, in-process, and answers its base URL.
func newAPI(t *testing.T) string {
	t.Helper()
	em, err := smemu.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start secret manager emulator: %v", err)
	}
	t.Cleanup(func() { _ = em.Close() })
	secrets, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: testenv.ProjectID(t), Endpoint: em.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = secrets.Close() })
	svc, err := ingest.New(ingest.Config{AdminToken: testAdminToken, AllowHTTPEndpoints: true, AllowPrivateNetworks: true},
		memstore.New(), ingest.PublishFunc((&topic{}).Publish), secrets)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// decode reads a command's JSON output into out.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not the JSON expected: %v\n%s", err, out)
	}
}

// tenantEnv logs in as a new tenant of the API at url and answers the
// environment of that login.
func tenantEnv(t *testing.T, url, tenant string) *testEnv {
	t.Helper()
	admin := newTestEnv(t, envURL, url, envKey, testAdminToken)
	var created struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	decode(t, admin.must(t, "", "tenants", "create", tenant, "--name", "Tenant "+tenant, "-o", "json"), &created)
	if created.ID != tenant || !strings.HasPrefix(created.APIKey, "hkr_") {
		t.Fatalf("tenants create answered %+v", created)
	}
	e := newTestEnv(t)
	e.must(t, created.APIKey+"\n", "login", "--url", url, "--tenant", tenant, "--key-stdin")
	return e
}

func TestTenantsCommands(t *testing.T) {
	url := newAPI(t)
	admin := newTestEnv(t, envURL, url, envKey, testAdminToken)
	acme := tenantEnv(t, url, "acme")
	tenantEnv(t, url, "globex")

	if r := admin.run(t, "", "tenants", "create", "acme", "--name", "Again"); r.code != ExitConflict {
		t.Errorf("creating acme twice: exit %d, want %d; stderr %s", r.code, ExitConflict, r.stderr)
	}
	var ts []struct{ ID, Status string }
	decode(t, admin.must(t, "", "tenants", "list", "-o", "json"), &ts)
	if len(ts) != 2 || ts[0].ID != "acme" || ts[1].ID != "globex" || ts[0].Status != "active" {
		t.Errorf("tenants list -o json = %+v, want acme and globex, active", ts)
	}
	table := admin.must(t, "", "tenants", "list")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[1], "acme ") {
		t.Errorf("tenants list table:\n%s\nwant a header and one line per tenant", table)
	}
	if out := admin.must(t, "", "tenants", "list", "-o", "ndjson"); strings.Count(out, "\n") != 2 {
		t.Errorf("tenants list -o ndjson: %q, want one line per tenant", out)
	}
	if out := admin.must(t, "", "__complete", "events", "list", "--tenant", ""); !strings.Contains(out, "acme\tTenant acme") || !strings.Contains(out, "globex") {
		t.Errorf("completion of --tenant: %q lacks the tenants", out)
	}
	if r := admin.run(t, "", "tenants", "get", "nope"); r.code != ExitNotFound {
		t.Errorf("tenants get nope: exit %d, want %d", r.code, ExitNotFound)
	}
	// A tenant's key may read its tenant (the login's), not the list of all.
	if out := acme.must(t, "", "tenants", "get"); !strings.Contains(out, "Tenant acme") {
		t.Errorf("tenants get (the login's tenant):\n%s", out)
	}
	if r := acme.run(t, "", "tenants", "list"); r.code != ExitAuth {
		t.Errorf("tenants list with a tenant's key: exit %d, want %d", r.code, ExitAuth)
	}
}

func TestEndpointsCommands(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	_, rcv := newReceiver(t)

	var ep struct {
		ID, Status, Secret, URL string
		EventTypes              []string `json:"event_types"`
	}
	decode(t, e.must(t, "", "endpoints", "create", "--url", rcv+"/hooks", "--type", "user.*", "--type", "invoice.paid", "-o", "json"), &ep)
	if ep.Status != "active" || !strings.HasPrefix(ep.Secret, "whsec_") || len(ep.EventTypes) != 2 {
		t.Fatalf("endpoints create answered %+v; want an active endpoint with its secret and two types", ep)
	}
	if out := e.must(t, "", "endpoints", "list"); !strings.Contains(out, ep.ID) || !strings.Contains(out, "user.*,invoice.paid") {
		t.Errorf("endpoints list:\n%s\nlacks %s with its types", out, ep.ID)
	}
	var rotated struct{ Secret string }
	decode(t, e.must(t, "", "endpoints", "rotate", ep.ID, "--grace", "1h", "-o", "json"), &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == ep.Secret {
		t.Errorf("endpoints rotate: secret %q, want a new whsec_ one", rotated.Secret)
	}
	if out := e.must(t, "", "endpoints", "verify", ep.ID); !strings.Contains(out, "active") {
		t.Errorf("endpoints verify:\n%s", out)
	}
	if out := e.must(t, "", "endpoints", "get", ep.ID); !strings.Contains(out, "previous secret until:") {
		t.Errorf("endpoints get after a rotation:\n%s\nwant the previous secret's expiry", out)
	}
	// Completion offers the endpoint's ID.
	if out := e.must(t, "", "__complete", "endpoints", "get", ""); !strings.Contains(out, ep.ID) {
		t.Errorf("completion of endpoints get: %q lacks %s", out, ep.ID)
	}
	e.must(t, "", "endpoints", "delete", ep.ID)
	if r := e.run(t, "", "endpoints", "get", ep.ID); r.code != ExitNotFound {
		t.Errorf("endpoints get of a deleted endpoint: exit %d, want %d", r.code, ExitNotFound)
	}
	if r := e.run(t, "", "endpoints", "create", "--url", rcv); r.code != ExitUsage {
		t.Errorf("endpoints create without --type: exit %d, want %d", r.code, ExitUsage)
	}
	if r := e.run(t, "", "endpoints", "create", "--url", "ftp://x", "--type", "a"); r.code != ExitError || !strings.Contains(r.stderr, "INVALID_ARGUMENT") {
		t.Errorf("endpoints create with a bad URL: exit %d, stderr %q; want %d and the API's error", r.code, r.stderr, ExitError)
	}
}

func TestSendAndEvents(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	dir := t.TempDir()
	file := dir + "/data.json"
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	var sent struct{ ID string }
	decode(t, e.must(t, "", "send", "--type", "user.created", "--id", "u-1", "--data", `{"name":"Ada"}`, "-o", "json"), &sent)
	if sent.ID != "u-1" {
		t.Errorf("send --id u-1 answered %q", sent.ID)
	}
	if out := e.must(t, `{"from":"stdin"}`, "send", "--type", "user.updated"); !strings.HasPrefix(out, "accepted:") || !strings.Contains(out, "evt_") {
		t.Errorf("send with data on stdin printed %q, want the generated ID", out)
	}
	e.must(t, "", "send", "--type", "user.deleted", "--id", "u-3", "--data", "@"+file)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"data not an object", []string{"send", "--type", "a.b", "--data", "[1]"}, ExitUsage},
		{"no type", []string{"send", "--data", "{}"}, ExitUsage},
		{"missing file", []string{"send", "--type", "a.b", "--data", "@" + dir + "/nope"}, ExitUsage},
		{"type refused by the API", []string{"send", "--type", "Not A Type", "--data", "{}"}, ExitError},
	} {
		if r := e.run(t, "", tc.args...); r.code != tc.want {
			t.Errorf("%s: exit %d, want %d; stderr %s", tc.name, r.code, tc.want, r.stderr)
		}
	}

	var evs []struct {
		ID, Type string
	}
	decode(t, e.must(t, "", "events", "list", "-o", "json"), &evs)
	if len(evs) != 3 || evs[2].ID != "u-1" {
		t.Errorf("events list -o json = %+v, want the 3 events, newest first", evs)
	}
	decode(t, e.must(t, "", "events", "list", "--type", "user.deleted", "-o", "json"), &evs)
	if len(evs) != 1 || evs[0].ID != "u-3" {
		t.Errorf("events list --type user.deleted = %+v, want u-3", evs)
	}
	var got struct {
		ID   string
		Data map[string]string
	}
	decode(t, e.must(t, "", "events", "get", "u-3", "-o", "json"), &got)
	if got.Data["from"] != "file" {
		t.Errorf("events get u-3: data %v, want the file's", got.Data)
	}
	if out := e.must(t, "", "events", "get", "u-1"); !strings.Contains(out, `data:      {"name":"Ada"}`) || !strings.Contains(out, "No deliveries") {
		t.Errorf("events get u-1 table:\n%s", out)
	}
	if r := e.run(t, "", "events", "get", "nope"); r.code != ExitNotFound {
		t.Errorf("events get nope: exit %d, want %d", r.code, ExitNotFound)
	}
	if r := e.run(t, "", "events", "list", "--since", "yesterday"); r.code != ExitUsage {
		t.Errorf("events list --since yesterday: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestSendBatch(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	var in strings.Builder
	for i := range 1203 {
		switch i {
		case 7:
			in.WriteString("not json\n")
		case 600:
			in.WriteString(`{"type":"Bad Type","data":{}}` + "\n")
		default:
			in.WriteString(`{"id":"b-` + itoa(i) + `","type":"order.created","data":{"n":` + itoa(i) + "}}\n")
		}
	}
	r := e.run(t, in.String(), "send", "--batch", "-o", "json")
	if r.code != ExitPartial {
		t.Fatalf("send --batch with 2 bad lines: exit %d, want %d; stderr %s", r.code, ExitPartial, r.stderr)
	}
	var sum batchSummary
	decode(t, r.stdout, &sum)
	if sum.Accepted != 1201 || sum.Refused != 2 || len(sum.Results) != 1203 {
		t.Fatalf("summary: %d accepted, %d refused, %d results; want 1201, 2, 1203", sum.Accepted, sum.Refused, len(sum.Results))
	}
	for i, res := range sum.Results {
		if res.Line != i+1 {
			t.Fatalf("result %d is of line %d: results must be in line order", i, res.Line)
		}
	}
	if bad := sum.Results[7]; bad.Result != client.Refused || bad.Error == nil || !strings.Contains(bad.Error.Message, "not an event") {
		t.Errorf("line 8 (not JSON): %+v", bad)
	}
	if bad := sum.Results[600]; bad.Result != client.Refused || bad.Error == nil || bad.Error.Status != "INVALID_ARGUMENT" {
		t.Errorf("line 601 (bad type): %+v", bad)
	}

	// An event of the file again, as a table: its id makes it a duplicate.
	file := t.TempDir() + "/events.ndjson"
	if err := os.WriteFile(file, []byte(`{"id":"b-1","type":"order.created","data":{"n":1}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.must(t, "", "send", "--batch", file)
	if !regexp.MustCompile(`(?m)^1 +b-1 +duplicate`).MatchString(out) || !strings.HasSuffix(out, "0 accepted, 1 duplicates, 0 refused\n") {
		t.Errorf("send --batch FILE table:\n%s\nwant b-1 a duplicate", out)
	}
	if r := e.run(t, "", "send", "--batch", "--type", "a.b"); r.code != ExitUsage {
		t.Errorf("send --batch --type: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestPortalPrintsALink(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	out := e.must(t, "", "portal", "--ttl", "10m")
	if !strings.HasPrefix(out, url+"/portal/open?token=hkp_") || strings.Count(out, "\n") != 1 {
		t.Errorf("portal printed %q, want the link alone", out)
	}
	var p struct {
		URL        string `json:"url"`
		ExpireTime string `json:"expire_time"`
	}
	decode(t, e.must(t, "", "portal", "-o", "json"), &p)
	if !strings.HasPrefix(p.URL, url+"/portal/open?token=hkp_") || p.ExpireTime == "" {
		t.Errorf("portal -o json = %+v", p)
	}
}

func TestExitCodesOfFailures(t *testing.T) {
	url := newAPI(t)
	tenantEnv(t, url, "acme")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	for _, tc := range []struct {
		name string
		env  *testEnv
		args []string
		want int
	}{
		{"not logged in", newTestEnv(t), []string{"endpoints", "list", "--tenant", "acme"}, ExitAuth},
		{"wrong key", newTestEnv(t, envURL, url, envKey, "hkr_wrong"), []string{"endpoints", "list", "--tenant", "acme"}, ExitAuth},
		{"no tenant", newTestEnv(t, envURL, url, envKey, testAdminToken), []string{"endpoints", "list"}, ExitUsage},
		{"unreachable", newTestEnv(t, envURL, deadURL, envKey, testAdminToken), []string{"tenants", "list", "--timeout", "2s"}, ExitTemporary},
		{"login with a wrong key", newTestEnv(t), []string{"login", "--url", url, "--tenant", "acme", "--key-stdin"}, ExitAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.env.run(t, "hkr_wrong\n", tc.args...)
			if r.code != tc.want {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, testAdminToken) || strings.Contains(r.stderr, "hkr_wrong") {
				t.Errorf("stderr shows the key: %s", r.stderr)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTailShowsOnlyNewEvents(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	e.must(t, "", "send", "--type", "user.created", "--id", "before", "--data", "{}")

	stdout, stderr := devstack.NewLineWatcher(), devstack.NewLineWatcher()
	ctx, stop := context.WithCancel(t.Context())
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"tail", "--interval", "250ms", "-o", "ndjson"}, Env{
			Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
			Getenv: func(string) string { return "" }, ConfigDir: e.configDir,
		})
	}()
	if _, err := stderr.WaitFor(ctx, "Following tenant acme"); err != nil {
		t.Fatal(err)
	}
	e.must(t, "", "send", "--type", "user.deleted", "--id", "after", "--data", "{}")
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	line, err := stdout.WaitFor(wctx, `"event_id":"after"`)
	if err != nil {
		t.Fatalf("tail did not show the new event: %v", err)
	}
	var rec tailRecord
	decode(t, line, &rec)
	if rec.Kind != "event" || rec.EventType != "user.deleted" {
		t.Errorf("tail's line %s: want the event record of user.deleted", line)
	}
	stop()
	if c := <-code; c != ExitOK {
		t.Errorf("tail stopped by its context: exit %d, want 0", c)
	}
	if n := stdout.Count(`"event_id":"before"`); n != 0 {
		t.Errorf("tail showed the event sent before it started")
	}
}

func TestProducerKeySendsToItsTenants(t *testing.T) {
	url := newAPI(t)
	acme := tenantEnv(t, url, "acme")
	tenantEnv(t, url, "globex")
	admin := newTestEnv(t, envURL, url, envKey, testAdminToken)
	var created struct {
		ID  string `json:"id"`
		Key string `json:"producer_key"`
	}
	decode(t, admin.must(t, "", "producer-keys", "create", "--name", "billing", "--tenant-only", "acme", "-o", "json"), &created)
	if created.Key == "" || strings.Contains(admin.must(t, "", "producer-keys", "list"), created.Key) {
		t.Fatalf("producer-keys create answered %+v; list must not show the key", created)
	}

	// login knows a producer key, which may only send, from a wrong one.
	producer := newTestEnv(t)
	producer.must(t, created.Key+"\n", "login", "--url", url, "--key-stdin")
	if r := newTestEnv(t).run(t, "hkp_wrong\n", "login", "--url", url, "--key-stdin"); r.code != ExitAuth {
		t.Errorf("login with an unknown key: exit %d, want %d", r.code, ExitAuth)
	}
	producer.must(t, "", "send", "--tenant", "acme", "--type", "invoice.paid", "--id", "p-1", "--data", "{}")
	if r := producer.run(t, "", "send", "--tenant", "globex", "--type", "invoice.paid", "--data", "{}"); r.code != ExitAuth {
		t.Errorf("send to a tenant the key may not send to: exit %d, want %d; stderr %s", r.code, ExitAuth, r.stderr)
	}
	r := producer.run(t, `{"type":"invoice.paid","data":{}}`+"\n", "send", "--tenant", "globex", "--batch")
	if r.code != ExitAuth {
		t.Errorf("send --batch to a tenant the key may not send to: exit %d, want %d", r.code, ExitAuth)
	}
	if out := acme.must(t, "", "events", "get", "p-1"); !strings.Contains(out, "invoice.paid") {
		t.Errorf("the producer's event did not reach acme:\n%s", out)
	}
	// A tenant's key sends to its own tenant by the same route.
	acme.must(t, "", "send", "--type", "invoice.paid", "--id", "t-1", "--data", "{}")

	admin.must(t, "", "producer-keys", "revoke", created.ID)
	if r := producer.run(t, "", "send", "--tenant", "acme", "--type", "invoice.paid", "--data", "{}"); r.code != ExitAuth {
		t.Errorf("send with a revoked key: exit %d, want %d", r.code, ExitAuth)
	}
}

func TestReplayArguments(t *testing.T) {
	url := newAPI(t)
	e := tenantEnv(t, url, "acme")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"replay"}, ExitUsage},
		{[]string{"replay", "evt_x:ep_y", "--all"}, ExitUsage},
		{[]string{"replay", "evt_x:ep_y", "--endpoint", "ep_y"}, ExitUsage},
		{[]string{"replay", "--all", "--since", "soon"}, ExitUsage},
		{[]string{"replay", "evt_x:ep_y"}, ExitNotFound},
	} {
		if r := e.run(t, "", tc.args...); r.code != tc.want {
			t.Errorf("%s: exit %d, want %d; stderr %s", strings.Join(tc.args, " "), r.code, tc.want, r.stderr)
		}
	}
	var started struct {
		ReplayID string `json:"replay_id"`
	}
	decode(t, e.must(t, "", "replay", "--all", "--no-wait", "-o", "json"), &started)
	if !strings.HasPrefix(started.ReplayID, "rp_") {
		t.Errorf("replay --all --no-wait answered %+v", started)
	}
}
