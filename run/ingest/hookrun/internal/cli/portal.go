package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) portalCmd() *cobra.Command {
	var ttl time.Duration
	c := &cobra.Command{
		Use:   "portal",
		Short: "Print a one-time link into the tenant's portal",
		Long: `portal creates a portal session and prints its link: opened once in a browser,
within --ttl, it signs the tenant's user in to the portal. It carries a secret:
hand it only to that user. The link alone goes to stdout (open "$(hookrun portal)"),
its expiry to stderr; -o json prints both.`,
		Args: exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			p, err := s.CreatePortalSession(cmd.Context(), tenant, ttl)
			if err != nil {
				return fmt.Errorf("create a portal link: %w", err)
			}
			if a.flags.output != formatTable {
				return printObject(a, p)
			}
			fmt.Fprintf(a.env.Stderr, "Open once before %s:\n", timeCell(p.ExpireTime))
			_, err = fmt.Fprintln(a.env.Stdout, p.URL)
			return err
		}),
	}
	c.Flags().DurationVar(&ttl, "ttl", 0, "how long the link may wait to be opened: 1m to 24h (default: the service's, 1h)")
	return c
}
