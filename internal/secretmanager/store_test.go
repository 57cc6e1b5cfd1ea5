package secretmanager_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	emulator "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/testenv"
)

// newStore runs the adapter against an in-process emulator on a free
// loopback port, in a project no other test uses.
func newStore(t *testing.T) (*secretmanager.Store, string) {
	t.Helper()
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	project := testenv.ProjectID(t)
	st, err := secretmanager.New(t.Context(), secretmanager.Config{ProjectID: project, Endpoint: em.Addr()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Runs before the emulator's cleanup: the client hangs up first.
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st, project
}

func TestStoreLifecycle(t *testing.T) {
	st, project := newStore(t)
	ctx := t.Context()
	secret := "projects/" + project + "/secrets/ep_1"
	var (
		v1, v2, v3 string
		err        error
	)

	// Steps run in order, each on the state the previous ones left.
	steps := []struct {
		name string
		run  func() error
	}{
		{"create returns version 1", func() error {
			v1, err = st.Create(ctx, "ep_1", []byte("whsec_one"))
			return wantVersion(v1, err, secret+"/versions/1")
		}},
		{"access version 1", func() error { return wantPayload(st.Access(ctx, v1))("whsec_one") }},
		{"retried create adds version 2", func() error {
			v2, err = st.Create(ctx, "ep_1", []byte("whsec_two"))
			return wantVersion(v2, err, secret+"/versions/2")
		}},
		{"add version 3", func() error {
			v3, err = st.AddVersion(ctx, "ep_1", []byte("whsec_three"))
			return wantVersion(v3, err, secret+"/versions/3")
		}},
		{"old versions stay readable", func() error { return wantPayload(st.Access(ctx, v2))("whsec_two") }},
		{"disable version 1", func() error { return st.DisableVersion(ctx, v1) }},
		{"disable is repeatable", func() error { return st.DisableVersion(ctx, v1) }},
		{"disabled version cannot be read", func() error {
			_, err := st.Access(ctx, v1)
			return wantErr(err, false)
		}},
		{"newest still readable", func() error { return wantPayload(st.Access(ctx, v3))("whsec_three") }},
		{"delete", func() error { return st.Delete(ctx, "ep_1") }},
		{"deleted versions are not found", func() error {
			_, err := st.Access(ctx, v3)
			return wantErr(err, true)
		}},
		{"delete missing is fine", func() error { return st.Delete(ctx, "ep_1") }},
		{"disable missing is fine: nothing is left to disable", func() error { return st.DisableVersion(ctx, v3) }},
		{"add version to missing secret is not found", func() error {
			_, err := st.AddVersion(ctx, "ep_1", []byte("x"))
			return wantErr(err, true)
		}},
		{"create again starts at version 1", func() error {
			v, err := st.Create(ctx, "ep_1", []byte("whsec_new"))
			return wantVersion(v, err, secret+"/versions/1")
		}},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
}

func TestAccessMissing(t *testing.T) {
	st, project := newStore(t)
	if _, err := st.Create(t.Context(), "exists", []byte("x")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	tests := []struct {
		name    string
		version string
	}{
		{"missing secret", "projects/" + project + "/secrets/missing/versions/1"},
		{"missing version", "projects/" + project + "/secrets/exists/versions/2"},
		{"other project", "projects/" + project + "-other/secrets/exists/versions/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Access(t.Context(), tt.version)
			if !errors.Is(err, secretmanager.ErrNotFound) {
				t.Errorf("Access(%s): got %v, want ErrNotFound", tt.version, err)
			}
		})
	}
}

func TestErrorsNeverContainPayload(t *testing.T) {
	st, _ := newStore(t)
	payload := []byte("whsec_TOPSECRET")
	huge := bytes.Repeat(payload, 64*1024/len(payload)+1)

	tests := []struct {
		name string
		call func() error
	}{
		{"create with an invalid ID", func() error {
			_, err := st.Create(t.Context(), "bad/id", payload)
			return err
		}},
		{"create over the size limit", func() error {
			_, err := st.Create(t.Context(), "big", huge)
			return err
		}},
		{"add version to a missing secret", func() error {
			_, err := st.AddVersion(t.Context(), "missing", payload)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("error %q contains the payload", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     secretmanager.Config
		wantErr bool
	}{
		{"project only", secretmanager.Config{ProjectID: "hookrun-prod"}, false},
		{"with emulator", secretmanager.Config{ProjectID: "p", Endpoint: "127.0.0.1:8089"}, false},
		{"no project", secretmanager.Config{Endpoint: "127.0.0.1:8089"}, true},
		{"resource name", secretmanager.Config{ProjectID: "projects/p"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate: got %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func wantVersion(got string, err error, want string) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("got version %s, want %s", got, want)
	}
	return nil
}

// wantPayload checks an Access result; it reports lengths, not contents, on a
// mismatch, as code handling secrets should.
func wantPayload(got []byte, err error) func(want string) error {
	return func(want string) error {
		if err != nil {
			return err
		}
		if string(got) != want {
			return errors.New("payload differs from the one stored")
		}
		return nil
	}
}

// wantErr checks that err is an error, ErrNotFound or not as notFound says.
func wantErr(err error, notFound bool) error {
	switch {
	case err == nil:
		return errors.New("got nil error, want one")
	case errors.Is(err, secretmanager.ErrNotFound) != notFound:
		return fmt.Errorf("got %v, want errors.Is(err, ErrNotFound) = %t", err, notFound)
	}
	return nil
}

// A request Secret Manager refuses (INVALID_ARGUMENT, FAILED_PRECONDITION,
// or over a limit checked here) fails the same way however often it is
// retried: the error is coded, so callers answer it as a refusal rather
// than as an outage to retry.
func TestRefusalsAreCoded(t *testing.T) {
	st, project := newStore(t)
	ctx := t.Context()
	v1, err := st.Create(ctx, "ep_1", []byte("whsec_one"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := st.DisableVersion(ctx, v1); err != nil {
		t.Fatalf("DisableVersion: %v", err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"payload over 64 KiB", func() error {
			_, err := st.Create(ctx, "big", bytes.Repeat([]byte("x"), 64<<10+1))
			return err
		}},
		{"version over 64 KiB", func() error {
			_, err := st.AddVersion(ctx, "ep_1", bytes.Repeat([]byte("x"), 64<<10+1))
			return err
		}},
		{"invalid secret ID", func() error {
			_, err := st.Create(ctx, "bad/id", []byte("x"))
			return err
		}},
		{"disabled version", func() error {
			_, err := st.Access(ctx, v1)
			return err
		}},
		{"malformed version name", func() error {
			_, err := st.Access(ctx, "projects/"+project+"/ep_1")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var coded *hookrun.Error
			if !errors.As(err, &coded) || coded.Code == hookrun.CodeUnavailable {
				t.Errorf("got %v, want a coded refusal, not UNAVAILABLE", err)
			}
		})
	}
}
