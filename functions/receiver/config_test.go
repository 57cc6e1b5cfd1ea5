package receiver

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	a, b := twoSecrets(t)
	t.Setenv("WEBHOOK_SECRET", a+" "+b)
	t.Setenv("SHARED_SECRET_HEADER", "X-Webhook-Token")
	t.Setenv("SHARED_SECRET", "tok")
	t.Setenv("DEDUPE_WINDOW", "30s")
	t.Setenv("SLACK_SIGNING_SECRET", "slack-a slack-b")
	t.Setenv("GITHUB_WEBHOOK_SECRET", "gh")
	t.Setenv("STRIPE_WEBHOOK_SECRET", "whsec_stripe")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	want := Config{
		Secret: a + " " + b, SharedSecretHeader: "X-Webhook-Token", SharedSecret: "tok",
		SlackSigningSecret: "slack-a slack-b", GitHubWebhookSecret: "gh", StripeWebhookSecret: "whsec_stripe",
		Tolerance: 5 * time.Minute, HandoffTimeout: DefaultHandoffTimeout,
		DedupeWindow: 30 * time.Second, DedupeMaxIDs: DefaultDedupeMaxIDs, MaxBody: DefaultMaxBody,
	}
	if cfg != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
	for _, name := range []string{"WEBHOOK_SECRET", "SHARED_SECRET", "SLACK_SIGNING_SECRET", "GITHUB_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"} {
		if _, ok := os.LookupEnv(name); ok {
			t.Errorf("%s is still in the environment after it was read", name)
		}
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "whsec_!!!")
	if _, err := ConfigFromEnv(); err == nil || strings.Contains(err.Error(), "!!!") {
		t.Errorf("bad secret: err = %v, want an error that does not repeat the secret", err)
	}
	t.Setenv("WEBHOOK_SECRET", "")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Errorf("no secret: err = %v, want one naming WEBHOOK_SECRET", err)
	}
	t.Setenv("WEBHOOK_SECRET", oneSecret(t))
	t.Setenv("DEDUPE_WINDOW", "ten minutes")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "DEDUPE_WINDOW") {
		t.Errorf("bad duration: err = %v, want one naming DEDUPE_WINDOW", err)
	}
}

