package hookrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TenantStatus says whether a tenant's events are accepted.
type TenantStatus string

// Tenant statuses.
const (
	TenantActive   TenantStatus = "active"
	TenantDisabled TenantStatus = "disabled"
	// TenantDeleting is a tenant whose records are being deleted: its
	// events and API calls are refused, and it disappears when done.
	TenantDeleting TenantStatus = "deleting"
)

// DefaultDisabledReason is a disabled tenant's reason when the operator
// gives none.
const DefaultDisabledReason = "disabled by the operator"

// Tenant is one customer of the hookrun operator: it owns endpoints, API keys
// and events.
type Tenant struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Status TenantStatus `json:"status"`
	// DisabledReason says why a disabled tenant is disabled.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// RetryPolicy is the tenant's default schedule, over
	// DefaultRetryPolicy.
	RetryPolicy RetryPolicy `json:"retry_policy,omitzero"`
	// Limits bound what the tenant may use; the operator sets them.
	Limits    TenantLimits `json:"limits,omitzero"`
	CreatedAt time.Time    `json:"create_time"`
	UpdatedAt time.Time    `json:"update_time,omitzero"`
	// DeleteRequestedAt is when deletion started, for a deleting tenant.
	DeleteRequestedAt time.Time `json:"delete_time,omitzero"`
}

// EffectiveRetryPolicy is the schedule for deliveries to ep: the
// endpoint's fields over the tenant's over DefaultRetryPolicy.
func (t Tenant) EffectiveRetryPolicy(ep *Endpoint) RetryPolicy {
	return ep.RetryPolicy.Over(t.RetryPolicy.Over(DefaultRetryPolicy))
}

// Active reports whether the tenant's events are accepted and delivered.
func (t Tenant) Active() bool { return t.Status == TenantActive }

// Deleting reports whether the tenant is being deleted.
func (t Tenant) Deleting() bool { return t.Status == TenantDeleting }

// NewTenant validates id and name and returns an active tenant created now.
func NewTenant(id, name string, now time.Time) (Tenant, error) {
	if err := ValidateTenantID(id); err != nil {
		return Tenant{}, err
	}
	name, err := tenantName(name)
	if err != nil {
		return Tenant{}, err
	}
	return Tenant{ID: id, Name: name, Status: TenantActive, CreatedAt: now.UTC()}, nil
}

func tenantName(name string) (string, error) {
	name, err := CleanText("name", name, 200)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", Errorf(CodeInvalidArgument, "name: required")
	}
	return name, nil
}

// Bounds of the values a tenant's limits may take.
const (
	MaxTenantEndpoints       = 10_000
	MaxTenantEventsPerSecond = 100_000
)

// TenantLimits bound what a tenant may use. A zero field is no limit.
type TenantLimits struct {
	// MaxEndpoints bounds the tenant's endpoints: creating one more is
	// refused. Lowering it below what the tenant has deletes nothing.
	MaxEndpoints int `json:"max_endpoints,omitempty"`
	// MaxEventsPerSecond bounds the rate of the tenant's events, with a
	// burst of as many; the ingest service enforces it per instance.
	MaxEventsPerSecond int `json:"max_events_per_second,omitempty"`
}

// Validate reports the first field out of its range, by its JSON path.
func (l TenantLimits) Validate() error {
	if l.MaxEndpoints < 0 || l.MaxEndpoints > MaxTenantEndpoints {
		return Errorf(CodeInvalidArgument, "limits.max_endpoints: must be 1 to %d, or 0 for no limit", MaxTenantEndpoints)
	}
	if l.MaxEventsPerSecond < 0 || l.MaxEventsPerSecond > MaxTenantEventsPerSecond {
		return Errorf(CodeInvalidArgument, "limits.max_events_per_second: must be 1 to %d, or 0 for no limit", MaxTenantEventsPerSecond)
	}
	return nil
}

