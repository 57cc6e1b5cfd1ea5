package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/ingest"
)

var (
	_ ingest.Challenger = (*fakeChallenger)(nil)
	_ ingest.Scheduler  = (*fakeScheduler)(nil)
)

// fakeScheduler records scheduled tasks by name, like Cloud Tasks.
type fakeScheduler struct {
	mu    sync.Mutex
	tasks map[string]scheduledTask
}

type scheduledTask struct {
	at   time.Time
	body []byte
}

func (f *fakeScheduler) Schedule(ctx context.Context, taskID string, at time.Time, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tasks == nil {
		f.tasks = map[string]scheduledTask{}
	}
	if _, dup := f.tasks[taskID]; !dup {
		f.tasks[taskID] = scheduledTask{at: at, body: body}
	}
	return nil
}

func (s *fakeSecrets) Access(ctx context.Context, version string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disabled[version] {
		return nil, errors.New("version is disabled")
	}
	p, ok := s.versions[version]
	if !ok {
		return nil, errors.New("no such version")
	}
	return slices.Clone(p), nil
}

func (s *fakeSecrets) AddVersion(ctx context.Context, secretID string, payload []byte) (string, error) {
	if len(payload) > 64<<10 {
		return "", errSecretTooLarge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for v := range s.versions {
		if strings.HasPrefix(v, "projects/test/secrets/"+secretID+"/versions/") {
			n++
		}
	}
	v := fmt.Sprintf("projects/test/secrets/%s/versions/%d", secretID, n+1)
	s.versions[v] = slices.Clone(payload)
	s.secrets[secretID] = slices.Clone(payload)
	return v, nil
}

func (s *fakeSecrets) DisableVersion(ctx context.Context, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[version] = true
	return nil
}

// fakeChallenger answers the ownership challenge as the test says and
// records what it was asked.
type fakeChallenger struct {
	mu   sync.Mutex
	err  error
	seen []hookrun.EndpointSecret
}

func (c *fakeChallenger) Challenge(ctx context.Context, ep hookrun.Endpoint, sec hookrun.EndpointSecret) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, sec)
	return c.err
}
