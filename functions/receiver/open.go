package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/cloudtasks"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/oidc"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/secretmanager"
)

// secretTimeout bounds reading WEBHOOK_SECRET_NAME at start.
const secretTimeout = 30 * time.Second

// Open builds a Receiver from cfg with the adapters it names: it reads the
// signing secret from Secret Manager (once), connects the Pub/Sub or Cloud
// Tasks hand-off, and the OIDC check of POST /process. Close the Receiver
// to release them.
func Open(ctx context.Context, cfg Config) (*Receiver, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SecretName != "" {
		secret, err := readSecret(ctx, cfg)
		if err != nil {
			return nil, err
		}
		cfg.Secret, cfg.SecretName = secret, ""
	}

	var (
		deps    Deps
		closers []io.Closer
	)
	closeAll := func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}
	switch {
	case cfg.HandoffTopic != "":
		pc, _ := cfg.pubsubConfig() // validated
		pub, err := pubsub.NewPublisher(ctx, pc)
		if err != nil {
			return nil, fmt.Errorf("hand-off to Pub/Sub: %w", err)
		}
		closers = append(closers, pub)
		deps.Handoff = topicHandoff{pub: pub}
		slog.Info("handing webhooks off to Pub/Sub", "project", pc.ProjectID, "topic", pc.Topic)
	case cfg.HandoffTasksQueue != "":
		tc, _ := cfg.tasksConfig() // validated
		sched, err := cloudtasks.New(ctx, tc)
		if err != nil {
			return nil, fmt.Errorf("hand-off to Cloud Tasks: %w", err)
		}
		closers = append(closers, sched)
		deps.Handoff = taskHandoff{sched: sched}
		slog.Info("handing webhooks off to Cloud Tasks", "queue", cfg.HandoffTasksQueue, "target", cfg.HandoffTasksURL)
	default:
		slog.Info("no hand-off configured: handleWebhook runs inline")
	}
	switch cfg.ProcessAuth {
	case ProcessOIDC:
		v, err := oidc.NewVerifier(ctx, cfg.ProcessAudience, cfg.ProcessServiceAccount)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("PROCESS_AUTH=oidc: %w", err)
		}
		deps.PushVerifier = v
	case ProcessNone:
		slog.Warn("POST /process accepts unauthenticated pushes (PROCESS_AUTH=none): only for local runs")
	}

	rc, err := New(cfg, deps)
	if err != nil {
		closeAll()
		return nil, err
	}
	rc.closers = closers
	return rc, nil
}

// readSecret reads the whsec_ secret(s) of cfg.SecretName. The payload is
// one or more space-separated whsec_ secrets, or hookrun's endpoint secret
// JSON {"signing_secret": "whsec_…", …}. Errors never hold the payload.
func readSecret(ctx context.Context, cfg Config) (string, error) {
	project := secretNamePattern.FindStringSubmatch(cfg.SecretName)[1] // validated
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	store, err := secretmanager.New(ctx, secretmanager.Config{ProjectID: project, Endpoint: cfg.SecretManagerEndpoint})
	if err != nil {
		return "", fmt.Errorf("WEBHOOK_SECRET_NAME: %w", err)
	}
	defer store.Close()
	data, err := store.Access(ctx, cfg.SecretName)
	if err != nil {
		return "", fmt.Errorf("WEBHOOK_SECRET_NAME: %w", err)
	}
	secret, err := signingSecret(data)
	if err != nil {
		return "", fmt.Errorf("WEBHOOK_SECRET_NAME %s: %w", cfg.SecretName, err)
	}
	return secret, nil
}

// signingSecret returns the whsec_ secret(s) in a Secret Manager payload.
func signingSecret(data []byte) (string, error) {
	s := strings.TrimSpace(string(data))
	if strings.HasPrefix(s, "{") {
		var es hookrun.EndpointSecret
		if json.Unmarshal(data, &es) != nil {
			return "", errors.New("payload is neither a whsec_ secret nor JSON with signing_secret")
		}
		s = strings.TrimSpace(es.SigningSecret)
	}
	if s == "" {
		return "", errors.New("payload holds no signing secret")
	}
	if _, err := parseKeys(s); err != nil {
		return "", err
	}
	return s, nil
}
