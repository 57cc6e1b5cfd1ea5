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

	"github.com/hookrun/hookrun/functions/receiver/verify"
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
		topic, _ := cfg.topic() // validated
		pub, err := newPublisher(ctx, topic, cfg.HandoffTimeout)
		if err != nil {
			return nil, fmt.Errorf("hand-off to Pub/Sub: %w", err)
		}
		closers = append(closers, pub)
		deps.Handoff = topicHandoff{pub: pub, topic: topic}
		slog.Info("handing webhooks off to Pub/Sub", "topic", topic)
	case cfg.HandoffTasksQueue != "":
		sched, err := newTasksQueue(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("hand-off to Cloud Tasks: %w", err)
		}
		closers = append(closers, sched)
		deps.Handoff = taskHandoff{sched: sched, queue: cfg.HandoffTasksQueue}
		slog.Info("handing webhooks off to Cloud Tasks", "queue", cfg.HandoffTasksQueue, "target", cfg.HandoffTasksURL)
	default:
		slog.Info("no hand-off configured: handleWebhook runs inline")
	}
	switch cfg.ProcessAuth {
	case ProcessOIDC:
		v, err := newOIDCVerifier(ctx, cfg.ProcessAudience, cfg.ProcessServiceAccount)
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
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	data, err := accessSecret(ctx, cfg.SecretName, cfg.SecretManagerEndpoint)
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
		var es struct {
			SigningSecret string `json:"signing_secret"`
		}
		if json.Unmarshal(data, &es) != nil {
			return "", errors.New("payload is neither a whsec_ secret nor JSON with signing_secret")
		}
		s = strings.TrimSpace(es.SigningSecret)
	}
	if s == "" {
		return "", errors.New("payload holds no signing secret")
	}
	if _, err := verify.NewVerifier(s); err != nil {
		return "", err
	}
	return s, nil
}
