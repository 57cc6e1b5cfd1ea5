package receiver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// The sender's trace: what hookrun's dispatcher sends in traceparent to an
// endpoint whose propagate_trace is on.
const (
	senderTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	senderSpanID  = "00f067aa0ba902b7"
	senderParent  = "00-" + senderTraceID + "-" + senderSpanID + "-01"
	// pushParent is the trace Cloud Run starts for a Pub/Sub push, which
	// carries none of its own.
	pushParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
)

// recordSpans makes an in-memory exporter's provider the global one until
// the test ends. Tests using it must not run in parallel.
func recordSpans(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	return spans
}

// span returns the one span named name of kind, failing the test unless
// there is exactly one.
func span(t *testing.T, spans *tracetest.InMemoryExporter, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	var all []string
	for _, s := range spans.GetSpans() {
		all = append(all, s.Name+" ("+s.SpanKind.String()+")")
		if s.Name == name && s.SpanKind == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans %q of kind %v, want 1; spans: %v", len(found), name, kind, all)
	}
	return found[0]
}

// checkChild fails the test unless s is in the sender's trace, a child of
// parent.
func checkChild(t *testing.T, s tracetest.SpanStub, parent string) {
	t.Helper()
	if got := s.SpanContext.TraceID().String(); got != senderTraceID {
		t.Errorf("span %q is in trace %s, want the sender's %s", s.Name, got, senderTraceID)
	}
	if got := s.Parent.SpanID().String(); got != parent {
		t.Errorf("span %q has parent %s, want %s", s.Name, got, parent)
	}
}

// traceparent is the header value that continues s.
func traceparent(s tracetest.SpanStub) string {
	return "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
}

// TestTraceThroughPubSubHandoff sends a webhook with the sender's
// traceparent, hands it off to a topic, and pushes the message back to
// POST /process: the server span, the publish and the processing are one
// trace, the sender's, and the handler's log lines name its span.
func TestTraceThroughPubSubHandoff(t *testing.T) {
	spans := recordSpans(t)
	logs := captureLogs(t)
	secret, key := newSecret(t)
	pub := &fakePublisher{}
	rc := newReceiver(t, Config{Secret: secret, ProcessAuth: ProcessNone}, Deps{
		Handoff: topicHandoff{pub: pub, topic: "projects/p/topics/webhooks"},
		Handle: func(ctx context.Context, wh Webhook) error {
			slog.InfoContext(ctx, "slow work", "webhook_id", wh.ID)
			return nil
		},
	})
	h := Handler("proj", rc)

	r := signedRequest("msg_1", testNow, testBody, key)
	r.Header.Set("traceparent", senderParent)
	if w := serve(h, r); w.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", w.Code, w.Body)
	}
	server := span(t, spans, "POST webhook", trace.SpanKindServer)
	checkChild(t, server, senderSpanID)
	publish := span(t, spans, "webhooks publish", trace.SpanKindProducer)
	checkChild(t, publish, server.SpanContext.SpanID().String())
	if got, want := pub.attrs[TraceAttrPrefix+"traceparent"], traceparent(publish); got != want {
		t.Errorf("message attribute %straceparent = %q, want %q", TraceAttrPrefix, got, want)
	}
	if pub.attrs[AttrWebhookID] != "msg_1" {
		t.Errorf("message attributes %v lost the webhook's", pub.attrs)
	}

	env, err := json.Marshal(pushEnvelope{Subscription: "projects/p/subscriptions/webhooks-process",
		Message: pushMessage{Data: pub.data, Attributes: pub.attrs, MessageID: "m-1"}})
	if err != nil {
		t.Fatal(err)
	}
	push := httptest.NewRequest(http.MethodPost, ProcessPath, strings.NewReader(string(env)))
	push.Header.Set("Content-Type", "application/json")
	push.Header.Set("traceparent", pushParent)
	if w := serve(h, push); w.Code != http.StatusNoContent {
		t.Fatalf("process: %d %s", w.Code, w.Body)
	}
	pushSpan := span(t, spans, "POST /process", trace.SpanKindServer)
	process := span(t, spans, "webhooks-process process", trace.SpanKindConsumer)
	checkChild(t, process, publish.SpanContext.SpanID().String())
	if len(process.Links) != 1 || process.Links[0].SpanContext.SpanID() != pushSpan.SpanContext.SpanID() {
		t.Errorf("process span links %v, want the push request's span %s", process.Links, pushSpan.SpanContext.SpanID())
	}

	// Each line names the span it was logged in.
	lineSpans := map[string]tracetest.SpanStub{"slow work": process}
	for _, l := range logs.Lines(t) {
		if l["message"] == "request" && l["path"] == "/" {
			lineSpans["request"] = server
		}
		s, ok := lineSpans[l["message"].(string)]
		if !ok {
			continue
		}
		if got, want := l[keyTrace], "projects/proj/traces/"+senderTraceID; got != want {
			t.Errorf("%q line: trace %v, want %s", l["message"], got, want)
		}
		if got, want := l[keySpanID], s.SpanContext.SpanID().String(); got != want {
			t.Errorf("%q line: span %v, want %s", l["message"], got, want)
		}
		delete(lineSpans, l["message"].(string))
	}
	if len(lineSpans) != 0 {
		t.Errorf("no log lines %v:\n%s", lineSpans, logs)
	}
}

