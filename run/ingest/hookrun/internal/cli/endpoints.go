package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrun/hookrun/run/ingest/client"
)

func (a *app) endpointsCmd() *cobra.Command {
	return group("endpoints", "Create, list, rotate, verify and delete a tenant's endpoints",
		a.endpointsCreateCmd(), a.endpointsListCmd(), a.endpointsGetCmd(),
		a.endpointsRotateCmd(), a.endpointsVerifyCmd(), a.endpointsDeleteCmd())
}

var endpointColumns = []column[client.Endpoint]{
	{"ID", func(e client.Endpoint) string { return e.ID }},
	{"STATUS", func(e client.Endpoint) string { return string(e.Status) }},
	{"URL", func(e client.Endpoint) string { return e.URL }},
	{"EVENT TYPES", func(e client.Endpoint) string { return strings.Join(e.EventTypes, ",") }},
	{"CREATED", func(e client.Endpoint) string { return timeCell(e.CreateTime) }},
}

func endpointFields(e client.Endpoint) []field {
	f := []field{
		{"id", e.ID}, {"tenant", e.TenantID}, {"url", e.URL},
		{"event types", strings.Join(e.EventTypes, ", ")}, {"status", string(e.Status)},
		{"disabled reason", str(e.DisabledReason)}, {"verification error", str(e.VerificationError)},
		{"description", str(e.Description)}, {"timeout", str(e.Timeout)},
		{"previous secret until", timeCell(deref(e.PreviousSecretExpireTime))},
		{"created", timeCell(e.CreateTime)},
	}
	if e.RateLimit != nil && *e.RateLimit > 0 {
		f = append(f, field{"rate limit", strconv.Itoa(*e.RateLimit) + "/s"})
	}
	return f
}

func (a *app) endpointsCreateCmd() *cobra.Command {
	var (
		url, description, attemptTimeout, onClientError string
		types                                           []string
		rateLimit                                       int
	)
	c := &cobra.Command{
		Use:   "create --url URL --type TYPE…",
		Short: "Create an endpoint and print its signing secret (shown only once)",
		Long: `create adds an endpoint for the event types given (patterns such as user.* or *).
It stays pending until it answers hookrun's ownership challenge: if the receiver
was not running yet, start it with the secret and run hookrun endpoints verify.`,
		Example: `  hookrun endpoints create --url https://acme.example/webhooks --type 'user.*' --type invoice.paid`,
		Args:    exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if url == "" || len(types) == 0 {
				return usageErrorf("endpoints create needs --url and at least one --type")
			}
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			req := client.CreateEndpointRequest{URL: url, EventTypes: types, RateLimit: optionalInt(rateLimit)}
			if description != "" {
				req.Description = &description
			}
			if attemptTimeout != "" {
				req.Timeout = &attemptTimeout
			}
			if onClientError != "" {
				req.OnClientError = client.Ptr(client.OnClientError(onClientError))
			}
			e, err := s.CreateEndpoint(cmd.Context(), tenant, req)
			if err != nil {
				return fmt.Errorf("create endpoint: %w", err)
			}
			return printObject(a, e, append(endpointFields(e.Endpoint), field{"secret", e.Secret + "  (shown only now)"})...)
		}),
	}
	f := c.Flags()
	f.StringVar(&url, "url", "", "where deliveries go (https)")
	f.StringSliceVar(&types, "type", nil, "event type or pattern to deliver (repeat, or comma-separate)")
	f.StringVar(&description, "description", "", "one line of text")
	f.StringVar(&attemptTimeout, "attempt-timeout", "", "how long each delivery attempt waits for an answer (1s to 60s; default 15s)")
	f.StringVar(&onClientError, "on-client-error", "", "what a 4xx answer does: retry (default) or dead_letter")
	f.IntVar(&rateLimit, "rate-limit", 0, "deliveries per second at most (0: no limit)")
	_ = c.RegisterFlagCompletionFunc("on-client-error", cobra.FixedCompletions([]string{string(client.OnClientErrorRetry), string(client.OnClientErrorDeadLetter)}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) endpointsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tenant's endpoints",
		Args:  exactArgs(),
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			es, err := s.ListEndpoints(cmd.Context(), tenant)
			if err != nil {
				return fmt.Errorf("list endpoints: %w", err)
			}
			return printList(a, es, endpointColumns...)
		}),
	}
}

