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
			if c.Dispatch.DisableAfterDead != 50 || c.Dispatch.MaxFanOut != 32 || c.Dispatch.EndpointCacheTTL != 10*time.Second || c.Tasks.Queue != "deliveries" || c.RequestTimeout != 4*time.Minute {
				t.Errorf("got %+v %+v, want the declared defaults", c.Dispatch, c.Tasks)
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
	t.Run("no queue location", func(t *testing.T) {
		t.Setenv("GOOGLE_CLOUD_PROJECT", "p")
		t.Setenv("HOOKRUN_TASKS_TARGET_URL", "http://127.0.0.1:1/tasks/deliver")
		t.Setenv("HOOKRUN_TASKS_LOCATION", "")
		var c config
		if err := app.LoadEnv(&c); err == nil {
			t.Errorf("LoadEnv without HOOKRUN_TASKS_LOCATION succeeded")
		}
	})
}
