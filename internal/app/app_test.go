package app

import (
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/settings"
)

func TestCommonValidate(t *testing.T) {
	ok := Common{Port: 8080, ProjectID: "p", EventRetention: 720 * time.Hour, CallTimeout: 10 * time.Second}
	for _, c := range []struct {
		name    string
		edit    func(*Common)
		wantErr string
	}{
		{"defaults", func(*Common) {}, ""},
		{"profiler on IPv4 loopback", func(c *Common) { c.PprofAddr = "127.0.0.1:6060" }, ""},
		{"profiler on IPv6 loopback", func(c *Common) { c.PprofAddr = "[::1]:6060" }, ""},
		{"profiler on every interface", func(c *Common) { c.PprofAddr = ":6060" }, "HOOKRUN_PPROF_ADDR"},
		{"profiler on a public interface", func(c *Common) { c.PprofAddr = "0.0.0.0:6060" }, "HOOKRUN_PPROF_ADDR"},
		{"profiler without a port", func(c *Common) { c.PprofAddr = "127.0.0.1" }, "HOOKRUN_PPROF_ADDR"},
		{"port out of range", func(c *Common) { c.Port = 70000 }, "PORT"},
		{"retention too short", func(c *Common) { c.EventRetention = time.Minute }, "HOOKRUN_EVENT_RETENTION"},
		{"no call timeout", func(c *Common) { c.CallTimeout = 0 }, "HOOKRUN_CALL_TIMEOUT"},
		{"metrics endpoint", func(c *Common) { c.MetricsPort = 9464 }, ""},
		{"metrics on the API's port", func(c *Common) { c.MetricsPort = 8080 }, "HOOKRUN_METRICS_PORT"},
		{"metrics port out of range", func(c *Common) { c.MetricsPort = -1 }, "HOOKRUN_METRICS_PORT"},
		{"metrics to Cloud Monitoring", func(c *Common) { c.MetricsExporter = "gcp" }, ""},
		{"metrics exporter unknown", func(c *Common) { c.MetricsExporter = "otlp" }, "OTEL_METRICS_EXPORTER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			err := cfg.Validate()
			if c.wantErr == "" && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, c.wantErr)
			}
		})
	}
}

// HOOKRUN_CALL_TIMEOUT's declared default is the adapters' own when given
// none (gcpcall.DefaultTimeout), so that a Common built in Go, as the
// tests build it, and one read from the environment bound calls alike.
func TestCallTimeoutDefaultIsTheAdapters(t *testing.T) {
	var c Common
	settings.Defaults(&c)
	if c.CallTimeout != gcpcall.DefaultTimeout {
		t.Errorf("HOOKRUN_CALL_TIMEOUT defaults to %v, the adapters to %v (gcpcall.DefaultTimeout): make them agree", c.CallTimeout, gcpcall.DefaultTimeout)
	}
}
