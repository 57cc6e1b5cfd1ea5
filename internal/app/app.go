// Package app is what the Cloud Run mains share: the environment settings
// every service reads, opening the Firestore and Secret Manager adapters
// from them, and serving until SIGTERM. Mains only wire; this keeps them
// from repeating each other.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"golang.org/x/sync/errgroup"

	"github.com/hookrun/hookrun/internal/firestore"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/logging"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/telemetry"
	"github.com/hookrun/hookrun/internal/writebehind"
)

// Common holds the settings every hookrun service reads.
type Common struct {
	// Port is set by Cloud Run.
	Port int `env:"PORT" envDefault:"8080"`
	// Host to listen on; Cloud Run needs all interfaces, the local stack
	// sets 127.0.0.1.
	Host string `env:"HOOKRUN_LISTEN_HOST" envDefault:""`
	// ProjectID is the Google Cloud project of Pub/Sub, Firestore and
	// Secret Manager.
	ProjectID string `env:"GOOGLE_CLOUD_PROJECT,required"`
	// FirestoreDatabase is the Firestore database ID.
	FirestoreDatabase string `env:"HOOKRUN_FIRESTORE_DATABASE" envDefault:"(default)"`
	// SecretManagerEndpoint points the Secret Manager client at the local
	// emulator (plaintext, no auth). Empty in production.
	SecretManagerEndpoint string `env:"HOOKRUN_SECRETMANAGER_ENDPOINT"`
	// EventRetention is how long events and deliveries are kept (the
	// Firestore TTL field).
	EventRetention time.Duration `env:"HOOKRUN_EVENT_RETENTION" envDefault:"720h"`
	// CallTimeout bounds each call to Firestore, Secret Manager and Cloud
	// Tasks, whatever the caller's deadline (internal/gcpcall): a hung
	// service is a 503 after it, on work detached from its request too.
	CallTimeout time.Duration `env:"HOOKRUN_CALL_TIMEOUT" envDefault:"10s"`
	// PprofAddr, when set, serves net/http/pprof on this loopback address
	// (127.0.0.1:6060, say) for profiling on a developer's machine; Cloud
	// Run routes only PORT, so production leaves it empty.
	PprofAddr string `env:"HOOKRUN_PPROF_ADDR"`
	// MetricsPort, when not 0, serves the service's metrics in the
	// Prometheus text format at /metrics on Host:MetricsPort, a port of
	// its own so that the API never shows them. 0 serves none: Cloud Run
	// routes only PORT, so production leaves it 0 and pushes to Cloud
	// Monitoring instead (MetricsExporter).
	MetricsPort int `env:"HOOKRUN_METRICS_PORT"`
	// MetricsExporter is where metrics are pushed: "gcp" (Cloud
	// Monitoring, every metrics.ExportInterval) or "none". The name is
	// OpenTelemetry's variable; its other values (otlp, prometheus) are
	// refused, since the Prometheus endpoint is MetricsPort.
	MetricsExporter string `env:"OTEL_METRICS_EXPORTER" envDefault:"none"`
}

// Addr is the listen address.
func (c Common) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Validate reports what is wrong with c.
func (c Common) Validate() error {
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("PORT %d is out of range", c.Port)
	}
	if c.EventRetention < time.Hour {
		return errors.New("HOOKRUN_EVENT_RETENTION must be at least 1h")
	}
	if c.CallTimeout <= 0 {
		return fmt.Errorf("HOOKRUN_CALL_TIMEOUT %v must be positive", c.CallTimeout)
	}
	if c.MetricsPort < 0 || c.MetricsPort > 65535 || (c.MetricsPort != 0 && c.MetricsPort == c.Port) {
		return fmt.Errorf("HOOKRUN_METRICS_PORT %d: want 0 (no endpoint) or a port other than PORT", c.MetricsPort)
	}
	if err := c.metrics("").Validate(); err != nil {
		return err
	}
	if c.PprofAddr != "" {
		// Profiles show request data: never on an interface others reach.
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("HOOKRUN_PPROF_ADDR %q: want a loopback address and port, such as 127.0.0.1:6060", c.PprofAddr)
		}
	}
	return nil
}

