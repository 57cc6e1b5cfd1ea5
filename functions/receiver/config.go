package receiver

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// Defaults for Config.
const (
	DefaultMaxBody        = 1 << 20 // 1 MiB
	DefaultDedupeWindow   = 10 * time.Minute
	DefaultDedupeMaxIDs   = 100_000
	DefaultHandoffTimeout = 10 * time.Second

	// MaxDedupeIDs bounds DEDUPE_MAX_IDS: about 1.2 GB of memory.
	MaxDedupeIDs = 10_000_000

	// MaxTasksBody is the largest body that fits in a Cloud Task once
	// wrapped in the push envelope (base64 grows it by a third); it is
	// also MaxBody's default with a Cloud Tasks hand-off.
	MaxTasksBody = 64 << 10
)

// Values of Config.ProcessAuth.
const (
	// ProcessOff (the default) answers POST /process with 404: the
	// hand-off is consumed elsewhere, or not at all.
	ProcessOff = ""
	// ProcessOIDC requires the Google-signed OIDC token that Pub/Sub push
	// subscriptions and Cloud Tasks attach, for ProcessServiceAccount.
	ProcessOIDC = "oidc"
	// ProcessNone accepts unauthenticated pushes: only for local runs, or
	// behind something else that authenticates them.
	ProcessNone = "none"
)

// Config is everything the receiver reads from its environment. Zero
// durations and sizes take the defaults above.
type Config struct {
	// Secret is one or more space-separated whsec_ Standard Webhooks
	// signing secrets; several during a rotation.
	Secret string `env:"WEBHOOK_SECRET,unset"`
	// SecretName is a Secret Manager version to read Secret from once at
	// start: projects/P/secrets/S/versions/V (V may be "latest"). Its
	// payload is a whsec_ secret or hookrun's endpoint secret JSON
	// {"signing_secret": "whsec_…"}.
	SecretName string `env:"WEBHOOK_SECRET_NAME"`
	// SecretManagerEndpoint points the Secret Manager client at a local
	// emulator (plaintext, no auth); empty in production.
	SecretManagerEndpoint string `env:"HOOKRUN_SECRETMANAGER_ENDPOINT"`
	// Tolerance is how far webhook-timestamp may be from now. Slack and
	// Stripe have tolerances of their own (verify.SlackTolerance,
	// verify.StripeTolerance).
	Tolerance time.Duration `env:"WEBHOOK_TOLERANCE"`

	// SlackSigningSecret, GitHubWebhookSecret and StripeWebhookSecret
	// verify those senders' own signatures: Slack's app signing secret,
	// a GitHub webhook's secret, a Stripe endpoint's whsec_ signing
	// secret. Each may hold several, space-separated, while one is
	// rotated.
	SlackSigningSecret  string `env:"SLACK_SIGNING_SECRET,unset"`
	GitHubWebhookSecret string `env:"GITHUB_WEBHOOK_SECRET,unset"`
	StripeWebhookSecret string `env:"STRIPE_WEBHOOK_SECRET,unset"`

	// SharedSecretHeader and SharedSecret authenticate senders that can
	// only send a fixed secret in a header (X-Webhook-Token, say).
	SharedSecretHeader string `env:"SHARED_SECRET_HEADER"`
	SharedSecret       string `env:"SHARED_SECRET,unset"`

	// VerifyToken answers Meta/WhatsApp style GET verification requests.
	VerifyToken string `env:"VERIFY_TOKEN,unset"`

	// HandoffTopic is the Pub/Sub topic verified webhooks are published
	// to: an ID (in ProjectID) or projects/P/topics/T.
	HandoffTopic string `env:"HANDOFF_TOPIC"`
	// ProjectID is the project of a bare HandoffTopic ID.
	ProjectID string `env:"GOOGLE_CLOUD_PROJECT"`
	// HandoffTasksQueue is a Cloud Tasks queue, projects/P/locations/L/queues/Q,
	// that verified webhooks become tasks in, POSTing to HandoffTasksURL.
	HandoffTasksQueue string `env:"HANDOFF_TASKS_QUEUE"`
	HandoffTasksURL   string `env:"HANDOFF_TASKS_URL"`
	// HandoffTasksServiceAccount makes tasks carry an OIDC token for this
	// service account, audience HandoffTasksURL.
	HandoffTasksServiceAccount string `env:"HANDOFF_TASKS_SERVICE_ACCOUNT"`
	// CloudTasksEndpoint points the Cloud Tasks client at a local emulator.
	CloudTasksEndpoint string `env:"HOOKRUN_CLOUDTASKS_ENDPOINT"`
	// HandoffTimeout bounds one hand-off, so a stuck queue costs the
	// sender a 503 and a retry rather than its own timeout.
	HandoffTimeout time.Duration `env:"HANDOFF_TIMEOUT"`

	// ProcessAuth says who may call POST /process: ProcessOff,
	// ProcessOIDC or ProcessNone.
	ProcessAuth string `env:"PROCESS_AUTH"`
	// ProcessServiceAccount and ProcessAudience are what the OIDC token of
	// a push must carry with ProcessOIDC: the push subscription's (or
	// task's) service account, and its audience (usually the /process URL).
	ProcessServiceAccount string `env:"PROCESS_SERVICE_ACCOUNT"`
	ProcessAudience       string `env:"PROCESS_AUDIENCE"`

	// DedupeWindow is how long a handed-off webhook-id is remembered, and
	// DedupeMaxIDs how many at most (per instance).
	DedupeWindow time.Duration `env:"DEDUPE_WINDOW"`
	DedupeMaxIDs int           `env:"DEDUPE_MAX_IDS"`
	// MaxBody bounds request bodies: 1 MiB, or MaxTasksBody with a Cloud
	// Tasks hand-off.
	MaxBody int64 `env:"MAX_BODY_BYTES"`
}

