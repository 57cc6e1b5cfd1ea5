// Package cloudtasks schedules hookrun's webhook retries on Google Cloud
// Tasks. It is the only hookrun package, besides the local emulator, that
// imports the Cloud Tasks SDK: the rest of hookrun sees a Scheduler that
// makes the dispatcher's POST /tasks/deliver happen with a given JSON body
// at a given time.
//
// Scheduling is idempotent by task name: TaskID derives a name from what
// identifies an attempt (tenant, event, endpoint, attempt number), and
// scheduling a name that exists, or existed recently (Cloud Tasks keeps
// names taken for up to 24 hours after a task ends), succeeds without
// creating a second task. A redelivered Pub/Sub message or a retried call
// therefore never doubles an attempt. The flip side: a fresh attempt chain,
// such as a replay, needs parts of its own in TaskID.
//
// Bodies travel only between hookrun and Cloud Tasks: no error or SDK debug
// log made here contains one.
package cloudtasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	ct "cloud.google.com/go/cloudtasks/apiv2"
	"google.golang.org/api/option"

	"github.com/hookrun/hookrun/internal/gcpcall"
	"github.com/hookrun/hookrun/internal/metrics"
)

// queueIDPattern is the queue ID syntax Cloud Tasks accepts.
var queueIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)

// Config says where the queue is and where its tasks go. The settings
// with an env tag are declared here once for both services that schedule
// tasks (ingest and the dispatcher, which read them with the same
// variables: one queue, one task identity, one audience); the others each
// service sets from its own.
type Config struct {
	// ProjectID is the Google Cloud project that owns the queue. Required.
	ProjectID string
	// Location is the queue's region, such as "us-central1"; any ID works
	// with the emulator, such as "local". Required.
	Location string `env:"HOOKRUN_TASKS_LOCATION"`
	// Queue is the queue ID. Required.
	Queue string `env:"HOOKRUN_TASKS_QUEUE" envDefault:"deliveries"`
	// TargetURL is the full URL tasks POST to, such as
	// https://dispatcher-xyz.run.app/tasks/deliver. Required.
	TargetURL string
	// OIDCServiceAccount, when set, makes every task carry an OIDC token
	// minted for this service account, which the target verifies. The
	// emulator sends a fixed fake token instead.
	OIDCServiceAccount string `env:"HOOKRUN_TASKS_SERVICE_ACCOUNT"`
	// OIDCAudience is the audience of that token; empty means TargetURL
	// (Audience). The dispatcher verifies every task against one audience,
	// so every service that schedules tasks for it must set the same.
	OIDCAudience string `env:"HOOKRUN_TASKS_AUDIENCE"`
	// Endpoint is the "host:port" of a local emulator, reached over
	// plaintext gRPC without credentials (gcpcall.LocalEndpoint). Empty
	// means the real service with Application Default Credentials.
	Endpoint string `env:"HOOKRUN_CLOUDTASKS_ENDPOINT"`
	// CallTimeout bounds each call to Cloud Tasks, whatever the caller's
	// context (gcpcall); 0 means gcpcall.DefaultTimeout.
	CallTimeout time.Duration
	// Metrics counts the calls that fail (hookrun.dependency.errors); nil
	// counts none.
	Metrics *metrics.Recorder
}

// Audience is the audience of the OIDC token every task carries, which the
// target verifies: OIDCAudience, else TargetURL (as Cloud Tasks itself
// defaults it); empty when tasks carry no token (no OIDCServiceAccount).
func (c Config) Audience() string {
	if c.OIDCServiceAccount == "" {
		return ""
	}
	if c.OIDCAudience != "" {
		return c.OIDCAudience
	}
	return c.TargetURL
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"ProjectID", c.ProjectID},
		{"Location", c.Location},
		{"Queue", c.Queue},
		{"TargetURL", c.TargetURL},
	} {
		if f.value == "" {
			return fmt.Errorf("cloudtasks config: %s is required", f.name)
		}
	}
	switch {
	case strings.Contains(c.ProjectID, "/"):
		return fmt.Errorf("cloudtasks config: ProjectID %q must be a bare project ID, not a resource name", c.ProjectID)
	case strings.Contains(c.Location, "/"):
		return fmt.Errorf("cloudtasks config: Location %q must be a bare location ID, such as us-central1", c.Location)
	case !queueIDPattern.MatchString(c.Queue):
		return fmt.Errorf("cloudtasks config: Queue %q must be 1 to 100 letters, digits or hyphens", c.Queue)
	}
	if err := checkURL(c.TargetURL); err != nil {
		return fmt.Errorf("cloudtasks config: TargetURL: %w", err)
	}
	if c.OIDCServiceAccount != "" && !strings.Contains(c.OIDCServiceAccount, "@") {
		return fmt.Errorf("cloudtasks config: OIDCServiceAccount %q must be a service account email", c.OIDCServiceAccount)
	}
	if c.OIDCAudience != "" && c.OIDCServiceAccount == "" {
		return errors.New("cloudtasks config: OIDCAudience is set but OIDCServiceAccount is not, so no token would carry it")
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http or https URL", raw)
	}
	return nil
}

// queueName is the queue's resource name.
func (c Config) queueName() string {
	return "projects/" + c.ProjectID + "/locations/" + c.Location + "/queues/" + c.Queue
}

// Scheduler creates the tasks of one queue. It is safe for concurrent use;
// build one per process and Close it on shutdown.
type Scheduler struct {
	client   *ct.Client
	cfg      Config
	location string // projects/{project}/locations/{location}
	queue    string // {location}/queues/{queue}
}

// New connects to Cloud Tasks as cfg says. It does not check that the queue
// exists: EnsureQueue creates it where hookrun owns it (local stack,
// tests), and infrastructure code does elsewhere.
func New(ctx context.Context, cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The SDK logs whole requests, task bodies included, when
	// GOOGLE_SDK_GO_LOGGING_LEVEL=debug is set; a discarding logger takes
	// precedence over that variable, so payloads never reach the logs.
	opts := []option.ClientOption{option.WithLogger(slog.New(slog.DiscardHandler))}
	opts = append(opts, cfg.Metrics.ClientOptions(metrics.CloudTasks)...)
	opts = append(opts, gcpcall.ClientOptions(cfg.CallTimeout)...)
	opts = append(opts, gcpcall.LocalEndpoint(cfg.Endpoint)...)
	client, err := ct.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cloudtasks.NewClient: %w", err)
	}
	return &Scheduler{
		client:   client,
		cfg:      cfg,
		location: "projects/" + cfg.ProjectID + "/locations/" + cfg.Location,
		queue:    cfg.queueName(),
	}, nil
}

// Close releases the connection to Cloud Tasks.
func (s *Scheduler) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close cloud tasks client: %w", err)
	}
	return nil
}