// endpointCmd is a command on one endpoint, named by its ID.
func (a *app) endpointCmd(use, short string, do func(cmd *cobra.Command, s *session, tenant, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:               use + " ENDPOINT_ID",
		Short:             short,
		Args:              exactArgs("ENDPOINT_ID"),
		ValidArgsFunction: a.completeEndpoints,
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			s, tenant, err := a.connectTenant()
			if err != nil {
				return err
			}
			return do(cmd, s, tenant, args[0])
		}),
	}
}

func (a *app) endpointsGetCmd() *cobra.Command {
	return a.endpointCmd("get", "Show an endpoint", func(cmd *cobra.Command, s *session, tenant, id string) error {
		e, err := s.GetEndpoint(cmd.Context(), tenant, id)
		if err != nil {
			return fmt.Errorf("get endpoint %s: %w", id, err)
		}
		return printObject(a, e, endpointFields(*e)...)
	})
}

func (a *app) endpointsRotateCmd() *cobra.Command {
	var grace time.Duration
	c := a.endpointCmd("rotate", "Give an endpoint a new signing secret and print it (shown only once)", func(cmd *cobra.Command, s *session, tenant, id string) error {
		var g *time.Duration
		if cmd.Flags().Changed("grace") {
			g = &grace
		}
		e, err := s.RotateEndpointSecret(cmd.Context(), tenant, id, g)
		if err != nil {
			return fmt.Errorf("rotate the secret of endpoint %s: %w", id, err)
		}
		return printObject(a, e, append(endpointFields(e.Endpoint), field{"secret", e.Secret + "  (shown only now)"})...)
	})
	c.Flags().DurationVar(&grace, "grace", 0, "how long the old secret keeps signing beside the new one (default: the service's, 24h)")
	return c
}

func (a *app) endpointsVerifyCmd() *cobra.Command {
	return a.endpointCmd("verify", "Send an endpoint the ownership challenge again; fails unless it ends active", func(cmd *cobra.Command, s *session, tenant, id string) error {
		e, err := s.VerifyEndpoint(cmd.Context(), tenant, id)
		if err != nil {
			return fmt.Errorf("verify endpoint %s: %w", id, err)
		}
		if err := printObject(a, e, endpointFields(*e)...); err != nil {
			return err
		}
		if e.Status != client.EndpointActive {
			return &exitError{ExitError, fmt.Errorf("endpoint %s is %s: %s", id, e.Status, str(e.VerificationError))}
		}
		return nil
	})
}

func (a *app) endpointsDeleteCmd() *cobra.Command {
	return a.endpointCmd("delete", "Delete an endpoint", func(cmd *cobra.Command, s *session, tenant, id string) error {
		if err := s.DeleteEndpoint(cmd.Context(), tenant, id); err != nil {
			return fmt.Errorf("delete endpoint %s: %w", id, err)
		}
		return printObject(a, struct {
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
		}{id, true}, field{"deleted", id})
	})
}

// completeEndpoints offers the tenant's endpoint IDs to shell completion,
// when the saved login reaches the API.
func (a *app) completeEndpoints(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, tenant, err := a.connectTenant()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	es, err := s.ListEndpoints(cmd.Context(), tenant)
	return completions(es, err, func(e client.Endpoint) (string, string) { return e.ID, e.URL })
}

// connectTenant connects and names the tenant the command acts on.
func (a *app) connectTenant() (*session, string, error) {
	s, err := a.connect()
	if err != nil {
		return nil, "", err
	}
	tenant, err := s.tenant()
	if err != nil {
		return nil, "", err
	}
	return s, tenant, nil
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