// TestTraceThroughTasksHandoff hands a webhook off to Cloud Tasks: the
// task's request carries the hand-off span in traceparent, and POST
// /process, called with the task's headers, continues it.
func TestTraceThroughTasksHandoff(t *testing.T) {
	spans := recordSpans(t)
	secret, key := newSecret(t)
	sched := &fakeScheduler{}
	rc := newReceiver(t, Config{Secret: secret, ProcessAuth: ProcessNone}, Deps{
		Handoff: taskHandoff{sched: sched, queue: "projects/p/locations/l/queues/webhooks"},
		Handle:  func(context.Context, Webhook) error { return nil },
	})
	h := Handler("proj", rc)

	r := signedRequest("msg_1", testNow, testBody, key)
	r.Header.Set("traceparent", senderParent)
	if w := serve(h, r); w.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", w.Code, w.Body)
	}
	server := span(t, spans, "POST webhook", trace.SpanKindServer)
	checkChild(t, server, senderSpanID)
	send := span(t, spans, "webhooks send", trace.SpanKindProducer)
	checkChild(t, send, server.SpanContext.SpanID().String())
	if len(sched.tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(sched.tasks))
	}
	for id, body := range sched.tasks {
		header := sched.headers[id]
		if got, want := header["traceparent"], traceparent(send); got != want {
			t.Errorf("task header traceparent = %q, want %q", got, want)
		}
		task := httptest.NewRequest(http.MethodPost, ProcessPath, strings.NewReader(string(body)))
		for k, v := range header {
			task.Header.Set(k, v)
		}
		task.Header.Set("Content-Type", "application/json")
		if w := serve(h, task); w.Code != http.StatusNoContent {
			t.Fatalf("process: %d %s", w.Code, w.Body)
		}
	}
	taskSpan := span(t, spans, "POST /process", trace.SpanKindServer)
	checkChild(t, taskSpan, send.SpanContext.SpanID().String())
	checkChild(t, span(t, spans, "handoff process", trace.SpanKindConsumer), taskSpan.SpanContext.SpanID().String())
}

// Health checks make no spans; a webhook without trace context starts a
// trace of its own.
func TestTraceRoots(t *testing.T) {
	spans := recordSpans(t)
	secret, key := newSecret(t)
	h := Handler("proj", newReceiver(t, Config{Secret: secret}, Deps{Handoff: &fakeHandoff{}}))
	serve(h, httptest.NewRequest(http.MethodGet, HealthPath, nil))
	if got := spans.GetSpans(); len(got) != 0 {
		t.Errorf("GET %s made %d spans, want none", HealthPath, len(got))
	}
	serve(h, signedRequest("msg_1", testNow, testBody, key))
	s := span(t, spans, "POST webhook", trace.SpanKindServer)
	if s.Parent.IsValid() {
		t.Errorf("span of a webhook without traceparent has parent %v, want none", s.Parent)
	}
}

func TestSetupTracing(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		exporter string
		wantErr  string
	}{
		{"off Cloud Run: none", map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, ExporterNone, ""},
		{"Cloud Run without a project: none", map[string]string{"K_SERVICE": "receiver"}, ExporterNone, ""},
		{"console", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, ExporterConsole, ""},
		{"otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ExporterOTLP, ""},
		{"gcp needs a project", map[string]string{"OTEL_TRACES_EXPORTER": "gcp"}, ExporterGCP, "GOOGLE_CLOUD_PROJECT"},
		{"unknown", map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, "jaeger", `"jaeger"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_TRACES_EXPORTER", "K_SERVICE", "GOOGLE_CLOUD_PROJECT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
				t.Setenv(k, tt.env[k])
			}
			t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
			if got := TracesExporter(); got != tt.exporter {
				t.Errorf("TracesExporter() = %q, want %q", got, tt.exporter)
			}
			shutdown, err := SetupTracing(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("SetupTracing: %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetupTracing: %v", err)
			}
			if err := shutdown(t.Context()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
	t.Run("gcp is the default on Cloud Run", func(t *testing.T) {
		t.Setenv("OTEL_TRACES_EXPORTER", "")
		t.Setenv("K_SERVICE", "receiver")
		t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
		if got := TracesExporter(); got != ExporterGCP {
			t.Errorf("TracesExporter() = %q, want %q", got, ExporterGCP)
		}
	})
}
