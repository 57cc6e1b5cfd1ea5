// Command dispatcher is hookrun's sender on Cloud Run: Pub/Sub pushes
// events to it (or it pulls them, HOOKRUN_PULL_SUBSCRIPTION), Cloud Tasks
// calls it back for retries, and it delivers them, signed, to the
// tenants' endpoints. It only wires configuration and adapters; the logic
// lives in internal/dispatch.
package main

import (
	"context"
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
	"golang.org/x/sync/errgroup"
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

	// PullSubscription, when set, is a pull subscription of the events
	// topic that the dispatcher also takes events from, by streaming
	// pull, handling each as a push (dispatch.Service.HandlePulled) within
	// RequestTimeout. Empty, the default, takes events only as pushes.
	PullSubscription string `env:"HOOKRUN_PULL_SUBSCRIPTION"`
	// PullMaxOutstanding bounds the pulled messages handled at once
	// (pubsub.MaxMaxOutstanding at most).
	PullMaxOutstanding int `env:"HOOKRUN_PULL_MAX_OUTSTANDING" envDefault:"64"`
}

// receiver is the configuration of the streaming pull of PullSubscription:
// a message has a push request's budget, and the messages being handled at
// SIGTERM the server's shutdown budget to finish.
func (c config) receiver() pubsub.ReceiverConfig {
	return pubsub.ReceiverConfig{
		ProjectID:      c.ProjectID,
		Subscription:   c.PullSubscription,
		MaxOutstanding: c.PullMaxOutstanding,
		HandlerTimeout: c.RequestTimeout,
		DrainTimeout:   httpapi.ShutdownBudget,
	}
}

// Validate reports what is wrong with c.
func (c config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Tasks.Location == "" {
		return fmt.Errorf("HOOKRUN_TASKS_LOCATION is required: the region of the retry queue")
	}
	if c.PullSubscription != "" {
		r := c.receiver()
		if err := r.Validate(); err != nil {
			return fmt.Errorf("HOOKRUN_PULL_SUBSCRIPTION, HOOKRUN_PULL_MAX_OUTSTANDING: %w", err)
		}
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
	// After SIGTERM the pulled messages being handled have ended too.
	return app.FlushAtShutdown(ctx, "attempt records", svc.Flush, serve(ctx, cfg, svc, m))
}

// serve serves the dispatcher's routes until ctx ends and, with
// HOOKRUN_PULL_SUBSCRIPTION, pulls events meanwhile: if either stops with
// an error (the subscription does not exist), the other stops too.
func serve(ctx context.Context, cfg config, svc *dispatch.Service, m *metrics.Provider) error {
	timeouts := httpapi.Timeouts{Request: cfg.RequestTimeout}
	if cfg.PullSubscription == "" {
		return app.Serve(ctx, cfg.Common, svc.Handler(), timeouts, m)
	}
	rcv, err := pubsub.NewReceiver(ctx, cfg.receiver())
	if err != nil {
		return fmt.Errorf("pull subscription: %w", err)
	}
	defer rcv.Close()
	slog.Info("pulling events", "subscription", cfg.PullSubscription, "max_outstanding", cfg.PullMaxOutstanding)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return app.Serve(gctx, cfg.Common, svc.Handler(), timeouts, m) })
	g.Go(func() error { return rcv.Receive(gctx, svc.HandlePulled) })
	return g.Wait()
}