// UnmarshalJSON refuses unknown fields whatever the caller's decoder does,
// naming them by their path ("limits.rps"): encoding/json names only the
// field ("rps"), which reads as a field of the request itself. The error
// keeps encoding/json's wording so that the API's decoding errors
// (internal/httpapi) phrase it like any other unknown field.
func (l *TenantLimits) UnmarshalJSON(b []byte) error {
	type plain TenantLimits // without this method
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("json: unknown field %q", "limits."+strings.Trim(name, `"`))
		}
		return err
	}
	*l = TenantLimits(p)
	return nil
}

// TenantUpdate is a partial update of a tenant: nil fields stay as they
// are. Who may set which field is the API's decision, not this type's.
type TenantUpdate struct {
	Name *string `json:"name"`
	// RetryPolicy replaces the tenant's policy as a whole; an empty policy
	// means DefaultRetryPolicy.
	RetryPolicy *RetryPolicy  `json:"retry_policy"`
	Status      *TenantStatus `json:"status"`
	// DisabledReason applies to a tenant that is, or becomes, disabled.
	DisabledReason *string `json:"disabled_reason"`
	// Limits replace the tenant's limits as a whole: a field left out is
	// no limit.
	Limits *TenantLimits `json:"limits"`
}

// Empty reports whether u changes nothing.
func (u TenantUpdate) Empty() bool {
	return u.Name == nil && u.RetryPolicy == nil && u.Status == nil && u.DisabledReason == nil && u.Limits == nil
}

// Apply validates u and returns t with it applied at now. A deleting
// tenant cannot be updated, and no update starts a deletion. Enabling a
// tenant clears its disabled reason.
func (t Tenant) Apply(u TenantUpdate, now time.Time) (Tenant, error) {
	if t.Deleting() {
		return Tenant{}, Errorf(CodeFailedPrecondition, "tenant %q is being deleted", t.ID)
	}
	if u.Empty() {
		return Tenant{}, Errorf(CodeInvalidArgument, "body: set at least one of name, retry_policy, status, disabled_reason, limits")
	}
	if u.Name != nil {
		name, err := tenantName(*u.Name)
		if err != nil {
			return Tenant{}, err
		}
		t.Name = name
	}
	if u.RetryPolicy != nil {
		if err := u.RetryPolicy.Validate(); err != nil {
			return Tenant{}, err
		}
		t.RetryPolicy = *u.RetryPolicy
	}
	if u.Status != nil {
		switch *u.Status {
		case TenantActive:
			t.Status, t.DisabledReason = TenantActive, ""
		case TenantDisabled:
			if t.Status != TenantDisabled {
				t.Status, t.DisabledReason = TenantDisabled, DefaultDisabledReason
			}
		default:
			return Tenant{}, Errorf(CodeInvalidArgument, "status: %q is not a status you can set: use \"active\" or \"disabled\" (DELETE the tenant to delete it)", *u.Status)
		}
	}
	if u.DisabledReason != nil {
		if t.Status != TenantDisabled {
			return Tenant{}, Errorf(CodeInvalidArgument, "disabled_reason: only for a disabled tenant; set status to \"disabled\" with it")
		}
		reason, err := CleanText("disabled_reason", *u.DisabledReason, 500)
		if err != nil {
			return Tenant{}, err
		}
		if reason == "" {
			reason = DefaultDisabledReason
		}
		t.DisabledReason = reason
	}
	if u.Limits != nil {
		if err := u.Limits.Validate(); err != nil {
			return Tenant{}, err
		}
		t.Limits = *u.Limits
	}
	t.UpdatedAt = now.UTC()
	return t, nil
}

// MarkDeleting returns t as deleting since now, or t unchanged when its
// deletion already started (deletion is resumable, its start time stays).
func (t Tenant) MarkDeleting(now time.Time) Tenant {
	if t.Deleting() {
		return t
	}
	t.Status, t.DisabledReason = TenantDeleting, ""
	t.DeleteRequestedAt, t.UpdatedAt = now.UTC(), now.UTC()
	return t
}
