package hookrun

import (
	"strings"
	"time"
	"unicode/utf8"
)

// TenantStatus says whether a tenant's events are accepted.
type TenantStatus string

// Tenant statuses.
const (
	TenantActive   TenantStatus = "active"
	TenantDisabled TenantStatus = "disabled"
)

// Tenant is one customer of the hookrun operator: it owns endpoints, API keys
// and events.
type Tenant struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Status TenantStatus `json:"status"`
	// RetryPolicy is the tenant's default schedule, over
	// DefaultRetryPolicy.
	RetryPolicy RetryPolicy `json:"retry_policy,omitzero"`
	CreatedAt   time.Time   `json:"create_time"`
}

// EffectiveRetryPolicy is the schedule for deliveries to ep: the
// endpoint's fields over the tenant's over DefaultRetryPolicy.
func (t Tenant) EffectiveRetryPolicy(ep *Endpoint) RetryPolicy {
	return ep.RetryPolicy.Over(t.RetryPolicy.Over(DefaultRetryPolicy))
}

// Active reports whether the tenant's events are accepted and delivered.
func (t Tenant) Active() bool { return t.Status == TenantActive }

// NewTenant validates id and name and returns an active tenant created now.
func NewTenant(id, name string, now time.Time) (Tenant, error) {
	if err := ValidateTenantID(id); err != nil {
		return Tenant{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Tenant{}, Errorf(CodeInvalidArgument, "name: required")
	}
	if utf8.RuneCountInString(name) > 200 {
		return Tenant{}, Errorf(CodeInvalidArgument, "name: at most 200 characters")
	}
	return Tenant{ID: id, Name: name, Status: TenantActive, CreatedAt: now.UTC()}, nil
}
