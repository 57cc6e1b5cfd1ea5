package cli

import "github.com/spf13/cobra"

// commands are hookrun's commands but login (made first, since it needs no
// saved login) and completion (cobra's).
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.logoutCmd(),
		a.tenantsCmd(),
		a.producerKeysCmd(),
		a.endpointsCmd(),
		a.sendCmd(),
		a.eventsCmd(),
		a.tailCmd(),
		a.deadLettersCmd(),
		a.replayCmd(),
		a.portalCmd(),
	}
}
