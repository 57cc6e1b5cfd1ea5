package main

import (
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/app"
)

// The dispatcher's settings as the environment gives them: the defaults
// declared on dispatch.Config and cloudtasks.Config, and 0 dead letters
// meaning never, as infra documents it.
func TestConfigFromEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c config)
	}{
		{"defaults", nil, func(t *testing.T, c config) {
			if c.Dispatch.DisableAfterDead != 50 || c.Dispatch.MaxFanOut != 32 || c.Dispatch.EndpointCacheTTL != 10*time.Second || c.Tasks.Queue != "deliveries" || c.RequestTimeout != 4*time.Minute ||
				c.PullSubscription != "" || c.PullMaxOutstanding != 64 {
				t.Errorf("got %+v %+v, want the declared defaults", c.Dispatch, c.Tasks)
			}
		}},
		{"pull mode", map[string]string{"HOOKRUN_PULL_SUBSCRIPTION": "events-pull", "HOOKRUN_PULL_MAX_OUTSTANDING": "200"}, func(t *testing.T, c config) {
			if r := c.receiver(); r.Subscription != "events-pull" || r.MaxOutstanding != 200 || r.HandlerTimeout != c.RequestTimeout {
				t.Errorf("receiver() = %+v, want events-pull, 200 at once, the request timeout per message", r)
			}
		}},
		{"0 dead letters is never", map[string]string{"HOOKRUN_DISABLE_AFTER_DEAD_LETTERS": "0"}, func(t *testing.T, c config) {
			if c.Dispatch.DisableAfterDead != 0 {
				t.Errorf("DisableAfterDead = %d, want 0 (never)", c.Dispatch.DisableAfterDead)
			}
		}},
		{"shared task settings", map[string]string{"HOOKRUN_TASKS_SERVICE_ACCOUNT": "tasks@p.iam.gserviceaccount.com", "HOOKRUN_TASKS_QUEUE": "q"}, func(t *testing.T, c config) {
			if c.Tasks.OIDCServiceAccount != "tasks@p.iam.gserviceaccount.com" || c.Tasks.Queue != "q" || c.Tasks.Location != "local" {
				t.Errorf("Tasks = %+v", c.Tasks)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
			t.Setenv("HOOKRUN_TASKS_LOCATION", "local")
			t.Setenv("HOOKRUN_TASKS_TARGET_URL", "http://127.0.0.1:1/tasks/deliver")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var c config
			if err := app.LoadEnv(&c); err != nil {
				t.Fatalf("LoadEnv: %v", err)
			}
			tt.check(t, c)
		})
	}
	for name, env := range map[string]map[string]string{
		"no queue location":        {"HOOKRUN_TASKS_LOCATION": ""},
		"bad pull subscription":    {"HOOKRUN_PULL_SUBSCRIPTION": "projects/p/subscriptions/events-pull"},
		"pulling too much at once": {"HOOKRUN_PULL_SUBSCRIPTION": "events-pull", "HOOKRUN_PULL_MAX_OUTSTANDING": "5000"},
		"pulling nothing at once":  {"HOOKRUN_PULL_SUBSCRIPTION": "events-pull", "HOOKRUN_PULL_MAX_OUTSTANDING": "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
			t.Setenv("HOOKRUN_TASKS_TARGET_URL", "http://127.0.0.1:1/tasks/deliver")
			t.Setenv("HOOKRUN_TASKS_LOCATION", "local")
			for k, v := range env {
				t.Setenv(k, v)
			}
			var c config
			if err := app.LoadEnv(&c); err == nil {
				t.Errorf("LoadEnv with %v succeeded", env)
			}
		})
	}
}
