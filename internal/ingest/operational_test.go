package ingest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestProducersCannotSendOperationalTypes(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	for _, typ := range []string{hookrun.TypeEndpointDisabled, "hookrun.anything"} {
		t.Run(typ, func(t *testing.T) {
			w := e.do(t, http.MethodPost, "/v1/events", key, `{"type":"`+typ+`","data":{}}`)
			wantError(t, w, http.StatusBadRequest, hookrun.CodeInvalidArgument, "reserved")
		})
	}
	if n := len(e.pub.published()); n != 0 {
		t.Errorf("%d messages published, want 0", n)
	}
}

// operational returns the operational events published, by type.
func (e *env) operational(t *testing.T) map[string][]published {
	t.Helper()
	out := map[string][]published{}
	for _, m := range e.pub.published() {
		if typ := m.attrs[wire.AttrEventType]; hookrun.IsOperational(typ) {
			if m.attrs[wire.AttrSource] != hookrun.SourceHookrun {
				t.Errorf("%s published with source %q, want %q", typ, m.attrs[wire.AttrSource], hookrun.SourceHookrun)
			}
			out[typ] = append(out[typ], m)
		}
	}
	return out
}

func TestEndpointChangesNotifyTheTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	ep := e.createEndpoint(t, "acme", key, "https://example.com/hooks")
	path := "/v1/tenants/acme/endpoints/" + ep.ID

	steps := []struct {
		name, body, want string
	}{
		{"disable", `{"enabled":false}`, hookrun.TypeEndpointDisabled},
		{"disable again changes nothing", `{"enabled":false}`, ""},
		{"enable", `{"enabled":true}`, hookrun.TypeEndpointEnabled},
		{"other settings", `{"description":"x"}`, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := e.operational(t)
			if w := e.do(t, http.MethodPatch, path, key, s.body); w.Code != http.StatusOK {
				t.Fatalf("PATCH %s: %d %s", s.body, w.Code, w.Body)
			}
			after := e.operational(t)
			for _, typ := range hookrun.OperationalTypes {
				want := len(before[typ])
				if typ == s.want {
					want++
				}
				if got := len(after[typ]); got != want {
					t.Errorf("%s notices = %d, want %d", typ, got, want)
				}
			}
		})
	}
	var n hookrun.EndpointDisabledNotice
	if err := json.Unmarshal(e.operational(t)[hookrun.TypeEndpointDisabled][0].data, &n); err != nil {
		t.Fatal(err)
	}
	if n.EndpointID != ep.ID || n.Cause != hookrun.DisabledByAPI || n.Reason == "" {
		t.Errorf("disabling notice = %+v, want endpoint %s, cause api, with the reason", n, ep.ID)
	}
}

func TestFailedChallengeNotifiesTheTenant(t *testing.T) {
	e := newEnv(t, nil)
	key := e.createTenant(t, "acme")
	e.challenger.err = errors.New("the endpoint answered 404")
	ep := e.createEndpoint(t, "acme", key, "https://example.com/hooks")

	got := e.operational(t)[hookrun.TypeEndpointVerificationFailed]
	if len(got) != 1 {
		t.Fatalf("%d verification_failed notices, want 1", len(got))
	}
	var n hookrun.EndpointVerificationFailedNotice
	if err := json.Unmarshal(got[0].data, &n); err != nil {
		t.Fatal(err)
	}
	if n.EndpointID != ep.ID || n.Error != "the endpoint answered 404" || n.FailedAt.IsZero() {
		t.Errorf("notice = %+v, want endpoint %s with the challenge's error and time", n, ep.ID)
	}
}
