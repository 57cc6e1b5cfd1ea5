package hookrun

import (
	"testing"
	"time"
)

func TestOperationalTypesMatchOnlyPatternsNamingTheNamespace(t *testing.T) {
	tests := []struct {
		pattern string
		typ     string
		want    bool
	}{
		{"*", TypeEndpointDisabled, false},
		{"*.endpoint.disabled", TypeEndpointDisabled, false},
		{"*.*.*", TypeEndpointDisabled, false},
		{"hookrun.*", TypeEndpointDisabled, true},
		{"hookrun.endpoint.*", TypeEndpointDisabled, true},
		{"hookrun.endpoint.*", TypeDeliveryDeadLettered, false},
		{TypeDeliveryDeadLettered, TypeDeliveryDeadLettered, true},
		{"*", "user.created", true},
		{"hookrun.*", "user.created", false},
		{"*", "hookrunner.started", true}, // the namespace is "hookrun.", not a prefix of words
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.typ, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Match(tt.typ); got != tt.want {
				t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.typ, got, tt.want)
			}
		})
	}
}

func TestCatalogueAndOperationalTypes(t *testing.T) {
	if _, err := NewCatalogue([]string{"user.created", TypeEndpointEnabled}); ErrorCode(err) != CodeInvalidArgument {
		t.Errorf("NewCatalogue with a reserved type: err = %v, want INVALID_ARGUMENT", err)
	}
	c, err := NewCatalogue([]string{"user.created"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pattern string
		ok      bool
	}{{"hookrun.*", true}, {TypeSecretRotationEnded, true}, {"hookrun.nothing", false}, {"user.*", true}} {
		ps, err := ParsePatterns([]string{tt.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckPatterns(ps); (err == nil) != tt.ok {
			t.Errorf("CheckPatterns(%q) = %v, want ok=%v", tt.pattern, err, tt.ok)
		}
	}
}

func TestOperationalEventIDs(t *testing.T) {
	ep := Endpoint{ID: "ep_1", TenantID: "acme", URL: "https://example.com/h"}
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	a, b := NewEndpointDisabled(ep, DisabledByGone, at), NewEndpointDisabled(ep, DisabledByGone, at)
	if a.ID != b.ID || ValidateEventID(a.ID) != nil || ValidateEventType(a.Type) != nil || a.Source != SourceHookrun {
		t.Errorf("disabling notices %q and %q: want one valid ID, a valid type, source hookrun", a.ID, b.ID)
	}
	if c := NewEndpointDisabled(ep, DisabledByGone, at.Add(time.Second)); c.ID == a.ID {
		t.Error("a later disabling has the same ID")
	}
	if e := NewEndpointEnabled(ep, at); e.ID == a.ID {
		t.Error("an enabling at the same time has the disabling's ID")
	}
	if got := a.WithheldFrom(); got != ep.ID {
		t.Errorf("WithheldFrom = %q, want %q", got, ep.ID)
	}
	if got := NewEndpointEnabled(ep, at).WithheldFrom(); got != "" {
		t.Errorf("enabling notice WithheldFrom = %q, want none", got)
	}

	d := Delivery{TenantID: "acme", EndpointID: "ep_1", EventID: "evt_1", DeadAt: time.Date(2025, 1, 2, 3, 1, 0, 0, time.UTC)}
	first := NewDeliveryDeadLettered(d)
	d.EventID, d.DeadAt = "evt_2", d.DeadAt.Add(3*time.Minute+59*time.Second)
	if same := NewDeliveryDeadLettered(d); same.ID != first.ID || !same.ReceivedAt.Equal(first.ReceivedAt) {
		t.Errorf("two dead letters of one window: IDs %q and %q, want one", first.ID, same.ID)
	}
	d.DeadAt = d.DeadAt.Add(time.Second)
	if next := NewDeliveryDeadLettered(d); next.ID == first.ID {
		t.Error("the next window's notice has the same ID")
	}
	d.EndpointID = "ep_2"
	if other := NewDeliveryDeadLettered(d); other.ID == first.ID {
		t.Error("another endpoint's notice has the same ID")
	}
}
