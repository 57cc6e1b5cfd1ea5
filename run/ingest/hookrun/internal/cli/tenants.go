package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

func (a *app) tenantsCmd() *cobra.Command {
	return group("tenants", "List, create and read tenants (admin token)",
		a.tenantsListCmd(), a.tenantsCreateCmd(), a.tenantsGetCmd())
}

var tenantColumns = []column[client.Tenant]{
	{"ID", func(t client.Tenant) string { return t.ID }},
	{"NAME", func(t client.Tenant) string { return t.Name }},
	{"STATUS", func(t client.Tenant) string { return string(t.Status) }},
	{"CREATED", func(t client.Tenant) string { return timeCell(t.CreateTime) }},
}

func tenantFields(t client.Tenant) []field {
	f := []field{
		{"id", t.ID}, {"name", t.Name}, {"status", string(t.Status)},
		{"disabled reason", str(t.DisabledReason)}, {"created", timeCell(t.CreateTime)},
	}
	if l := t.Limits; l != nil {
		if l.MaxEndpoints != nil && *l.MaxEndpoints > 0 {
			f = append(f, field{"max endpoints", strconv.Itoa(*l.MaxEndpoints)})
		}
		if l.MaxEventsPerSecond != nil && *l.MaxEventsPerSecond > 0 {
			f = append(f, field{"max events/s", strconv.Itoa(*l.MaxEventsPerSecond)})
		}
	}
	return f
}

func (a *app) tenantsListCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List tenants in ID order",
		Args:  exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			s, err := a.connect()
			if err != nil {
				return err
			}
			ts, err := collect(s.Tenants(cmd.Context()), limit)
			if err != nil {
				return fmt.Errorf("list tenants: %w", err)
			}
			return printList(a, ts, tenantColumns...)
		}),
	}
	c.Flags().IntVar(&limit, "limit", 1000, "list at most this many (0: all)")
	return c
}

func (a *app) tenantsCreateCmd() *cobra.Command {
	var name string
	var maxEndpoints, maxEventsPerSecond int
	c := &cobra.Command{
		Use:   "create ID --name NAME",
		Short: "Create a tenant and print its first API key (shown only once)",
		Example: `  hookrun tenants create acme --name "Acme Inc."
  KEY=$(hookrun tenants create acme --name Acme -o json | jq -r .api_key)`,
		Args: exactArgs("ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErrorf("tenants create needs --name")
			}
			s, err := a.connect()
			if err != nil {
				return err
			}
			req := client.CreateTenantRequest{ID: args[0], Name: name}
			if maxEndpoints > 0 || maxEventsPerSecond > 0 {
				req.Limits = &client.TenantLimits{MaxEndpoints: optionalInt(maxEndpoints), MaxEventsPerSecond: optionalInt(maxEventsPerSecond)}
			}
			t, err := s.CreateTenant(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("create tenant %s: %w", args[0], err)
			}
			return printObject(a, t, append(tenantFields(t.Tenant),
				field{"api key id", t.APIKeyID}, field{"api key", t.APIKey + "  (shown only now)"})...)
		}),
	}
	c.Flags().StringVar(&name, "name", "", "display name")
	c.Flags().IntVar(&maxEndpoints, "max-endpoints", 0, "limit on the tenant's endpoints (0: none)")
	c.Flags().IntVar(&maxEventsPerSecond, "max-events-per-second", 0, "limit on the tenant's sends (0: none)")
	return c
}

func (a *app) tenantsGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get [ID]",
		Short: "Show a tenant (default: the login's tenant)",
		Args:  cobra.MaximumNArgs(1),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			s, err := a.connect()
			if err != nil {
				return err
			}
			id := ""
			if len(args) == 1 {
				id = args[0]
			} else if id, err = s.tenant(); err != nil {
				return err
			}
			t, err := s.GetTenant(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("get tenant %s: %w", id, err)
			}
			return printObject(a, t, tenantFields(*t)...)
		}),
	}
}

// optionalInt is nil for 0, a value the API takes as "not set".
func optionalInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// completeTenants offers tenant IDs to shell completion of --tenant, when
// the saved login may list them (the admin token).
func (a *app) completeTenants(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	s, err := a.connect()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ts, err := collect(s.Tenants(cmd.Context()), 1000)
	return completions(ts, err, func(t client.Tenant) (string, string) { return t.ID, t.Name })
}
