// Command ingest is hookrun's public API on Cloud Run: producers POST
// events, operators and tenants manage tenants and endpoints. It only wires
// configuration and adapters; the handlers live in internal/ingest.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/cloudtasks"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/ingest"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/oidc"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/telemetry"
)

// config is everything the ingest service reads from its environment. The
// settings of the API are declared in ingest.Config, those of the queue of
// secret retirements in cloudtasks.Config; the ones here only wire.
type config struct {
	app.Common
	Ingest      ingest.Config
	Tasks       cloudtasks.Config
	EventsTopic string `env:"HOOKRUN_EVENTS_TOPIC" envDefault:"events"`
	// RequestTimeout is an API request's budget (httpapi.Timeouts.Request):
	// a dependency that does not answer within it makes the request 503
	// with Retry-After. The ownership challenge of a new endpoint gets
	// what is left of it.
	RequestTimeout time.Duration `env:"HOOKRUN_REQUEST_TIMEOUT" envDefault:"10s"`
	// PublishDelay is the Pub/Sub client's batching delay.
	PublishDelay time.Duration `env:"HOOKRUN_PUBLISH_DELAY" envDefault:"1ms"`

	// The end of a secret rotation's grace period is a Cloud Task calling
	// the dispatcher's /tasks/retire-secret. Without a target URL, old
	// secrets are disabled at the endpoint's next change instead.
	RetireTargetURL string `env:"HOOKRUN_RETIRE_TARGET_URL"`
}

// Validate reports what is wrong with c. A request timeout that is not
// positive is refused by httpapi.Serve.
func (c config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Ingest.PublishTimeout > c.RequestTimeout {
		return fmt.Errorf("HOOKRUN_PUBLISH_TIMEOUT %v is longer than HOOKRUN_REQUEST_TIMEOUT %v, which would end every publish first", c.Ingest.PublishTimeout, c.RequestTimeout)
	}
	return nil
}

func main() { app.Main("ingest", run) }

func run(ctx context.Context) error {
	var cfg config
	if err := app.LoadEnv(&cfg); err != nil {
		return err
	}
	m, err := app.StartMetrics(ctx, cfg.Common, "ingest")
	if err != nil {
		return err
	}
	defer m.Close()
	stores, err := app.OpenStores(ctx, cfg.Common, m.Recorder)
	if err != nil {
		return err
	}
	defer stores.Close()

	pub, err := pubsub.NewPublisher(ctx, pubsub.Config{
		ProjectID:      cfg.ProjectID,
		Topic:          cfg.EventsTopic,
		DelayThreshold: cfg.PublishDelay,
		PublishTimeout: cfg.Ingest.PublishTimeout,
	}, m.Recorder.ClientOptions(metrics.PubSub)...)
	if err != nil {
		return fmt.Errorf("pubsub publisher: %w", err)
	}
	defer pub.Close()
	traced := telemetry.TracedPublisher(pub, cfg.EventsTopic)

	opts := []ingest.Option{ingest.WithMetrics(m.Recorder)}
	if cfg.RetireTargetURL != "" {
		tasks := cfg.Tasks
		tasks.ProjectID, tasks.TargetURL, tasks.CallTimeout, tasks.Metrics = cfg.ProjectID, cfg.RetireTargetURL, cfg.CallTimeout, m.Recorder
		retirer, err := cloudtasks.New(ctx, tasks)
		if err != nil {
			return fmt.Errorf("cloud tasks: %w", err)
		}
		defer retirer.Close()
		opts = append(opts, ingest.WithRetirer(retirer))
	} else {
		slog.Warn("HOOKRUN_RETIRE_TARGET_URL is not set: old signing secrets are disabled at the endpoint's next change, not when their grace period ends")
	}

	if emails := cfg.Ingest.ProducerAccountEmails(); len(emails) > 0 {
		v, err := oidc.NewVerifier(ctx, oidc.Config{Audience: cfg.Ingest.ProducerAudience, ServiceAccounts: emails, CertsURL: cfg.Ingest.GoogleCertsURL})
		if err != nil {
			return fmt.Errorf("producer ID tokens (HOOKRUN_PRODUCER_SERVICE_ACCOUNTS, HOOKRUN_PRODUCER_AUDIENCE, HOOKRUN_GOOGLE_CERTS_URL): %w", err)
		}
		opts = append(opts, ingest.WithIDTokens(v))
	}

	icfg := cfg.Ingest
	icfg.ProjectID = cfg.ProjectID
	svc, err := ingest.New(icfg, stores.Firestore, traced, stores.Secrets, opts...)
	if err != nil {
		return err
	}
	err = app.Serve(ctx, cfg.Common, svc.Handler(), httpapi.Timeouts{Request: cfg.RequestTimeout}, m)
	return app.FlushAtShutdown(ctx, "event records", svc.Flush, err)
}
