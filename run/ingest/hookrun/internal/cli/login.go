package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// maxKeyBytes bounds the key read from stdin; keys are under 100 bytes.
const maxKeyBytes = 4096

func (a *app) loginCmd() *cobra.Command {
	var keyStdin, noVerify bool
	c := &cobra.Command{
		Use:   "login --url URL [--tenant TENANT]",
		Short: "Save the API's base URL and a key (prompted for, or read from stdin)",
		Long: `login saves a base URL, a key and optionally a default tenant as a profile
(--profile, default "default") in the user's config directory, readable by the
user only. The key is prompted for without echo, or read from the first line of
stdin with --key-stdin (or when stdin is not a terminal); it never appears on
the command line. The key can be a tenant's API key, a producer key or the
admin token. Unless --no-verify, login first checks the key with a call the
credential may make: the tenant when --tenant is given, the tenants list
otherwise (a producer key, which may only send, passes when the API knows
it). HOOKRUN_URL, HOOKRUN_KEY and HOOKRUN_TENANT override a saved login.`,
		Example: `  hookrun login --url https://ingest.example.com --tenant acme
  printf '%s\n' "$HOOKRUN_ADMIN_TOKEN" | hookrun login --url http://localhost:8080 --key-stdin`,
		Args: exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if a.flags.url == "" {
				return usageErrorf("login needs --url")
			}
			u, err := url.Parse(a.flags.url)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErrorf("--url %q: want an absolute http(s) URL", a.flags.url)
			}
			key, err := a.readKey(keyStdin)
			if err != nil {
				return err
			}
			p := Profile{URL: strings.TrimRight(a.flags.url, "/"), Key: key, Tenant: a.flags.tenant}
			if !noVerify {
				if err := a.verifyLogin(cmd.Context(), p); err != nil {
					return fmt.Errorf("check the key: %w", err)
				}
			}
			saved, err := a.savedLogins()
			if err != nil {
				return err
			}
			saved.Profiles[saved.profile] = p
			if err := saved.save(); err != nil {
				return err
			}
			out := struct {
				Profile string `json:"profile"`
				URL     string `json:"url"`
				Tenant  string `json:"tenant,omitempty"`
				Path    string `json:"path"`
			}{saved.profile, p.URL, p.Tenant, saved.path}
			return printObject(a, out, field{"profile", saved.profile}, field{"url", p.URL}, field{"tenant", p.Tenant}, field{"saved in", saved.path})
		}),
	}
	c.Flags().BoolVar(&keyStdin, "key-stdin", false, "read the key from the first line of stdin instead of prompting")
	c.Flags().BoolVar(&noVerify, "no-verify", false, "save without checking the key against the API")
	return c
}

// readKey prompts for the key without echo, or reads stdin's first line.
func (a *app) readKey(fromStdin bool) (string, error) {
	var key string
	if fromStdin || a.env.ReadSecret == nil {
		line, err := bufio.NewReader(io.LimitReader(a.env.Stdin, maxKeyBytes)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read the key from stdin: %w", err)
		}
		key = line
	} else {
		var err error
		if key, err = a.env.ReadSecret("API key: "); err != nil {
			return "", fmt.Errorf("read the key: %w", err)
		}
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return "", usageErrorf("no key given: type it at the prompt or pipe it with --key-stdin")
	}
	return key, nil
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget a saved login (--profile, default \"default\")",
		Args:  exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			saved, err := a.savedLogins()
			if err != nil {
				return err
			}
			if _, ok := saved.Profiles[saved.profile]; !ok {
				return &exitError{ExitNotFound, fmt.Errorf("no saved login named %q", saved.profile)}
			}
			delete(saved.Profiles, saved.profile)
			return saved.save()
		}),
	}
}
