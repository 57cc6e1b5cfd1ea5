// Command hookrun-dev runs hookrun's local development tasks, such as the
// test suite against fresh emulators. Each subcommand lives in its own file
// and registers itself from init, so this file stays a dispatcher.
//
// Usage:
//
//	hookrun-dev [-json] <command> [arguments]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name
// and a ctx that is cancelled on SIGINT or SIGTERM; it must release what it
// started before returning.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands maps a subcommand name to its command. Add to it with register
// from the subcommand's init.
var commands = map[string]command{}

// register adds a subcommand; registering a name twice is a programming
// error caught at startup.
func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("hookrun-dev: command " + name + " registered twice")
	}
	commands[name] = c
}

// exitCoder is an error that carries the process exit code to use, such as
// a child's exit status that a command forwards.
type exitCoder interface {
	error
	ExitCode() int
}

func main() {
	flag.CommandLine.Init("hookrun-dev", flag.ContinueOnError)
	jsonLogs := flag.Bool("json", false, "log JSON instead of text to stderr")
	flag.Usage = func() { usage(flag.CommandLine.Output()) }
	if err := parseArgs(flag.CommandLine, os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		os.Exit(2)
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *jsonLogs {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.SetDefault(slog.New(h))

	name := flag.Arg(0)
	switch name {
	case "":
		usage(os.Stderr)
		os.Exit(2)
	case "help": // asked for: the answer goes to stdout
		if c, ok := commands[flag.Arg(1)]; ok {
			os.Exit(exitCode(flag.Arg(1), c.run(context.Background(), []string{"-h"}), false))
		}
		usage(os.Stdout)
		os.Exit(0)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "hookrun-dev: unknown command %q\n\n", name)
		usage(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.run(ctx, flag.Args()[1:])
	interrupted := ctx.Err() != nil
	stop()
	os.Exit(exitCode(name, err, interrupted))
}

// exitCode logs err and picks the exit status: a forwarded child status, 0
// for -h, 130 after an interrupt (as a shell would), else 1.
func exitCode(name string, err error, interrupted bool) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	slog.Error("hookrun-dev "+name+" failed", "error", err)
	var ec exitCoder
	switch {
	case errors.As(err, &ec) && ec.ExitCode() > 0:
		return ec.ExitCode()
	case interrupted:
		return 130
	default:
		return 1
	}
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: hookrun-dev [-json] <command> [arguments]\n\ncommands:\n")
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(&b, "  %-8s %s\n", name, commands[name].summary)
	}
	b.WriteString("\nflags:\n")
	flag.VisitAll(func(f *flag.Flag) { fmt.Fprintf(&b, "  -%-7s %s\n", f.Name, f.Usage) })
	b.WriteString("\nRun 'hookrun-dev <command> -h' for a command's flags.\n")
	fmt.Fprint(w, b.String())
}
