package settings_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/hookrun/hookrun/internal/settings"
)

type nested struct {
	Queue string `env:"QUEUE" envDefault:"deliveries"`
}

type config struct {
	Name     string        `env:"NAME" envDefault:"hookrun"`
	On       bool          `env:"ON" envDefault:"true"`
	FanOut   int           `env:"FAN_OUT" envDefault:"32"`
	Body     int64         `env:"BODY" envDefault:"262144"`
	TTL      time.Duration `env:"TTL" envDefault:"10s"`
	Ratio    float64       `env:"RATIO" envDefault:"0.5"`
	Required string        `env:"REQUIRED"`
	Tasks    nested
	// Threshold's zero means never, in Go as in the environment.
	Threshold int `env:"THRESHOLD" envDefault:"50" zero:"never"`
	// ProjectID is set by the caller, not the environment.
	ProjectID string
}

// Defaults gives a struct built in Go what env gives one read from an
// empty environment, except where zero has a meaning of its own.
func TestDefaultsAgreeWithTheEnvironment(t *testing.T) {
	var fromEnv config
	if err := env.ParseWithOptions(&fromEnv, env.Options{Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	var inGo config
	settings.Defaults(&inGo)
	if inGo.Threshold != 0 {
		t.Errorf("Threshold = %d, want 0 kept: its zero means never", inGo.Threshold)
	}
	if fromEnv.Threshold != 50 {
		t.Errorf("env's Threshold = %d, want the default 50 when unset", fromEnv.Threshold)
	}
	inGo.Threshold = fromEnv.Threshold
	if !reflect.DeepEqual(inGo, fromEnv) {
		t.Errorf("Defaults = %+v, want %+v as env.Parse gives", inGo, fromEnv)
	}
}

func TestDefaultsKeepWhatIsSet(t *testing.T) {
	cfg := config{Name: "x", FanOut: 4, TTL: time.Minute, Tasks: nested{Queue: "q"}, Threshold: 3, ProjectID: "p"}
	settings.Defaults(&cfg)
	want := config{Name: "x", On: true, FanOut: 4, Body: 262144, TTL: time.Minute, Ratio: 0.5, Tasks: nested{Queue: "q"}, Threshold: 3, ProjectID: "p"}
	if cfg != want {
		t.Errorf("Defaults = %+v, want %+v", cfg, want)
	}
}

func TestDefaultsRefuseABadDeclaration(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  any
		want string
	}{
		{"default of the wrong type", &struct {
			N int `envDefault:"many"`
		}{}, `N: envDefault "many"`},
		{"type without defaults", &struct {
			M map[string]string `envDefault:"a:b"`
		}{}, "cannot have a default"},
		{"not a pointer", config{}, "want a pointer to a struct"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tt.want) {
					t.Errorf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			settings.Defaults(tt.cfg)
		})
	}
}
