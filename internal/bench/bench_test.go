package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/testenv"
	"github.com/hookrun/hookrun/internal/wire"
)

// TestQuickRun is scripts/bench -quick as CI runs it: every scenario runs
// against the real emulators and yields its figures. It asserts that the
// harness works and nothing was lost, never a figure: CI machines are
// noisy.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	pubsubHost, firestoreHost := testenv.PubSubHost(t), testenv.FirestoreHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	profiles := t.TempDir()
	res, err := Run(ctx, Config{
		Quick: true,
		// Half of -quick's windows: the test checks the harness, not the
		// figures, and eight load scenarios of 2.5 s each were most of its
		// time. Twice Validate's floor, so each window still sees work.
		Duration:      time.Second,
		Warmup:        250 * time.Millisecond,
		ColdStarts:    2,
		ProfileDir:    profiles,
		ProjectID:     testenv.ProjectID(t),
		PubSubHost:    pubsubHost,
		FirestoreHost: firestoreHost,
		Log:           slog.New(slog.NewTextHandler(testLog{t}, nil)),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	var names []string
	for _, s := range res.Scenarios {
		names = append(names, s.Name)
	}
	want := []string{"baseline", "ingest", "push ceiling", "pull ceiling", "end to end", "end to end, pull", "dispatcher", "fan-out 10", "fan-out 100", "retry", "receiver", "cold start", "ingest batch"}
	if !slices.Equal(names, want) {
		t.Fatalf("scenarios = %q, want %q", names, want)
	}
	find := func(scenario, name string) Figure {
		t.Helper()
		for _, s := range res.Scenarios {
			for _, f := range s.Figures {
				if s.Name == scenario && f.Name == name {
					return f
				}
			}
		}
		t.Fatalf("no figure %q in scenario %q", name, scenario)
		return Figure{}
	}
	fig := func(scenario, name string) float64 { t.Helper(); return find(scenario, name).Value }
	for _, s := range res.Scenarios {
		for _, f := range s.Figures {
			if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || f.Value < 0 {
				t.Errorf("%s / %s = %v", s.Name, f.Name, f.Value)
			}
		}
	}
	// What a working harness must see, whatever the machine.
	for _, c := range []struct{ scenario, name string }{
		{"baseline", "requests/s"},
		{"ingest", "events/s accepted"},
		{"ingest", "ingest CPU per event"},
		{"ingest batch", "events/s accepted"},
		{"ingest batch", "ingest CPU per event"},
		{"ingest batch", "of single posts' CPU per event"},
		{"push ceiling", "pushes/s"},
		{"push ceiling", "publish → arrived p50"},
		{"pull ceiling", "messages/s"},
		{"pull ceiling", "publish → arrived p50"},
		{"end to end, pull", "of pull ceiling"},
		{"end to end", "deliveries/s"},
		{"end to end", "dispatcher CPU per delivery"},
		{"end to end", "dispatcher peak RSS"},
		{"end to end, pull", "deliveries/s"},
		{"end to end, pull", "dispatcher CPU per delivery"},
		{"dispatcher", "deliveries/s"},
		{"dispatcher", "dispatcher CPU per delivery"},
		{"fan-out 100", "deliveries/s"},
		{"retry", "dispatcher CPU per delivery, retried"},
		{"cold start", "dispatcher start → healthy"},
		{"receiver", "webhooks/s"},
		{"receiver", "receiver peak RSS"},
		{"cold start", "cold dispatcher and ingest: start → first delivery"},
	} {
		if v := fig(c.scenario, c.name); v <= 0 {
			t.Errorf("%s / %s = %v, want > 0", c.scenario, c.name, v)
		}
	}
	// The CPU targets are multiples of the bare handler measured just
	// before each scenario that has them.
	for _, c := range []struct {
		scenario, name string
		times          float64
	}{
		{"ingest", "ingest CPU per event", ingestCPUTimes},
		{"end to end", "dispatcher CPU per delivery", dispatcherCPUTimes},
		{"end to end, pull", "dispatcher CPU per delivery", dispatcherCPUTimes},
		{"dispatcher", "dispatcher CPU per delivery", dispatcherCPUTimes},
		{"fan-out 10", "dispatcher CPU per delivery", dispatcherCPUTimes},
		{"fan-out 100", "dispatcher CPU per delivery", dispatcherCPUTimes},
		{"ingest batch", "ingest CPU per event", batchCPUTimes},
	} {
		base := fig(c.scenario, rebasedFigure)
		if base <= 0 {
			t.Errorf("%s / %s = %v, want > 0", c.scenario, rebasedFigure, base)
		}
		if f := find(c.scenario, c.name); f.Target == nil || f.Target.AtMost == nil || math.Abs(*f.Target.AtMost-c.times*base) > 1e-6*base {
			t.Errorf("%s / %s: target %+v, want at most %v × %v", c.scenario, c.name, f.Target, c.times, base)
		}
	}

	// Nothing accepted may be lost, under load or not.
	for _, c := range []struct{ scenario, name string }{
		{"ingest", "failed requests"},
		{"ingest batch", "failed requests"},
		{"ingest batch", "refused events"},
		{"push ceiling", "not arrived after drain"},
		{"pull ceiling", "not arrived after drain"},
		{"end to end", "failed requests"},
		{"end to end", "undelivered after drain"},
		{"end to end, pull", "failed requests"},
		{"end to end, pull", "undelivered after drain"},
		{"dispatcher", "failed requests"},
		{"receiver", "failed requests"},
	} {
		if v := fig(c.scenario, c.name); v != 0 {
			t.Errorf("%s / %s = %v, want 0", c.scenario, c.name, v)
		}
	}

	// -profile: a CPU profile per profiled service and load scenario.
	for _, name := range []string{"ingest-ingest", "batch-ingest", "e2e-ingest", "e2e-dispatcher", "e2epull-dispatcher", "push-dispatcher", "fan100-dispatcher"} {
		if fi, err := os.Stat(filepath.Join(profiles, name+".pprof")); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s.pprof: %v", name, err)
		}
	}

	path := filepath.Join(t.TempDir(), "results.json")
	if err := res.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json does not parse: %v", err)
	}
	if back.Machine.Cores < 1 || !back.Quick || len(back.Scenarios) != len(want) {
		t.Errorf("results.json round trip: cores %d, quick %v, %d scenarios", back.Machine.Cores, back.Quick, len(back.Scenarios))
	}
}

