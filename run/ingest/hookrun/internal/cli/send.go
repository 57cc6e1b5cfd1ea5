package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// maxDataBytes bounds an event's data read from a file or stdin: the API
// takes at most 1,000,000 bytes of it.
const maxDataBytes = 1_000_000

func (a *app) sendCmd() *cobra.Command {
	var (
		typ, data, id string
		batch         bool
	)
	c := &cobra.Command{
		Use:   "send --type TYPE [--data JSON|@FILE] [--id ID] | send --batch [FILE]",
		Short: "Send an event (data from --data or stdin), or a batch of events from NDJSON",
		Long: `send sends one event: its type from --type, its data (a JSON object) from
--data, from a file with --data @FILE, or from stdin when --data is absent. It
prints the event's ID; --id makes sending it again safe (accepted once).

send --batch reads NDJSON (FILE, or stdin when FILE is absent or -): one event
per line, {"id":…,"type":…,"data":{…}}, id optional. It sends them in batch
requests of at most 500 events (POST …/events:batch), shows progress on a
terminal, and prints each event's result (accepted, duplicate or refused,
with the error) in line order. A line that is
not an event is refused without being sent. Some refused: exit 5. Give every
line an id to make sending the file again safe.

With a tenant (--tenant, HOOKRUN_TENANT or the login's) the events go to that
tenant (POST /v1/tenants/{tenant}/events): how a producer key sends, and a
tenant's own key may too. Without one, a tenant's key sends as its tenant
(POST /v1/events).`,
		Example: `  hookrun send --type user.created --data '{"name":"Ada"}'
  hookrun send --type invoice.paid --id inv-42 --data @invoice.json
  jq -c '{id, type: "user.created", data: .}' users.json | hookrun send --batch`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if batch {
				if typ != "" || data != "" || id != "" {
					return usageErrorf("send --batch takes the events' id, type and data from its input, not from --id, --type or --data")
				}
				file := ""
				if len(args) == 1 {
					file = args[0]
				}
				return a.sendBatch(cmd.Context(), file)
			}
			if len(args) > 0 {
				return usageErrorf("send takes no argument without --batch (got %q)", args[0])
			}
			if typ == "" {
				return usageErrorf("send needs --type (or --batch)")
			}
			raw, err := a.readData(data)
			if err != nil {
				return err
			}
			s, err := a.connect()
			if err != nil {
				return err
			}
			sent, err := s.send(cmd.Context(), client.Event{ID: id, Type: typ, Data: raw})
			if err != nil {
				return err
			}
			return printObject(a, struct {
				ID string `json:"id"`
			}{sent}, field{"accepted", sent})
		}),
	}
	f := c.Flags()
	f.StringVar(&typ, "type", "", "event type, such as user.created")
	f.StringVar(&data, "data", "", "the event's data: a JSON object, or @FILE (default: read stdin)")
	f.StringVar(&id, "id", "", "event ID, so that sending again is safe (default: generated)")
	f.BoolVar(&batch, "batch", false, "send NDJSON events, one per line, from FILE or stdin")
	return c
}

// readData is the event's data from --data: inline JSON, @FILE, or stdin
// when empty. It must be a JSON object.
func (a *app) readData(flag string) (json.RawMessage, error) {
	var b []byte
	switch {
	case flag == "":
		var err error
		if b, err = readBounded(a.env.Stdin, "stdin"); err != nil {
			return nil, err
		}
	case strings.HasPrefix(flag, "@"):
		f, err := os.Open(flag[1:])
		if err != nil {
			return nil, usageErrorf("--data %s: %v", flag, err)
		}
		defer f.Close()
		if b, err = readBounded(f, flag[1:]); err != nil {
			return nil, err
		}
	default:
		b = []byte(flag)
	}
	if err := checkData(b); err != nil {
		return nil, usageErrorf("the event's data: %v", err)
	}
	return json.RawMessage(bytes.TrimSpace(b)), nil
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxDataBytes {
		return nil, usageErrorf("%s: data over %d bytes, the API's limit", name, maxDataBytes)
	}
	return b, nil
}

// send sends e to the tenant the login names (the route of producer keys,
// which a tenant's key may use for its own tenant), or as the key's own
// tenant when it names none.
func (s *session) send(ctx context.Context, e client.Event) (string, error) {
	if s.creds.Tenant != "" {
		return s.SendTo(ctx, s.creds.Tenant, e)
	}
	return s.Send(ctx, e)
}
