package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

func (a *app) producerKeysCmd() *cobra.Command {
	return group("producer-keys", "Create, list and revoke producer keys, which send events of many tenants (admin token)",
		a.producerKeysCreateCmd(), a.producerKeysListCmd(), a.producerKeysRevokeCmd())
}

var producerKeyColumns = []column[client.ProducerKey]{
	{"ID", func(k client.ProducerKey) string { return k.ID }},
	{"NAME", func(k client.ProducerKey) string { return str(k.Name) }},
	{"KEY", func(k client.ProducerKey) string { return k.Prefix + "…" + k.Last4 }},
	{"TENANTS", func(k client.ProducerKey) string { return tenantsText(k.Tenants) }},
	{"CREATED", func(k client.ProducerKey) string { return timeCell(k.CreateTime) }},
	{"REVOKED", func(k client.ProducerKey) string { return timeCell(deref(k.RevokeTime)) }},
}

// tenantsText is a producer key's tenants; none listed means all.
func tenantsText(ts []string) string {
	if len(ts) == 0 {
		return "all"
	}
	return strings.Join(ts, ",")
}

func (a *app) producerKeysCreateCmd() *cobra.Command {
	var (
		name    string
		tenants []string
	)
	c := &cobra.Command{
		Use:   "create [--name NAME] [--tenant-only TENANT…]",
		Short: "Create a producer key and print it (shown only once)",
		Long: `create makes a producer key: it sends events of the tenants listed with
--tenant-only, or of every tenant without it, and may do nothing else. Log in
with it and send with --tenant:

  KEY=$(hookrun producer-keys create --name billing -o json | jq -r .producer_key)
  printf '%s\n' "$KEY" | hookrun login --profile billing --url … --key-stdin
  hookrun --profile billing send --tenant acme --type invoice.paid --data '{…}'`,
		Args: exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			s, err := a.connect()
			if err != nil {
				return err
			}
			k, err := s.CreateProducerKey(cmd.Context(), name, tenants)
			if err != nil {
				return fmt.Errorf("create producer key: %w", err)
			}
			return printObject(a, k, field{"id", k.ID}, field{"name", str(k.Name)}, field{"tenants", tenantsText(k.Tenants)},
				field{"producer key", k.Key + "  (shown only now)"})
		}),
	}
	c.Flags().StringVar(&name, "name", "", "what the key is for")
	c.Flags().StringSliceVar(&tenants, "tenant-only", nil, "a tenant the key may send to (repeat, or comma-separate; default: every tenant)")
	return c
}

func (a *app) producerKeysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List producer keys, revoked ones included (never the keys)",
		Args:  exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			s, err := a.connect()
			if err != nil {
				return err
			}
			ks, err := collect(s.ProducerKeys(cmd.Context()), 0)
			if err != nil {
				return fmt.Errorf("list producer keys: %w", err)
			}
			return printList(a, ks, producerKeyColumns...)
		}),
	}
}

func (a *app) producerKeysRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke a producer key: it sends nothing from now on",
		Args:  exactArgs("KEY_ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			s, err := a.connect()
			if err != nil {
				return err
			}
			if err := s.RevokeProducerKey(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("revoke producer key %s: %w", args[0], err)
			}
			return printObject(a, struct {
				ID      string `json:"id"`
				Revoked bool   `json:"revoked"`
			}{args[0], true}, field{"revoked", args[0]})
		}),
	}
}
