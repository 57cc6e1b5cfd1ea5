package hookrun

import (
	"cmp"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestTenantApply(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	active := Tenant{ID: "acme", Name: "Acme", Status: TenantActive, CreatedAt: t0}
	disabled := active
	disabled.Status, disabled.DisabledReason = TenantDisabled, "unpaid"
	policy := RetryPolicy{MaxAttempts: 3}
	limited := active
	limited.Limits = TenantLimits{MaxEndpoints: 10, MaxEventsPerSecond: 50}

	tests := []struct {
		name string
		from Tenant
		u    TenantUpdate
		want Tenant
	}{
		{"rename, trimmed", active, TenantUpdate{Name: ptr("  Acme Corp ")},
			Tenant{ID: "acme", Name: "Acme Corp", Status: TenantActive, CreatedAt: t0, UpdatedAt: t1}},
		{"retry policy", active, TenantUpdate{RetryPolicy: &policy},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, RetryPolicy: policy, CreatedAt: t0, UpdatedAt: t1}},
		{"disable without a reason", active, TenantUpdate{Status: ptr(TenantDisabled)},
			Tenant{ID: "acme", Name: "Acme", Status: TenantDisabled, DisabledReason: DefaultDisabledReason, CreatedAt: t0, UpdatedAt: t1}},
		{"disable with a reason", active, TenantUpdate{Status: ptr(TenantDisabled), DisabledReason: ptr(" fraud ")},
			Tenant{ID: "acme", Name: "Acme", Status: TenantDisabled, DisabledReason: "fraud", CreatedAt: t0, UpdatedAt: t1}},
		{"disable again keeps the reason", disabled, TenantUpdate{Status: ptr(TenantDisabled)},
			Tenant{ID: "acme", Name: "Acme", Status: TenantDisabled, DisabledReason: "unpaid", CreatedAt: t0, UpdatedAt: t1}},
		{"change the reason only", disabled, TenantUpdate{DisabledReason: ptr("fraud")},
			Tenant{ID: "acme", Name: "Acme", Status: TenantDisabled, DisabledReason: "fraud", CreatedAt: t0, UpdatedAt: t1}},
		{"blank reason is the default", disabled, TenantUpdate{DisabledReason: ptr(" ")},
			Tenant{ID: "acme", Name: "Acme", Status: TenantDisabled, DisabledReason: DefaultDisabledReason, CreatedAt: t0, UpdatedAt: t1}},
		{"enable clears the reason", disabled, TenantUpdate{Status: ptr(TenantActive)},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, CreatedAt: t0, UpdatedAt: t1}},
		{"limits", active, TenantUpdate{Limits: &TenantLimits{MaxEndpoints: MaxTenantEndpoints, MaxEventsPerSecond: 1}},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, Limits: TenantLimits{MaxEndpoints: MaxTenantEndpoints, MaxEventsPerSecond: 1}, CreatedAt: t0, UpdatedAt: t1}},
		{"limits replace the old ones as a whole", limited, TenantUpdate{Limits: &TenantLimits{MaxEndpoints: 3}},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, Limits: TenantLimits{MaxEndpoints: 3}, CreatedAt: t0, UpdatedAt: t1}},
		{"empty limits lift them", limited, TenantUpdate{Limits: &TenantLimits{}},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, CreatedAt: t0, UpdatedAt: t1}},
		{"renaming keeps the limits", limited, TenantUpdate{Name: ptr("Acme")},
			Tenant{ID: "acme", Name: "Acme", Status: TenantActive, Limits: limited.Limits, CreatedAt: t0, UpdatedAt: t1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.from.Apply(tt.u, t1)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got != tt.want {
				t.Errorf("Apply = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTenantApplyRefused(t *testing.T) {
	active := Tenant{ID: "acme", Name: "Acme", Status: TenantActive}
	deleting := active.MarkDeleting(time.Now())
	tests := []struct {
		name string
		from Tenant
		u    TenantUpdate
		code Code
		msg  string
	}{
		{"nothing", active, TenantUpdate{}, CodeInvalidArgument, "at least one"},
		{"blank name", active, TenantUpdate{Name: ptr(" ")}, CodeInvalidArgument, "name:"},
		{"long name", active, TenantUpdate{Name: ptr(strings.Repeat("n", 201))}, CodeInvalidArgument, "name:"},
		{"bad policy", active, TenantUpdate{RetryPolicy: &RetryPolicy{Jitter: 2}}, CodeInvalidArgument, "retry_policy.jitter"},
		{"status deleting", active, TenantUpdate{Status: ptr(TenantDeleting)}, CodeInvalidArgument, "status:"},
		{"unknown status", active, TenantUpdate{Status: ptr(TenantStatus("gone"))}, CodeInvalidArgument, "status:"},
		{"reason while active", active, TenantUpdate{DisabledReason: ptr("x")}, CodeInvalidArgument, "disabled_reason:"},
		{"reason when enabling", active, TenantUpdate{Status: ptr(TenantActive), DisabledReason: ptr("x")}, CodeInvalidArgument, "disabled_reason:"},
		{"long reason", active, TenantUpdate{Status: ptr(TenantDisabled), DisabledReason: ptr(strings.Repeat("r", 501))}, CodeInvalidArgument, "disabled_reason:"},
		{"deleting tenant", deleting, TenantUpdate{Name: ptr("x")}, CodeFailedPrecondition, "being deleted"},
		{"negative max endpoints", active, TenantUpdate{Limits: &TenantLimits{MaxEndpoints: -1}}, CodeInvalidArgument, "limits.max_endpoints:"},
		{"too many endpoints", active, TenantUpdate{Limits: &TenantLimits{MaxEndpoints: MaxTenantEndpoints + 1}}, CodeInvalidArgument, "limits.max_endpoints:"},
		{"negative rate", active, TenantUpdate{Limits: &TenantLimits{MaxEventsPerSecond: -5}}, CodeInvalidArgument, "limits.max_events_per_second:"},
		{"rate too high", active, TenantUpdate{Limits: &TenantLimits{MaxEventsPerSecond: MaxTenantEventsPerSecond + 1}}, CodeInvalidArgument, "limits.max_events_per_second:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.from.Apply(tt.u, time.Now())
			if ErrorCode(err) != tt.code || !strings.Contains(ErrorMessage(err), tt.msg) {
				t.Errorf("Apply: %v (%s), want %s containing %q", err, ErrorCode(err), tt.code, tt.msg)
			}
		})
	}
}

func TestTenantMarkDeleting(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tn := Tenant{ID: "acme", Status: TenantDisabled, DisabledReason: "unpaid"}
	d := tn.MarkDeleting(t0)
	if !d.Deleting() || d.Active() || d.DisabledReason != "" || !d.DeleteRequestedAt.Equal(t0) {
		t.Errorf("MarkDeleting = %+v, want deleting since %v", d, t0)
	}
	if again := d.MarkDeleting(t0.Add(time.Hour)); again != d {
		t.Errorf("MarkDeleting again = %+v, want %+v unchanged", again, d)
	}
}

func TestTenantLimitsJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     TenantLimits
		err      string // "" for none
	}{
		{"both", `{"max_endpoints":3,"max_events_per_second":20}`, TenantLimits{MaxEndpoints: 3, MaxEventsPerSecond: 20}, ""},
		{"one", `{"max_events_per_second":20}`, TenantLimits{MaxEventsPerSecond: 20}, ""},
		{"none", `{}`, TenantLimits{}, ""},
		{"unknown field named by its path", `{"rps":5}`, TenantLimits{}, `json: unknown field "limits.rps"`},
		{"wrong type", `{"max_endpoints":"3"}`, TenantLimits{}, "max_endpoints"},
		{"not an object", `5`, TenantLimits{}, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got TenantLimits
			err := json.Unmarshal([]byte(tt.in), &got)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Unmarshal(%s) = %v, want an error containing %q", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}

	// A tenant without limits leaves them out; with, only those set.
	for _, tt := range []struct {
		limits TenantLimits
		want   string
	}{
		{TenantLimits{}, ""},
		{TenantLimits{MaxEndpoints: 3}, `"limits":{"max_endpoints":3}`},
	} {
		b, err := json.Marshal(Tenant{ID: "acme", Limits: tt.limits})
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(b), `"limits"`); has != (tt.want != "") || !strings.Contains(string(b), tt.want) {
			t.Errorf("Marshal(tenant with %+v) = %s, want %s", tt.limits, b, cmp.Or(tt.want, "no limits"))
		}
	}
}