// ConfigFromEnv reads Config from the environment, applies the defaults and
// validates it. It does no I/O: Open reads WEBHOOK_SECRET_NAME. Secrets are
// removed from the environment once read.
func ConfigFromEnv() (Config, error) {
	var cfg Config
	if err := env.Parse(&cfg); err != nil {
		return Config{}, envError(err)
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// envError names the environment variables of env.Parse's errors, which
// name Config's fields.
func envError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("read configuration from the environment: %w", err)
	}
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
				name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				e = fmt.Errorf("%s: %w", name, pe.Err)
			}
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Tolerance == 0 {
		c.Tolerance = verify.Tolerance
	}
	if c.HandoffTimeout == 0 {
		c.HandoffTimeout = DefaultHandoffTimeout
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = DefaultDedupeWindow
	}
	if c.DedupeMaxIDs == 0 {
		c.DedupeMaxIDs = DefaultDedupeMaxIDs
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
		if c.HandoffTasksQueue != "" {
			c.MaxBody = MaxTasksBody
		}
	}
	return c
}

var (
	secretNamePattern = regexp.MustCompile(`^projects/([^/]+)/secrets/[^/]+/versions/[^/]+$`)
	topicNamePattern  = regexp.MustCompile(`^projects/([^/]+)/topics/([^/]+)$`)
	queueNamePattern  = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)/queues/([A-Za-z0-9-]{1,100})$`)
	// topicIDPattern is Pub/Sub's rule for topic IDs.
	topicIDPattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)
	headerTokenPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
)

// Validate reports what is wrong with c, with defaults applied. Its errors
// name variables, never their secret values.
func (c Config) Validate() error {
	c = c.withDefaults()
	return errors.Join(c.validateAuth(), c.validateHandoff(), c.validateLimits())
}

func (c Config) validateAuth() error {
	switch {
	case c.Secret != "" && c.SecretName != "":
		return errors.New("set WEBHOOK_SECRET or WEBHOOK_SECRET_NAME, not both")
	case strings.TrimSpace(c.Secret+c.SlackSigningSecret+c.GitHubWebhookSecret+c.StripeWebhookSecret) == "" && c.SecretName == "" && c.SharedSecretHeader == "":
		return errors.New("no authentication configured: set WEBHOOK_SECRET (the endpoint's whsec_ signing secret), WEBHOOK_SECRET_NAME, SLACK_SIGNING_SECRET, GITHUB_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, or SHARED_SECRET_HEADER and SHARED_SECRET")
	case c.SecretName != "" && !secretNamePattern.MatchString(c.SecretName):
		return fmt.Errorf("WEBHOOK_SECRET_NAME %q: want projects/PROJECT/secrets/SECRET/versions/VERSION", c.SecretName)
	case (c.SharedSecretHeader == "") != (c.SharedSecret == ""):
		return errors.New("set SHARED_SECRET_HEADER and SHARED_SECRET together")
	case c.SharedSecretHeader != "" && !headerTokenPattern.MatchString(c.SharedSecretHeader):
		return fmt.Errorf("SHARED_SECRET_HEADER %q is not a valid header name", c.SharedSecretHeader)
	case c.Tolerance < 0:
		return fmt.Errorf("WEBHOOK_TOLERANCE %v must be positive", c.Tolerance)
	}
	if _, err := newSchemes(c); err != nil {
		return err
	}
	switch c.ProcessAuth {
	case ProcessOff, ProcessNone:
	case ProcessOIDC:
		if c.ProcessServiceAccount == "" || c.ProcessAudience == "" {
			return errors.New("PROCESS_AUTH=oidc needs PROCESS_SERVICE_ACCOUNT (who pushes) and PROCESS_AUDIENCE (usually the /process URL)")
		}
	default:
		return fmt.Errorf("PROCESS_AUTH %q: want oidc, none, or unset (POST /process off)", c.ProcessAuth)
	}
	return nil
}

func (c Config) validateHandoff() error {
	if c.HandoffTopic != "" && c.HandoffTasksQueue != "" {
		return errors.New("set HANDOFF_TOPIC or HANDOFF_TASKS_QUEUE, not both")
	}
	if c.HandoffTopic != "" {
		if _, err := c.topic(); err != nil {
			return err
		}
	}
	if c.HandoffTasksQueue == "" {
		if c.HandoffTasksURL != "" || c.HandoffTasksServiceAccount != "" {
			return errors.New("HANDOFF_TASKS_URL and HANDOFF_TASKS_SERVICE_ACCOUNT need HANDOFF_TASKS_QUEUE")
		}
		return nil
	}
	if !queueNamePattern.MatchString(c.HandoffTasksQueue) {
		return fmt.Errorf("HANDOFF_TASKS_QUEUE %q: want projects/PROJECT/locations/LOCATION/queues/QUEUE (a queue ID is 1 to 100 letters, digits or hyphens)", c.HandoffTasksQueue)
	}
	if u, err := url.Parse(c.HandoffTasksURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("HANDOFF_TASKS_URL %q: want the absolute http or https URL of POST %s that tasks call", c.HandoffTasksURL, ProcessPath)
	}
	if c.HandoffTasksServiceAccount != "" && !strings.Contains(c.HandoffTasksServiceAccount, "@") {
		return fmt.Errorf("HANDOFF_TASKS_SERVICE_ACCOUNT %q: want a service account email", c.HandoffTasksServiceAccount)
	}
	if c.MaxBody > MaxTasksBody {
		return fmt.Errorf("MAX_BODY_BYTES %d: a Cloud Tasks hand-off carries at most %d bytes", c.MaxBody, MaxTasksBody)
	}
	return nil
}

func (c Config) validateLimits() error {
	switch {
	case c.HandoffTimeout < 0:
		return fmt.Errorf("HANDOFF_TIMEOUT %v must be positive", c.HandoffTimeout)
	case c.DedupeWindow < 0:
		return fmt.Errorf("DEDUPE_WINDOW %v must be positive", c.DedupeWindow)
	case c.DedupeMaxIDs < 0:
		return fmt.Errorf("DEDUPE_MAX_IDS %d must be positive", c.DedupeMaxIDs)
	case c.DedupeMaxIDs > MaxDedupeIDs:
		return fmt.Errorf("DEDUPE_MAX_IDS %d: at most %d (about 115 bytes of memory each)", c.DedupeMaxIDs, MaxDedupeIDs)
	case c.MaxBody < 0:
		return fmt.Errorf("MAX_BODY_BYTES %d must be positive", c.MaxBody)
	}
	return nil
}

// topic is the full resource name of HandoffTopic, projects/P/topics/T.
func (c Config) topic() (string, error) {
	project, id := c.ProjectID, c.HandoffTopic
	if m := topicNamePattern.FindStringSubmatch(c.HandoffTopic); m != nil {
		project, id = m[1], m[2]
	} else if strings.Contains(c.HandoffTopic, "/") {
		return "", fmt.Errorf("HANDOFF_TOPIC %q: want a topic ID or projects/PROJECT/topics/TOPIC", c.HandoffTopic)
	} else if c.ProjectID == "" {
		return "", fmt.Errorf("HANDOFF_TOPIC %q is a bare topic ID: set GOOGLE_CLOUD_PROJECT, or give projects/PROJECT/topics/%s", c.HandoffTopic, c.HandoffTopic)
	}
	// Checked here, a bad ID is named at start rather than failing every
	// hand-off with the server's INVALID_ARGUMENT.
	if !topicIDPattern.MatchString(id) || strings.HasPrefix(strings.ToLower(id), "goog") {
		return "", fmt.Errorf("HANDOFF_TOPIC: topic ID %q: want 3-255 letters, digits or -_.~+%%, starting with a letter, not with \"goog\"", id)
	}
	return "projects/" + project + "/topics/" + id, nil
}
