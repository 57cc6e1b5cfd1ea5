package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestLogLineHasCloudLoggingFields(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 0)
	tr, ok := TraceFromHeaders("proj", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	if !ok {
		t.Fatal("traceparent not parsed")
	}
	l.WarnContext(WithTrace(context.Background(), tr), "slow receiver", "tenant_id", "acme")

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
	}
	want := map[string]any{
		"severity":                             "WARNING",
		"message":                              "slow receiver",
		"tenant_id":                            "acme",
		"logging.googleapis.com/trace":         "projects/proj/traces/4bf92f3577b34da6a3ce929d0e0e4736",
		"logging.googleapis.com/spanId":        "00f067aa0ba902b7",
		"logging.googleapis.com/trace_sampled": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestTraceFromCloudTraceHeader(t *testing.T) {
	tr, ok := TraceFromHeaders("proj", "", "105445aa7843bc8bf206b12000100000/1;o=1")
	if !ok || tr.Name != "projects/proj/traces/105445aa7843bc8bf206b12000100000" || tr.SpanID != "1" || !tr.Sampled {
		t.Errorf("TraceFromHeaders = %+v, %v", tr, ok)
	}
	if _, ok := TraceFromHeaders("proj", "garbage", ""); ok {
		t.Error("garbage traceparent accepted")
	}
}

func TestLogLineNamesTheCurrentSpan(t *testing.T) {
	parent, _ := TraceFromHeaders("proj", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	span := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		wantTrace string
		wantSpan  string
	}{
		{"span with project", WithProject(WithTrace(span, parent), "proj"), "projects/proj/traces/0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{"no span: the headers' trace", WithProject(WithTrace(context.Background(), parent), "proj"), parent.Name, "00f067aa0ba902b7"},
		{"span but no project", WithTrace(span, parent), parent.Name, "00f067aa0ba902b7"},
		{"neither", span, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(&buf, 0).InfoContext(tc.ctx, "attempt")
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if tr, _ := got["logging.googleapis.com/trace"].(string); tr != tc.wantTrace {
				t.Errorf("trace = %q, want %q", tr, tc.wantTrace)
			}
			if sp, _ := got["logging.googleapis.com/spanId"].(string); sp != tc.wantSpan {
				t.Errorf("spanId = %q, want %q", sp, tc.wantSpan)
			}
		})
	}
}

// TestSeverityNames: each level is written under Cloud Logging's name for
// it (WARNING, not slog's WARN).
func TestSeverityNames(t *testing.T) {
	for lvl, want := range map[slog.Level]string{
		slog.LevelDebug: "DEBUG", slog.LevelInfo: "INFO", slog.LevelWarn: "WARNING", slog.LevelError: "ERROR", slog.LevelError + 4: "ERROR+4",
	} {
		var buf bytes.Buffer
		New(&buf, slog.LevelDebug).Log(context.Background(), lvl, "m")
		var got map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
		}
		if got["severity"] != want {
			t.Errorf("level %d: severity %v, want %s", lvl, got["severity"], want)
		}
	}
}

// BenchmarkLogLine is a delivery attempt's line, as the dispatcher writes
// one for every attempt.
func BenchmarkLogLine(b *testing.B) {
	l := New(io.Discard, slog.LevelInfo)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "delivery attempt",
			slog.String("tenant_id", "acme"), slog.String("event_id", "evt_2Yk4mQe8H1rX"), slog.String("event_type", "user.created"),
			slog.String("endpoint_id", "ep_1"), slog.String("webhook_id", "msg_2Yk4mQe8H1rXabcdef"), slog.Int("attempt", 1),
			slog.Int("status", 204), slog.Float64("latency_ms", 1.234), slog.String("state", "succeeded"))
	}
}