// LoadEnv fills cfg (a pointer to a struct with env tags, usually
// embedding Common) from the environment and validates it.
func LoadEnv(cfg interface{ Validate() error }) error {
	if err := env.Parse(cfg); err != nil {
		return fmt.Errorf("read configuration from the environment: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// metrics is the metrics configuration of service.
func (c Common) metrics(service string) metrics.Config {
	return metrics.Config{Service: service, ProjectID: c.ProjectID, Exporter: c.MetricsExporter, Prometheus: c.MetricsPort != 0}
}

// StartMetrics sets up the metrics of service as c says. Its Recorder is
// nil when they go nowhere; Serve serves its Prometheus endpoint.
func StartMetrics(ctx context.Context, c Common, service string) (*metrics.Provider, error) {
	return metrics.Start(ctx, c.metrics(service))
}

// Stores are the adapters both services use.
type Stores struct {
	Firestore *firestore.Store
	Secrets   *secretmanager.Store
}

// OpenStores connects to Firestore and Secret Manager; m (may be nil)
// counts their failed calls.
func OpenStores(ctx context.Context, c Common, m *metrics.Recorder) (*Stores, error) {
	fs, err := firestore.New(ctx, firestore.Config{ProjectID: c.ProjectID, DatabaseID: c.FirestoreDatabase, EventRetention: c.EventRetention, CallTimeout: c.CallTimeout, Metrics: m})
	if err != nil {
		return nil, err
	}
	sm, err := secretmanager.New(ctx, secretmanager.Config{ProjectID: c.ProjectID, Endpoint: c.SecretManagerEndpoint, CallTimeout: c.CallTimeout, Metrics: m})
	if err != nil {
		fs.Close()
		return nil, err
	}
	return &Stores{Firestore: fs, Secrets: sm}, nil
}

// Close closes both adapters.
func (s *Stores) Close() error {
	return errors.Join(s.Firestore.Close(), s.Secrets.Close())
}

// Main runs a service: it sets up logging, calls run with a context that
// ends on SIGINT or SIGTERM, and exits non-zero when run fails.
//
// Tracing is set up first, from the OTEL_* variables (internal/telemetry),
// and flushed within telemetryFlush once run returns, failed or not.
func Main(name string, run func(ctx context.Context) error) {
	logging.Setup().Info("starting", "service", name)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, name, telemetry.FromEnv())
	if err == nil {
		err = run(ctx)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryFlush)
		if ferr := shutdown(fctx); ferr != nil {
			slog.Warn("flush traces", "service", name, "error", ferr.Error())
		}
		cancel()
	}
	if err != nil {
		slog.Error("exiting", "service", name, "error", err.Error())
		os.Exit(1)
	}
	slog.Info("stopped", "service", name)
}

// telemetryFlush bounds exporting the last spans at exit: what Cloud Run
// leaves of its 10 s after SIGTERM once the server's ShutdownBudget is
// spent may be less, and spans not out by then are lost, not waited for.
const telemetryFlush = 5 * time.Second

// pprofTimeout bounds a profiler request: a CPU profile lasts as long as
// asked (scripts/bench asks for a scenario's length), and the profiler
// refuses one longer than its server's write timeout.
const pprofTimeout = 10 * time.Minute

// metricsTimeout bounds a scrape of the metrics endpoint.
const metricsTimeout = 10 * time.Second

// Serve serves h on c's address with the timeouts t until ctx ends, the
// profiler on PprofAddr when that is set, and m's Prometheus endpoint on
// MetricsPort when that is set. m may be nil.
func Serve(ctx context.Context, c Common, h http.Handler, t httpapi.Timeouts, m *metrics.Provider) error {
	g, gctx := errgroup.WithContext(ctx)
	if c.PprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		g.Go(func() error { return httpapi.Serve(gctx, c.PprofAddr, mux, httpapi.Timeouts{Request: pprofTimeout}) })
	}
	if m != nil && m.Handler() != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		addr := net.JoinHostPort(c.Host, strconv.Itoa(c.MetricsPort))
		g.Go(func() error { return httpapi.Serve(gctx, addr, mux, httpapi.Timeouts{Request: metricsTimeout}) })
	}
	g.Go(func() error { return httpapi.Serve(gctx, c.Addr(), h, t) })
	return g.Wait()
}

// FlushAtShutdown runs a service's last Flush once Serve has returned
// (SIGTERM: the server stopped taking requests and its requests ended),
// within writebehind.ShutdownTimeout, so that the records it still holds
// (what) are written before its store closes. It returns serveErr joined
// with the flush's error, which is logged.
func FlushAtShutdown(ctx context.Context, what string, flush func(context.Context) error, serveErr error) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writebehind.ShutdownTimeout)
	defer cancel()
	if err := flush(fctx); err != nil {
		slog.Error(what+" not written at shutdown", "error", err.Error())
		return errors.Join(serveErr, err)
	}
	return serveErr
}
