// Command dispatcher is hookrun's sender on Cloud Run: Pub/Sub pushes
// events to it and it delivers them, signed, to the tenants' endpoints. It
// only wires configuration and adapters; the logic lives in
// internal/dispatch.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrun/hookrun/internal/app"
	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/oidc"
)

// config is everything the dispatcher reads from its environment.
type config struct {
	app.Common
	// PushAuth is "oidc" (production default) or "none" (local stack only).
	PushAuth             string        `env:"HOOKRUN_PUSH_AUTH" envDefault:"oidc"`
	PushAudience         string        `env:"HOOKRUN_PUSH_AUDIENCE"`
	PushServiceAccount   string        `env:"HOOKRUN_PUSH_SERVICE_ACCOUNT"`
	EndpointCacheTTL     time.Duration `env:"HOOKRUN_ENDPOINT_CACHE_TTL" envDefault:"10s"`
	AllowPrivateNetworks bool          `env:"HOOKRUN_ALLOW_PRIVATE_NETWORKS" envDefault:"false"`
	CESourceTenants      string        `env:"HOOKRUN_CE_SOURCE_TENANTS"`
	MaxFanOut            int           `env:"HOOKRUN_MAX_FAN_OUT" envDefault:"32"`
}

func main() { app.Main("dispatcher", run) }

func run(ctx context.Context) error {
	var cfg config
	if err := app.LoadEnv(&cfg); err != nil {
		return err
	}
	sources, err := dispatch.ParseSourceTenants(cfg.CESourceTenants)
	if err != nil {
		return fmt.Errorf("HOOKRUN_CE_SOURCE_TENANTS: %w", err)
	}

	dcfg := dispatch.Config{
		ProjectID:            cfg.ProjectID,
		EndpointCacheTTL:     cfg.EndpointCacheTTL,
		AllowPrivateNetworks: cfg.AllowPrivateNetworks,
		CESourceTenants:      sources,
		MaxFanOut:            cfg.MaxFanOut,
	}
	var verifier dispatch.PushVerifier
	switch cfg.PushAuth {
	case "oidc":
		v, err := oidc.NewVerifier(ctx, cfg.PushAudience, cfg.PushServiceAccount)
		if err != nil {
			return fmt.Errorf("push auth (set HOOKRUN_PUSH_AUDIENCE and HOOKRUN_PUSH_SERVICE_ACCOUNT): %w", err)
		}
		verifier = v
	case "none":
		slog.Warn("push authentication is off (HOOKRUN_PUSH_AUTH=none): only for the local stack")
		dcfg.InsecureSkipPushAuth = true
	default:
		return fmt.Errorf("HOOKRUN_PUSH_AUTH must be oidc or none, not %q", cfg.PushAuth)
	}

	stores, err := app.OpenStores(ctx, cfg.Common)
	if err != nil {
		return err
	}
	defer stores.Close()

	svc, err := dispatch.New(dcfg, stores.Firestore, stores.Secrets, verifier)
	if err != nil {
		return err
	}
	return app.Serve(ctx, cfg.Common, svc.Handler())
}
