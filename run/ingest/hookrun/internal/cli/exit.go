package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Exit codes of hookrun. Scripts branch on them, so they only ever gain
// members; the README's CLI section lists them.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitError: any failure no other code names, such as the API
	// refusing a request as invalid.
	ExitError = 1
	// ExitUsage: the command line is wrong (unknown command or flag, a
	// missing argument, a value that does not parse); nothing was sent.
	ExitUsage = 2
	// ExitNotFound: the tenant, endpoint, event, dead letter or replay
	// does not exist (404).
	ExitNotFound = 3
	// ExitAuth: no credential, or the API refused it (401, 403).
	ExitAuth = 4
	// ExitPartial: part of a batch or bulk operation failed (a batch with
	// refused events); the output says which.
	ExitPartial = 5
	// ExitConflict: the thing to create exists already (409).
	ExitConflict = 6
	// ExitTemporary: worth retrying later, unchanged: the API was
	// unavailable or over a limit (429, 503), the network failed, or the
	// deadline passed. Events sent with their ids are safe to send again.
	ExitTemporary = 75
	// ExitInterrupted: stopped by Ctrl-C (or SIGTERM) before it finished.
	ExitInterrupted = 130
)

// usageError is a mistake on the command line, found before anything was
// sent.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// exitError ends a command with a given exit code after it wrote its
// output, such as a batch in which some events were refused.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the one place that turns a command's error into the
// process's exit code.
func exitCode(err error) int {
	var ue *usageError
	var ee *exitError
	var ne net.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, errNotLoggedIn):
		return ExitAuth
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return ExitTemporary
	}
	if code, ok := apiExitCode(err); ok {
		return code
	}
	if errors.As(err, &ne) {
		return ExitTemporary
	}
	return ExitError
}
