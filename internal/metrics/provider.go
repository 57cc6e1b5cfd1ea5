package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gcpmetric "github.com/GoogleCloudPlatform/opentelemetry-operations-go/exporter/metric"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/detectors/gcp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Exporters, the values of Config.Exporter (OTEL_METRICS_EXPORTER).
const (
	// ExporterNone pushes metrics nowhere; a Prometheus endpoint may still
	// serve them.
	ExporterNone = "none"
	// ExporterGCP pushes them to Cloud Monitoring every ExportInterval, as
	// workload.googleapis.com/<instrument name>.
	ExporterGCP = "gcp"
)

// ExportInterval is how often metrics are pushed to Cloud Monitoring: its
// shortest sampling period for a time series is 10 s, and a minute keeps
// the write cost low while alerts still fire within minutes.
const ExportInterval = time.Minute

// Config says where a service's metrics go.
type Config struct {
	// Service names the service (ingest, dispatcher): the service.name of
	// the resource every point is reported for.
	Service string
	// ProjectID is the Cloud Monitoring project (ExporterGCP).
	ProjectID string
	// Exporter is ExporterGCP or ExporterNone ("" is none).
	Exporter string
	// Prometheus, when true, makes Provider.Handler serve the Prometheus
	// text format.
	Prometheus bool
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	switch c.Exporter {
	case "", ExporterNone, ExporterGCP:
		return nil
	}
	return fmt.Errorf("OTEL_METRICS_EXPORTER %q: want %s or %s (the Prometheus endpoint is HOOKRUN_METRICS_PORT)", c.Exporter, ExporterGCP, ExporterNone)
}

// Provider is a service's meter provider with hookrun's instruments.
type Provider struct {
	// Recorder records on the provider; nil when no exporter is on.
	Recorder *Recorder
	mp       *sdkmetric.MeterProvider
	handler  http.Handler
}

// Start sets up the exporters c asks for. With none, it returns a Provider
// whose Recorder is nil: recording costs nothing.
func Start(ctx context.Context, c Config) (*Provider, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var p Provider
	var opts []sdkmetric.Option
	if c.Prometheus {
		// A registry of its own: only hookrun's metrics, not the Go
		// runtime's that the default registry adds.
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("prometheus exporter: %w", err)
		}
		opts = append(opts, sdkmetric.WithReader(exp))
		p.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	res := []resource.Option{resource.WithAttributes(attribute.String("service.name", c.Service))}
	if c.Exporter == ExporterGCP {
		exp, err := gcpmetric.New(gcpmetric.WithProjectID(c.ProjectID))
		if err != nil {
			return nil, fmt.Errorf("cloud monitoring exporter: %w", err)
		}
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(ExportInterval))))
		// Cloud Run's instance ID tells apart the series that instances
		// write at once, which Cloud Monitoring would otherwise refuse.
		res = append(res, resource.WithDetectors(gcp.NewDetector()))
	}
	if len(opts) == 0 {
		return &p, nil
	}
	r, err := resource.New(ctx, res...)
	if err != nil && r == nil {
		return nil, fmt.Errorf("metrics resource: %w", err)
	}
	p.mp = sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithResource(r))...)
	if p.Recorder, err = New(p.mp); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return &p, nil
}

// Handler serves the metrics in the Prometheus text format; nil unless
// Config.Prometheus.
func (p *Provider) Handler() http.Handler { return p.handler }

// shutdownTimeout bounds the last push at shutdown: Cloud Run gives a
// stopping instance 10 s after SIGTERM, the server's own shutdown included.
const shutdownTimeout = 5 * time.Second

// Close pushes what is left to Cloud Monitoring, within shutdownTimeout,
// and stops the exporters.
func (p *Provider) Close() error {
	if p.mp == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return p.mp.Shutdown(ctx)
}