func TestConfigValidate(t *testing.T) {
	secret := oneSecret(t)
	const queue = "projects/p/locations/us-central1/queues/webhooks"
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means valid
	}{
		{"secret", Config{Secret: secret}, ""},
		{"Secret Manager name", Config{SecretName: "projects/p/secrets/s/versions/latest"}, ""},
		{"shared secret only", Config{SharedSecretHeader: "X-Token", SharedSecret: "t"}, ""},
		{"Slack only", Config{SlackSigningSecret: "s"}, ""},
		{"GitHub only", Config{GitHubWebhookSecret: "s"}, ""},
		{"Stripe only", Config{StripeWebhookSecret: "whsec_s"}, ""},
		{"nothing", Config{}, "no authentication"},
		{"blank sender secrets", Config{SlackSigningSecret: " ", GitHubWebhookSecret: "\t"}, "no authentication"},
		{"secret and name", Config{Secret: secret, SecretName: "projects/p/secrets/s/versions/1"}, "not both"},
		{"bad name", Config{SecretName: "projects/p/secrets/s"}, "WEBHOOK_SECRET_NAME"},
		{"bad secret", Config{Secret: secret + " whsec_%%%"}, "secret 2 of 2"},
		{"header without secret", Config{Secret: secret, SharedSecretHeader: "X-Token"}, "together"},
		{"bad header name", Config{SharedSecretHeader: "X Token", SharedSecret: "t"}, "header name"},
		{"topic ID with project", Config{Secret: secret, HandoffTopic: "webhooks", ProjectID: "p"}, ""},
		{"topic name", Config{Secret: secret, HandoffTopic: "projects/p/topics/webhooks"}, ""},
		{"topic ID without project", Config{Secret: secret, HandoffTopic: "webhooks"}, "GOOGLE_CLOUD_PROJECT"},
		{"bad topic", Config{Secret: secret, HandoffTopic: "projects/p/topics/w"}, "HANDOFF_TOPIC"},
		{"tasks", Config{Secret: secret, HandoffTasksQueue: queue, HandoffTasksURL: "https://r.example/process"}, ""},
		{"tasks without URL", Config{Secret: secret, HandoffTasksQueue: queue}, "HANDOFF_TASKS_URL"},
		{"tasks URL without queue", Config{Secret: secret, HandoffTasksURL: "https://r.example/process"}, "HANDOFF_TASKS_QUEUE"},
		{"bad queue", Config{Secret: secret, HandoffTasksQueue: "webhooks", HandoffTasksURL: "https://r.example/process"}, "HANDOFF_TASKS_QUEUE"},
		{"tasks with a large body", Config{Secret: secret, HandoffTasksQueue: queue, HandoffTasksURL: "https://r.example/p", MaxBody: 1 << 20}, "MAX_BODY_BYTES"},
		{"topic and tasks", Config{Secret: secret, HandoffTopic: "projects/p/topics/webhooks", HandoffTasksQueue: queue, HandoffTasksURL: "https://r.example/p"}, "not both"},
		{"process oidc", Config{Secret: secret, ProcessAuth: "oidc", ProcessServiceAccount: "push@p.iam.gserviceaccount.com", ProcessAudience: "https://r.example/process"}, ""},
		{"process oidc without account", Config{Secret: secret, ProcessAuth: "oidc"}, "PROCESS_SERVICE_ACCOUNT"},
		{"process auth typo", Config{Secret: secret, ProcessAuth: "OIDC"}, "PROCESS_AUTH"},
		{"negative window", Config{Secret: secret, DedupeWindow: -time.Second}, "DEDUPE_WINDOW"},
		{"negative body limit", Config{Secret: secret, MaxBody: -1}, "MAX_BODY_BYTES"},
		{"too many dedupe ids", Config{Secret: secret, DedupeMaxIDs: MaxDedupeIDs + 1}, "DEDUPE_MAX_IDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want an error mentioning %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
				t.Errorf("error repeats the secret: %v", err)
			}
		})
	}
	if got := (Config{Secret: secret, HandoffTasksQueue: queue}).withDefaults().MaxBody; got != MaxTasksBody {
		t.Errorf("MaxBody default with Cloud Tasks = %d, want %d", got, MaxTasksBody)
	}
}

func TestSigningSecret(t *testing.T) {
	a, b := twoSecrets(t)
	tests := []struct {
		name    string
		payload string
		want    string
		wantErr bool
	}{
		{"bare", a + "\n", a, false},
		{"two, rotating", a + " " + b, a + " " + b, false},
		{"hookrun endpoint secret", `{"signing_secret":"` + a + `","auth":{"kind":"none"}}`, a, false},
		{"JSON without it", `{"auth":{}}`, "", true},
		{"broken JSON", `{"signing_secret":`, "", true},
		{"not a secret", "hunter2!", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signingSecret([]byte(tt.payload))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("signingSecret = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats the payload: %v", err)
			}
		})
	}
}

func TestNewNeedsWhatItUses(t *testing.T) {
	secret := oneSecret(t)
	if _, err := New(Config{SecretName: "projects/p/secrets/s/versions/1"}, Deps{}); err == nil {
		t.Error("New with an unread WEBHOOK_SECRET_NAME succeeded")
	}
	cfg := Config{Secret: secret, ProcessAuth: ProcessOIDC, ProcessServiceAccount: "a@b", ProcessAudience: "https://x/process"}
	if _, err := New(cfg, Deps{}); err == nil {
		t.Error("New with PROCESS_AUTH=oidc and no verifier succeeded")
	}
}

func oneSecret(t *testing.T) string {
	s, _ := newSecret(t)
	return s
}

func twoSecrets(t *testing.T) (string, string) { return oneSecret(t), oneSecret(t) }
