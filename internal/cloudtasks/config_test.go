package cloudtasks_test

import (
	"testing"

	"github.com/hookrun/hookrun/internal/cloudtasks"
)

func TestConfigValidate(t *testing.T) {
	valid := cloudtasks.Config{
		ProjectID: "hookrun-prod",
		Location:  "us-central1",
		Queue:     "deliveries",
		TargetURL: "https://dispatcher-xyz.run.app/tasks/deliver",
	}
	tests := []struct {
		name    string
		edit    func(*cloudtasks.Config)
		wantErr bool
	}{
		{"valid", func(*cloudtasks.Config) {}, false},
		{"local emulator", func(c *cloudtasks.Config) {
			c.Location, c.Endpoint, c.TargetURL = "local", "127.0.0.1:8123", "http://127.0.0.1:8081/tasks/deliver"
		}, false},
		{"with OIDC", func(c *cloudtasks.Config) { c.OIDCServiceAccount = "tasks@hookrun-prod.iam.gserviceaccount.com" }, false},
		{"with OIDC audience", func(c *cloudtasks.Config) {
			c.OIDCServiceAccount, c.OIDCAudience = "tasks@hookrun-prod.iam.gserviceaccount.com", "https://dispatcher"
		}, false},
		{"no project", func(c *cloudtasks.Config) { c.ProjectID = "" }, true},
		{"project as resource name", func(c *cloudtasks.Config) { c.ProjectID = "projects/hookrun-prod" }, true},
		{"no location", func(c *cloudtasks.Config) { c.Location = "" }, true},
		{"location with a slash", func(c *cloudtasks.Config) { c.Location = "locations/us-central1" }, true},
		{"no queue", func(c *cloudtasks.Config) { c.Queue = "" }, true},
		{"queue with an underscore", func(c *cloudtasks.Config) { c.Queue = "web_hooks" }, true},
		{"no target", func(c *cloudtasks.Config) { c.TargetURL = "" }, true},
		{"relative target", func(c *cloudtasks.Config) { c.TargetURL = "/tasks/deliver" }, true},
		{"target without scheme", func(c *cloudtasks.Config) { c.TargetURL = "dispatcher/tasks/deliver" }, true},
		{"service account not an email", func(c *cloudtasks.Config) { c.OIDCServiceAccount = "tasks" }, true},
		{"audience without service account", func(c *cloudtasks.Config) { c.OIDCAudience = "https://dispatcher" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			if err := cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("got %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

// Audience is the one rule for the audience of task tokens, which ingest's
// and the dispatcher's tasks carry and the dispatcher verifies.
func TestConfigAudience(t *testing.T) {
	const target, sa = "https://dispatcher.example/tasks/deliver", "tasks@p.iam.gserviceaccount.com"
	tests := []struct {
		name string
		cfg  cloudtasks.Config
		want string
	}{
		{"no token", cloudtasks.Config{TargetURL: target}, ""},
		{"token for the target", cloudtasks.Config{TargetURL: target, OIDCServiceAccount: sa}, target},
		{"token for a set audience", cloudtasks.Config{TargetURL: target, OIDCServiceAccount: sa, OIDCAudience: "https://dispatcher.example"}, "https://dispatcher.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.Audience(); got != tt.want {
				t.Errorf("Audience() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQueueRetryValidate(t *testing.T) {
	tests := []struct {
		name    string
		retry   cloudtasks.QueueRetry
		wantErr bool
	}{
		{"defaults", cloudtasks.QueueRetry{}, false},
		{"unlimited", cloudtasks.QueueRetry{MaxAttempts: -1}, false},
		{"set", cloudtasks.QueueRetry{MaxAttempts: 10, MinBackoff: 1e9, MaxBackoff: 60e9, MaxDoublings: 3}, false},
		{"attempts below -1", cloudtasks.QueueRetry{MaxAttempts: -2}, true},
		{"negative backoff", cloudtasks.QueueRetry{MinBackoff: -1}, true},
		{"min over max", cloudtasks.QueueRetry{MinBackoff: 2e9, MaxBackoff: 1e9}, true},
		{"negative doublings", cloudtasks.QueueRetry{MaxDoublings: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.retry.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("got %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
