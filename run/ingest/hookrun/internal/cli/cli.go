// Package cli holds the commands of the hookrun command line, built with
// cobra on the Go client (run/ingest/client). Each command is a small file;
// Main runs them in-process, so tests drive the real commands against an
// httptest server or the local stack and read their output and exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Env is what the commands see of the process, so tests run them in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable (os.Getenv).
	Getenv func(string) string
	// ConfigDir holds config.json, the saved logins; empty means the
	// user's config directory's hookrun folder.
	ConfigDir string
	// ReadSecret reads one line from the terminal without echoing it,
	// after writing prompt to stderr; nil when stdin is not a terminal.
	ReadSecret func(prompt string) (string, error)
	// StderrTerminal draws progress on stderr; off, long operations stay
	// quiet there and only their result is written.
	StderrTerminal bool
	// HTTPClient makes the API calls; nil means a client of its own.
	HTTPClient *http.Client
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	e := Env{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		Getenv:         os.Getenv,
		StderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		e.ReadSecret = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return e
}

// app is one run of the command line: its environment and global flags.
type app struct {
	env   Env
	flags globalFlags
	// ran is set when a command's own code starts: an error before that
	// came from cobra's parsing of the command line.
	ran bool
}

type globalFlags struct {
	profile string
	url     string
	tenant  string
	output  string
	timeout time.Duration
}

// defaultTimeout bounds each API call unless --timeout says otherwise.
const defaultTimeout = 30 * time.Second

// Main runs the command line args and returns the exit code; errors are
// written to env.Stderr.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	a := &app{env: env}
	root := a.rootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if !a.ran && !errors.As(err, new(*exitError)) {
		err = &usageError{err}
	}
	fmt.Fprintf(env.Stderr, "hookrun: %v\n", err)
	if errors.As(err, new(*usageError)) {
		fmt.Fprintln(env.Stderr, "Run 'hookrun --help' for usage.")
	}
	return exitCode(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "hookrun",
		Short: "Send events to hookrun and follow their deliveries",
		Long: `hookrun calls the hookrun API: log in once (hookrun login), then manage
tenants and endpoints, send events, read them with their delivery attempts,
follow deliveries as they happen, replay dead letters and print portal links.

Output is a table by default; -o json writes stable JSON for scripts, -o ndjson
one JSON object per line. Exit codes: 0 ok, 1 error, 2 usage, 3 not found,
4 not logged in or refused, 5 partial failure, 6 already exists,
75 temporary (retry later), 130 interrupted.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.flags.output {
			case formatTable, formatJSON, formatNDJSON:
			default:
				return usageErrorf("--output %q: want table, json or ndjson", a.flags.output)
			}
			if a.flags.timeout <= 0 {
				return usageErrorf("--timeout %v: want a positive duration", a.flags.timeout)
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.flags.profile, "profile", "", "saved login to use (default \"default\", or $"+envProfile+")")
	f.StringVar(&a.flags.url, "url", "", "API base URL (overrides $"+envURL+" and the profile)")
	f.StringVar(&a.flags.tenant, "tenant", "", "tenant to act on (overrides $"+envTenant+" and the profile)")
	f.StringVarP(&a.flags.output, "output", "o", formatTable, "output format: table, json or ndjson")
	f.DurationVar(&a.flags.timeout, "timeout", defaultTimeout, "deadline of each API request; a retried request gets it anew each attempt")
	_ = root.RegisterFlagCompletionFunc("tenant", a.completeTenants)
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatTable, formatJSON, formatNDJSON}, cobra.ShellCompDirectiveNoFileComp))

	// Before the completion command is made: it keeps the writer it sees.
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.AddCommand(a.loginCmd())
	root.AddCommand(a.commands()...)
	// cobra's own completion command (bash, zsh, fish, powershell), made a
	// group like ours: an unknown shell is a usage error.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			asGroup(c)
		}
	}
	return root
}

// run marks the command's own code as started (see app.ran) and runs fn.
func (a *app) run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		return fn(cmd, args)
	}
}

// group is a command that only holds subcommands: alone it prints its help,
// with an unknown subcommand it is a usage error.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	c.AddCommand(subs...)
	asGroup(c)
	return c
}

// asGroup makes c print its help when run alone and refuse arguments,
// which can only be a mistyped subcommand.
func asGroup(c *cobra.Command) {
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return nil
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// exactArgs is cobra.ExactArgs naming the arguments it wants.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("%s takes %d argument(s): %s; got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// completions offers items to shell completion, each as a value and its
// description; a failure to list them (no login, not allowed) offers none.
func completions[T any](items []T, err error, show func(T) (value, desc string)) ([]cobra.Completion, cobra.ShellCompDirective) {
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]cobra.Completion, len(items))
	for i, it := range items {
		out[i] = cobra.CompletionWithDesc(show(it))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
