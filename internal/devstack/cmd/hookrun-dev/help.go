package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
)

// parseArgs parses args with fs. Asked for (-h, -help, --help), the usage
// is the answer and goes to stdout; after a mistake it goes to stderr with
// the error. Either way the command stops before doing anything: a -h
// starts no emulator and builds nothing.
func parseArgs(fs *flag.FlagSet, args []string) error {
	var mistake bytes.Buffer
	fs.SetOutput(&mistake)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return err
	}
	os.Stderr.Write(mistake.Bytes())
	fs.SetOutput(os.Stderr)
	return err
}
