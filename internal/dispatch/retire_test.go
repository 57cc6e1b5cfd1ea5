package dispatch_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestRetireSecretAfterGrace(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	until := time.Now().Add(-time.Second)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.PreviousSecretVersion, ep.PreviousSecretUntil = "v-old", until
	})
	e.secrets.put("v-old", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	run := func(task wire.RetireSecretTask) *httptest.ResponseRecorder {
		b, _ := json.Marshal(task)
		return serve(e, httptestRequest("/tasks/retire-secret", b))
	}

	// Too early: Cloud Tasks is told to come back.
	w := run(wire.RetireSecretTask{TenantID: "acme", EndpointID: ep.ID, Version: "v-old", At: time.Now().Add(time.Hour)})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("early task = %d, want 503", w.Code)
	}
	// The current version is never retired.
	wantAck(t, run(wire.RetireSecretTask{TenantID: "acme", EndpointID: ep.ID, Version: ep.SecretVersion, At: until}))
	if _, err := e.secrets.Access(t.Context(), ep.SecretVersion); err != nil {
		t.Errorf("current version disabled: %v", err)
	}
	// On time: disabled and forgotten.
	wantAck(t, run(wire.RetireSecretTask{TenantID: "acme", EndpointID: ep.ID, Version: "v-old", At: until}))
	if _, err := e.secrets.Access(t.Context(), "v-old"); err == nil {
		t.Error("old version still readable")
	}
	if got := e.store.endpoint("acme", ep.ID); got.PreviousSecretVersion != "" {
		t.Errorf("endpoint still names the previous version %q", got.PreviousSecretVersion)
	}
	// Twice is fine; a gone endpoint is fine.
	wantAck(t, run(wire.RetireSecretTask{TenantID: "acme", EndpointID: ep.ID, Version: "v-old", At: until}))
	wantAck(t, run(wire.RetireSecretTask{TenantID: "acme", EndpointID: "ep_gone", Version: "v-x", At: until}))
}
