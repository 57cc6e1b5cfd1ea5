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
	"github.com/hookrun/hookrun/internal/pubsub"
)

// config is everything the ingest service reads from its environment.
type config struct {
	app.Common
	AdminToken         string `env:"HOOKRUN_ADMIN_TOKEN,required,unset"`
	EventsTopic        string `env:"HOOKRUN_EVENTS_TOPIC" envDefault:"events"`
	MaxBodyBytes       int64  `env:"HOOKRUN_MAX_BODY_BYTES" envDefault:"262144"`
	AllowHTTPEndpoints bool   `env:"HOOKRUN_ALLOW_HTTP_ENDPOINTS" envDefault:"false"`
	// AllowPrivateNetworks lets ownership challenges reach loopback and
	// private addresses: the local stack only.
	AllowPrivateNetworks bool          `env:"HOOKRUN_ALLOW_PRIVATE_NETWORKS" envDefault:"false"`
	RotationGrace        time.Duration `env:"HOOKRUN_ROTATION_GRACE" envDefault:"24h"`
	// RequestTimeout is an API request's budget (httpapi.Timeouts.Request):
	// a dependency that does not answer within it makes the request 503
	// with Retry-After. The ownership challenge of a new endpoint gets
	// what is left of it.
	RequestTimeout time.Duration `env:"HOOKRUN_REQUEST_TIMEOUT" envDefault:"10s"`
	// PublishTimeout bounds the wait for Pub/Sub within the budget.
	PublishTimeout time.Duration `env:"HOOKRUN_PUBLISH_TIMEOUT" envDefault:"10s"`
	PublishDelay   time.Duration `env:"HOOKRUN_PUBLISH_DELAY" envDefault:"1ms"`
	KeyCacheTTL    time.Duration `env:"HOOKRUN_KEY_CACHE_TTL" envDefault:"10s"`

	// The end of a secret rotation's grace period is a Cloud Task calling
	// the dispatcher's /tasks/retire-secret. Without a target URL, old
	// secrets are disabled at the endpoint's next change instead.
	RetireTargetURL     string `env:"HOOKRUN_RETIRE_TARGET_URL"`
	TasksLocation       string `env:"HOOKRUN_TASKS_LOCATION"`
	TasksQueue          string `env:"HOOKRUN_TASKS_QUEUE" envDefault:"deliveries"`
	TasksServiceAccount string `env:"HOOKRUN_TASKS_SERVICE_ACCOUNT"`
	// TasksAudience must be the audience the dispatcher verifies task
	// tokens against (its own HOOKRUN_TASKS_AUDIENCE); default the target.
	TasksAudience      string `env:"HOOKRUN_TASKS_AUDIENCE"`
	CloudTasksEndpoint string `env:"HOOKRUN_CLOUDTASKS_ENDPOINT"`
}

// Validate reports what is wrong with c. A request timeout that is not
// positive is refused by httpapi.Serve.
func (c config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.PublishTimeout > c.RequestTimeout {
		return fmt.Errorf("HOOKRUN_PUBLISH_TIMEOUT %v is longer than HOOKRUN_REQUEST_TIMEOUT %v, which would end every publish first", c.PublishTimeout, c.RequestTimeout)
	}
	return nil
}

func main() { app.Main("ingest", run) }

func run(ctx context.Context) error {
	var cfg config
	if err := app.LoadEnv(&cfg); err != nil {
		return err
	}
	stores, err := app.OpenStores(ctx, cfg.Common)
	if err != nil {
		return err
	}
	defer stores.Close()

	pub, err := pubsub.NewPublisher(ctx, pubsub.Config{
		ProjectID:      cfg.ProjectID,
		Topic:          cfg.EventsTopic,
		DelayThreshold: cfg.PublishDelay,
		PublishTimeout: cfg.PublishTimeout,
	})
	if err != nil {
		return fmt.Errorf("pubsub publisher: %w", err)
	}
	defer pub.Close()

	var opts []ingest.Option
	if cfg.RetireTargetURL != "" {
		retirer, err := cloudtasks.New(ctx, cloudtasks.Config{
			ProjectID:          cfg.ProjectID,
			Location:           cfg.TasksLocation,
			Queue:              cfg.TasksQueue,
			TargetURL:          cfg.RetireTargetURL,
			OIDCServiceAccount: cfg.TasksServiceAccount,
			OIDCAudience:       tasksAudience(cfg),
			Endpoint:           cfg.CloudTasksEndpoint,
			CallTimeout:        cfg.CallTimeout,
		})
		if err != nil {
			return fmt.Errorf("cloud tasks: %w", err)
		}
		defer retirer.Close()
		opts = append(opts, ingest.WithRetirer(retirer))
	} else {
		slog.Warn("HOOKRUN_RETIRE_TARGET_URL is not set: old signing secrets are disabled at the endpoint's next change, not when their grace period ends")
	}

	svc, err := ingest.New(ingest.Config{
		ProjectID:            cfg.ProjectID,
		AdminToken:           cfg.AdminToken,
		MaxBodyBytes:         cfg.MaxBodyBytes,
		AllowHTTPEndpoints:   cfg.AllowHTTPEndpoints,
		AllowPrivateNetworks: cfg.AllowPrivateNetworks,
		RotationGrace:        cfg.RotationGrace,
		KeyCacheTTL:          cfg.KeyCacheTTL,
		PublishTimeout:       cfg.PublishTimeout,
	}, stores.Firestore, pub, stores.Secrets, opts...)
	if err != nil {
		return err
	}
	return app.Serve(ctx, cfg.Common, svc.Handler(), httpapi.Timeouts{Request: cfg.RequestTimeout})
}

// tasksAudience is the OIDC audience of the tasks ingest schedules: the
// dispatcher checks one audience for every task, so both services must use
// the same HOOKRUN_TASKS_AUDIENCE.
func tasksAudience(cfg config) string {
	if cfg.TasksServiceAccount == "" {
		return "" // no token, no audience
	}
	if cfg.TasksAudience != "" {
		return cfg.TasksAudience
	}
	return cfg.RetireTargetURL
}
