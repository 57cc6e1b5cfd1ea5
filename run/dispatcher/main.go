// Command dispatcher is hookrun's sender on Cloud Run: Pub/Sub pushes
// events to it, Cloud Tasks calls it back for retries, and it delivers them,
// signed, to the tenants' endpoints. It only wires configuration and
// adapters; the logic lives in internal/dispatch.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/cloudtasks"
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/oidc"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/telemetry"
	"github.com/hookrun/hookrun/internal/writebehind"
)

// config is everything the dispatcher reads from its environment. The
// settings of the delivery logic are declared in dispatch.Config, those of
// the retry queue in cloudtasks.Config; the ones here only wire.
type config struct {
	app.Common
	Dispatch dispatch.Config
	Tasks    cloudtasks.Config
	// Auth is "oidc" (production default) or "none" (local stack only): the
	// check of Pub/Sub's push requests and Cloud Tasks' task requests.
	Auth               string `env:"HOOKRUN_PUSH_AUTH" envDefault:"oidc"`
	PushAudience       string `env:"HOOKRUN_PUSH_AUDIENCE"`
	PushServiceAccount string `env:"HOOKRUN_PUSH_SERVICE_ACCOUNT"`

	// TasksTargetURL is the dispatcher's own /tasks/deliver, which its
	// retry tasks call.
	TasksTargetURL   string `env:"HOOKRUN_TASKS_TARGET_URL,required"`
	DeadLettersTopic string `env:"HOOKRUN_DEAD_LETTERS_TOPIC" envDefault:"dead-letters"`
	// EventsTopic is where the dispatcher publishes the tenants'
	// operational events, ingest's events topic.
	EventsTopic string `env:"HOOKRUN_EVENTS_TOPIC" envDefault:"events"`

	// RequestTimeout bounds a push or task request (httpapi.Timeouts.Request):
	// long enough for a fan-out of attempts of up to 60 s each, ending
	// before Cloud Run's request timeout (infra: dispatcher_timeout, 300 s)
	// so that attempts cut short are still recorded and answered for.
	// Each dependency call has its own, short, deadline (HOOKRUN_CALL_TIMEOUT).
	RequestTimeout time.Duration `env:"HOOKRUN_REQUEST_TIMEOUT" envDefault:"4m"`
}

// Validate reports what is wrong with c.
func (c config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Tasks.Location == "" {
		return fmt.Errorf("HOOKRUN_TASKS_LOCATION is required: the region of the retry queue")
	}
	return nil
}

func main() { app.Main("dispatcher", run) }

func run(ctx context.Context) error {
	var cfg config
	if err := app.LoadEnv(&cfg); err != nil {
		return err
	}
	dcfg := cfg.Dispatch
	dcfg.ProjectID = cfg.ProjectID
	var err error
	tasks := cfg.Tasks
	tasks.ProjectID, tasks.TargetURL, tasks.CallTimeout = cfg.ProjectID, cfg.TasksTargetURL, cfg.CallTimeout

	var deps dispatch.Deps
	switch cfg.Auth {
	case "oidc":
		if deps.PushVerifier, err = oidc.NewVerifier(ctx, oidc.Config{Audience: cfg.PushAudience, ServiceAccounts: []string{cfg.PushServiceAccount}}); err != nil {
			return fmt.Errorf("push auth (set HOOKRUN_PUSH_AUDIENCE and HOOKRUN_PUSH_SERVICE_ACCOUNT): %w", err)
		}
		if deps.TaskVerifier, err = oidc.NewVerifier(ctx, oidc.Config{Audience: tasks.Audience(), ServiceAccounts: []string{tasks.OIDCServiceAccount}}); err != nil {
			return fmt.Errorf("task auth (set HOOKRUN_TASKS_SERVICE_ACCOUNT): %w", err)
		}
	case "none":
		slog.Warn("push and task authentication is off (HOOKRUN_PUSH_AUTH=none): only for the local stack")
		dcfg.InsecureSkipAuth = true
	default:
		return fmt.Errorf("HOOKRUN_PUSH_AUTH must be oidc or none, not %q", cfg.Auth)
	}

	m, err := app.StartMetrics(ctx, cfg.Common, "dispatcher")
	if err != nil {
		return err
	}
	defer m.Close()
	deps.Metrics = m.Recorder
	tasks.Metrics = m.Recorder
	stores, err := app.OpenStores(ctx, cfg.Common, m.Recorder)
	if err != nil {
		return err
	}
	defer stores.Close()
	deps.Store, deps.Secrets = stores.Firestore, stores.Secrets

	scheduler, err := cloudtasks.New(ctx, tasks)
	if err != nil {
		return fmt.Errorf("cloud tasks: %w", err)
	}
	defer scheduler.Close()
	deps.Scheduler = scheduler

	deadLetters, err := pubsub.NewPublisher(ctx, pubsub.Config{ProjectID: cfg.ProjectID, Topic: cfg.DeadLettersTopic}, m.Recorder.ClientOptions(metrics.PubSub)...)
	if err != nil {
		return fmt.Errorf("dead-letters publisher: %w", err)
	}
	defer deadLetters.Close()
	deps.DeadLetters = telemetry.TracedPublisher(deadLetters, cfg.DeadLettersTopic)

	events, err := pubsub.NewPublisher(ctx, pubsub.Config{ProjectID: cfg.ProjectID, Topic: cfg.EventsTopic})
	if err != nil {
		return fmt.Errorf("events publisher: %w", err)
	}
	defer events.Close()
	deps.Events = events

	svc, err := dispatch.New(dcfg, deps)
	if err != nil {
		return err
	}
	err = app.Serve(ctx, cfg.Common, svc.Handler(), httpapi.Timeouts{Request: cfg.RequestTimeout}, m)
	// SIGTERM: the server has stopped and its requests have ended; the
	// records of their last successful attempts are written before the
	// store closes.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writebehind.ShutdownTimeout)
	defer cancel()
	if ferr := svc.Flush(fctx); ferr != nil {
		slog.Error("attempt records not written at shutdown", "error", ferr.Error())
		err = errors.Join(err, ferr)
	}
	return err
}
