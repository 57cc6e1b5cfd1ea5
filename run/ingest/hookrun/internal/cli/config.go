package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables that override the saved login, for scripts and CI
// that keep the key in a secret store rather than a file.
const (
	envURL     = "HOOKRUN_URL"
	envKey     = "HOOKRUN_KEY"
	envTenant  = "HOOKRUN_TENANT"
	envProfile = "HOOKRUN_PROFILE"
)

// defaultProfile is the profile used when neither --profile nor
// HOOKRUN_PROFILE names one.
const defaultProfile = "default"

// maxConfigBytes bounds the read of the config file: it holds a few
// profiles of three short strings each.
const maxConfigBytes = 1 << 20

// errNotLoggedIn says a command needs a base URL or key that no flag,
// variable or profile gave.
var errNotLoggedIn = errors.New("not logged in")

// Profile is one saved login: where the API is, the key to call it with,
// and the tenant commands act on when --tenant is not given.
type Profile struct {
	URL    string `json:"url"`
	Key    string `json:"key"`
	Tenant string `json:"tenant,omitempty"`
}

// configFile is the saved logins, by profile name. The file is the user's
// alone (0600): it holds API keys.
type configFile struct {
	Profiles map[string]Profile `json:"profiles"`
}

// configPath is the file of saved logins in dir, the user's config
// directory's hookrun folder when dir is empty.
func configPath(dir string) (string, error) {
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the config directory: %w", err)
		}
		dir = filepath.Join(base, "hookrun")
	}
	return filepath.Join(dir, "config.json"), nil
}

// loadConfig reads the saved logins; a missing file is no logins.
func loadConfig(path string) (configFile, error) {
	cfg := configFile{Profiles: map[string]Profile{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return cfg, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxConfigBytes {
		return cfg, fmt.Errorf("read %s: larger than %d bytes", path, maxConfigBytes)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("read %s: %w", path, err)
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]Profile{}
	}
	return cfg, nil
}

// saveConfig writes the logins to path, readable by the user only. It
// writes a temporary file and renames it, so a failed write leaves the
// previous logins as they were.
func saveConfig(path string, cfg configFile) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod says so where a umask
	// or platform might not.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save login: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save login: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	return nil
}

// credentials is what a command calls the API with, after flags,
// environment and the saved profile were combined.
type credentials struct {
	Profile string
	URL     string
	Key     string
	Tenant  string
}

// savedLogins is the file of saved logins and the profile that --profile
// or HOOKRUN_PROFILE selects in it.
type savedLogins struct {
	profile string
	path    string
	configFile
}

func (a *app) savedLogins() (savedLogins, error) {
	s := savedLogins{profile: first(a.flags.profile, a.env.Getenv(envProfile), defaultProfile)}
	var err error
	if s.path, err = configPath(a.env.ConfigDir); err != nil {
		return s, err
	}
	s.configFile, err = loadConfig(s.path)
	return s, err
}

func (s savedLogins) save() error { return saveConfig(s.path, s.configFile) }

// resolve combines, field by field, the flags (url, tenant), then the
// environment, then the saved profile: the first that is set wins.
func (a *app) resolve() (credentials, error) {
	saved, err := a.savedLogins()
	c := credentials{Profile: saved.profile}
	if err != nil {
		return c, err
	}
	p := saved.Profiles[c.Profile]
	c.URL = strings.TrimRight(first(a.flags.url, a.env.Getenv(envURL), p.URL), "/")
	c.Key = first(a.env.Getenv(envKey), p.Key)
	c.Tenant = first(a.flags.tenant, a.env.Getenv(envTenant), p.Tenant)
	if c.URL == "" || c.Key == "" {
		return c, fmt.Errorf("%w: run hookrun login --url … (profile %q), or set %s and %s", errNotLoggedIn, c.Profile, envURL, envKey)
	}
	return c, nil
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