// testLog shows the run's progress in the test's output.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func TestSink(t *testing.T) {
	s, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	post := func(path, webhookID, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
		req.Header.Set("webhook-id", webhookID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if strings.Contains(body, wire.ChallengeEventType) {
			var v wire.Challenge
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Challenge != "c-123" {
				t.Errorf("challenge answer = %+v, %v; want c-123", v, err)
			}
		}
		return resp.StatusCode
	}

	if got := post("/e2e/0", "", `{"type":"webhook.verification","data":{"challenge":"c-123"}}`); got != http.StatusOK {
		t.Errorf("challenge: status %d, want 200", got)
	}
	start := time.Now()
	for _, c := range []struct {
		path, webhookID, body string
		want                  int
	}{
		{"/fan2/0", "msg_a", `{"id":"evt_1"}`, http.StatusNoContent},
		{"/fan2/0", "msg_a", `{"id":"evt_1"}`, http.StatusNoContent}, // a duplicate reaches no new path
		{"/fan2/1", "msg_b", `{"id":"evt_1"}`, http.StatusNoContent},
		{"/" + failFirst + "/0", "msg_c", `{"id":"evt_2"}`, http.StatusInternalServerError},
		{"/" + failFirst + "/0", "msg_c", `{"id":"evt_2"}`, http.StatusNoContent},
		{"/ceiling/0", "", `{"message":{"messageId":"42"}}`, http.StatusNoContent},
		{"/e2e/0", "", `not json`, http.StatusBadRequest},
	} {
		if got := post(c.path, c.webhookID, c.body); got != c.want {
			t.Errorf("POST %s %s: status %d, want %d", c.path, c.body, got, c.want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if missing := s.wait(ctx, "fan2", []string{"evt_1"}, 2); missing != 0 {
		t.Errorf("evt_1 at 2 paths of fan2: %d missing", missing)
	}
	if missing := s.wait(ctx, failFirst, []string{"evt_2"}, 1); missing != 0 {
		t.Errorf("evt_2 after its retry: %d missing", missing)
	}
	if missing := s.wait(ctx, "ceiling", []string{"42"}, 1); missing != 0 {
		t.Errorf("ceiling message 42 missing, want it counted by its Pub/Sub message ID")
	}
	if got := s.deliveredBetween("fan2", start, time.Now().Add(time.Second)); got != 3 {
		t.Errorf("fan2 deliveries = %d, want 3 (duplicates count as deliveries)", got)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if missing := s.wait(short, "fan2", []string{"evt_1", "evt_9"}, 1); missing != 1 {
		t.Errorf("wait for an event that never came: %d missing, want 1", missing)
	}
}

func TestEventBodyIsOneKiBOfJSON(t *testing.T) {
	b := eventBody("bench.e2e")
	if len(b) != payloadBytes {
		t.Errorf("len = %d, want %d", len(b), payloadBytes)
	}
	var v struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Type != "bench.e2e" || len(v.Data) == 0 {
		t.Errorf("body does not decode as an event: %v, %+v", err, v)
	}
}

func TestBatchBodyIsABatchOfEventBodies(t *testing.T) {
	var v struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(batchBody("bench.batch", 3), &v); err != nil || len(v.Events) != 3 {
		t.Fatalf("batch body: %v, %d events; want 3", err, len(v.Events))
	}
	for i, e := range v.Events {
		if !bytes.Equal(e, eventBody("bench.batch")) {
			t.Errorf("events[%d] = %s, want the producers' payload", i, e)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{}, ""},
		{"quick", Config{Quick: true}, ""},
		{"too short for CPU ticks", Config{Duration: 100 * time.Millisecond}, "at least 500ms"},
		{"negative warm-up", Config{Warmup: -time.Second}, "negative"},
		{"no producers", Config{Producers: -1}, "producers"},
		{"too many cold starts", Config{ColdStarts: 1000}, "cold starts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.wantErr == "" && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.wantErr)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {0, 1}, {1, 10}} {
		if got := percentile(ds, c.q); got != c.want {
			t.Errorf("percentile(q=%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	if !slices.Equal(ds, []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}) {
		t.Error("percentile reordered its input")
	}
}

func TestTableMarksMissedTargets(t *testing.T) {
	r := &Results{Machine: Machine{Cores: 2, CPU: "test cpu"}, Scenarios: []Scenario{{
		Name: "ingest",
		Figures: []Figure{
			atMost(figure("ingest CPU per event", 180, "µs"), 150),
			atLeast(figure("of push ceiling", 95, "%"), 90),
			figure("events/s accepted", 1234.5, "/s"),
		},
	}}}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"2 cores, test cpu", "180 µs", "≤ 150 µs MISSED", "≥ 90.0% met", "1234/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestScenarioSelection(t *testing.T) {
	for _, c := range []struct {
		list string
		want []string
	}{
		{"ingest", []string{"baseline", "ingest"}},
		{"baseline", []string{"baseline"}},
		// The ceilings are what end to end is a % of: the push ceiling
		// either way, the pull ceiling too by pull.
		{"e2e", []string{"baseline", "push ceiling", "end to end"}},
		{" batch , e2epull,", []string{"baseline", "ingest", "push ceiling", "pull ceiling", "end to end, pull", "ingest batch"}},
		{"pullceiling", []string{"baseline", "pull ceiling"}},
		// Cold start sends through end to end's tenant, which needs the
		// push ceiling, and restarts the receiver the receiver scenario
		// starts.
		{"cold", []string{"baseline", "push ceiling", "end to end", "receiver", "cold start"}},
		{"receiver,fan10,push,ingest", []string{"baseline", "ingest", "dispatcher", "fan-out 10", "receiver"}},
	} {
		names, err := ParseScenarios(c.list)
		if err != nil {
			t.Errorf("ParseScenarios(%q): %v", c.list, err)
			continue
		}
		sel, err := selectScenarios(names)
		if err != nil {
			t.Fatalf("selectScenarios(%q): %v", names, err)
		}
		var got []string
		for _, s := range sel {
			got = append(got, s.name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("-scenarios %q runs %q, want %q", c.list, got, c.want)
		}
	}

	all, err := selectScenarios(nil)
	if err != nil || len(all) != len(ScenarioNames()) {
		t.Errorf("no names selects %d scenarios (%v), want all %d", len(all), err, len(ScenarioNames()))
	}

	for _, list := range []string{"ingest,end to end", "", " , ", "INGEST"} {
		_, err := ParseScenarios(list)
		if err == nil || !strings.Contains(err.Error(), strings.Join(ScenarioNames(), ", ")) {
			t.Errorf("ParseScenarios(%q) = %v, want an error listing the scenarios", list, err)
		}
	}
	if err := (Config{Scenarios: []string{"fan-out 10"}}).Validate(); err == nil {
		t.Error("Validate accepted an unknown scenario")
	}
}

// TestScenarioNeedsRunFirst: a scenario's needs must come before it in the
// run list, as it reads their figures or tenant.
func TestScenarioNeedsRunFirst(t *testing.T) {
	for i, s := range scenarios {
		for _, n := range s.needs {
			j := slices.IndexFunc(scenarios, func(s scenario) bool { return s.slug == n })
			if j < 0 || j >= i {
				t.Errorf("scenario %s needs %q, which is not before it in the run list", s.slug, n)
			}
		}
	}
}
