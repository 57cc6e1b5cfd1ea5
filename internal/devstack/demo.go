package devstack

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Demo is what the demo set up: a tenant with an endpoint pointing at the
// sample receiver, and one event that arrived there.
type Demo struct {
	TenantID    string
	APIKey      string
	EndpointID  string
	ReceiverURL string
	EventID     string
	// Delivered is the receiver's log line of the demo event.
	Delivered string
	// PortalURL opens the demo tenant's portal, once, until PortalExpire.
	PortalURL    string
	PortalExpire time.Time
	Watcher      *LineWatcher
}

// RunDemo creates tenant "demo" with an endpoint for user.* events at the
// sample receiver (started on receiverPort), sends one user.created event
// and waits until the receiver logs it as verified. It then asks for a
// portal link of the tenant, for the banner.
func (s *Stack) RunDemo(ctx context.Context, receiverPort int) (*Demo, error) {
	c := &Client{BaseURL: s.IngestURL}
	d := &Demo{TenantID: "demo", Watcher: NewLineWatcher()}
	var err error
	if d.APIKey, err = c.CreateTenant(ctx, s.AdminToken, d.TenantID, "Demo tenant"); err != nil {
		return nil, fmt.Errorf("create demo tenant: %w", err)
	}
	port, err := portOrFree(receiverPort)
	if err != nil {
		return nil, err
	}
	d.ReceiverURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	id, secret, err := c.CreateEndpoint(ctx, d.APIKey, d.TenantID, d.ReceiverURL+"/", []string{"user.*"})
	if err != nil {
		return nil, fmt.Errorf("create demo endpoint: %w", err)
	}
	d.EndpointID = id
	if _, err := s.StartReceiver(ctx, secret, port, d.Watcher); err != nil {
		return nil, err
	}
	// The endpoint was created before its receiver ran (the receiver needs
	// the secret hookrun made), so it is pending: verify it now.
	if err := c.VerifyEndpoint(ctx, d.APIKey, d.TenantID, d.EndpointID); err != nil {
		return nil, fmt.Errorf("verify demo endpoint: %w", err)
	}
	if d.EventID, err = c.SendEvent(ctx, d.APIKey, "", "user.created", map[string]any{"name": "Ada Lovelace", "plan": "pro"}); err != nil {
		return nil, fmt.Errorf("send demo event: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if d.Delivered, err = d.Watcher.WaitFor(wctx, `"event_id":"`+d.EventID+`"`); err != nil {
		return nil, fmt.Errorf("demo event %s did not reach the receiver: %w", d.EventID, err)
	}
	// The longest a link may wait (hookrun.MaxPortalLinkTTL): a developer
	// opens it whenever they come back to the running stack.
	if d.PortalURL, d.PortalExpire, err = c.CreatePortalSession(ctx, d.APIKey, d.TenantID, hookrun.MaxPortalLinkTTL); err != nil {
		return nil, fmt.Errorf("create demo portal link: %w", err)
	}
	return d, nil
}
