package dispatch_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

func TestStoreFailureMakesPubSubRedeliver(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	rc := newReceiver(t, nil)
	ep, _ := e.addEndpoint(t, "acme", rc.url(), []string{"*"})
	msg := apiMessage("4001", userCreated("evt_4"))

	e.store.setRecordAttemptErr(errors.New("firestore: rpc error: code = Unavailable"))
	w := e.push(t, msg)
	wantNack(t, w)
	if strings.Contains(w.Body.String(), "firestore") {
		t.Errorf("nack body reveals the cause: %s", w.Body)
	}

	// The attempt was not recorded, so the redelivery sends again, with the
	// same webhook-id for the receiver to deduplicate.
	e.store.setRecordAttemptErr(nil)
	wantAck(t, e.push(t, msg))
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (the unrecorded attempt and the redelivery)", len(reqs))
	}
	if reqs[0].header.Get(signature.HeaderID) != reqs[1].header.Get(signature.HeaderID) {
		t.Error("webhook-id changed across redeliveries")
	}
	if d, _, _ := e.store.delivery("acme", "evt_4", ep.ID); d.State != hookrun.DeliverySucceeded {
		t.Errorf("delivery = %+v, want succeeded", d)
	}
}

// One endpoint whose secret cannot be read must not take the others down
// with it: their attempts run to completion and are recorded, so that the
// redelivery only concerns the broken endpoint.
func TestBrokenEndpointDoesNotCancelOthers(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	e.secrets.failed = make(chan struct{})
	// The healthy receiver answers only once the broken endpoint has failed,
	// so its attempt is in flight at that moment.
	healthy := newReceiver(t, nil)
	healthy.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-e.secrets.failed:
		case <-r.Context().Done():
			return
		}
		healthy.mu.Lock()
		healthy.reqs = append(healthy.reqs, received{header: r.Header.Clone()})
		healthy.mu.Unlock()
	})
	healthyEP, _ := e.addEndpoint(t, "acme", healthy.url(), []string{"*"})
	brokenRC := newReceiver(t, nil)
	e.addEndpoint(t, "acme", brokenRC.url(), []string{"*"}, func(ep *hookrun.Endpoint) {
		ep.SecretVersion = "projects/test/secrets/destroyed/versions/1"
	})

	wantNack(t, e.push(t, apiMessage("5101", userCreated("evt_51"))))
	d, attempts, _ := e.store.delivery("acme", "evt_51", healthyEP.ID)
	if d.State != hookrun.DeliverySucceeded {
		t.Errorf("healthy delivery = %+v, attempts %+v; want succeeded despite the other endpoint's failure", d, attempts)
	}
	if n := len(brokenRC.requests()); n != 0 {
		t.Errorf("endpoint without a secret got %d unsigned requests, want 0", n)
	}
}

func TestLookupFailuresMakePubSubRedeliver(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(*env)
	}{
		{"tenant lookup fails", func(e *env) { e.store.getTenantErr = errors.New("firestore unavailable") }},
		{"secret access fails", func(e *env) { e.secrets.err = errors.New("secret manager unavailable") }},
		{"rejection cannot be recorded", func(e *env) {
			e.store.recordRejectErr = errors.New("firestore unavailable")
			e.store.removeTenant(t, "acme") // make the message a rejection
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localConfig)
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, nil)
			e.addEndpoint(t, "acme", rc.url(), []string{"*"})
			tt.breakIt(e)
			wantNack(t, e.push(t, apiMessage("5001", userCreated("evt_5"))))
			if n := len(rc.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want 0", n)
			}
			if n := e.store.deliveryCount(); n != 0 {
				t.Errorf("%d deliveries recorded, want 0", n)
			}
		})
	}
}

func TestPushAuthentication(t *testing.T) {
	if _, err := dispatch.New(dispatch.Config{}, dispatch.Deps{Store: newTestStore(), Secrets: newFakeSecrets(), Scheduler: &fakeScheduler{}, DeadLetters: &fakePublisher{}, Events: &fakePublisher{}}); err == nil {
		t.Error("New without a verifier and with push auth on: got nil error, want a refusal")
	}

	cfg := dispatch.Config{AllowPrivateNetworks: true} // push auth on: the production default
	tests := []struct {
		name       string
		verifyErr  error
		wantStatus int
		wantSent   int
	}{
		{"token refused", errors.New("idtoken: audience does not match"), http.StatusUnauthorized, 0},
		{"token accepted", nil, http.StatusNoContent, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, cfg)
			e.verifier.err = tt.verifyErr
			e.addTenant("acme", hookrun.TenantActive)
			rc := newReceiver(t, nil)
			e.addEndpoint(t, "acme", rc.url(), []string{"*"})

			w := e.push(t, apiMessage("9101", userCreated("evt_9")))
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if strings.Contains(w.Body.String(), "audience") {
				t.Errorf("401 body reveals the verifier's error: %s", w.Body)
			}
			if len(e.verifier.seen) != 1 || e.verifier.seen[0] != "Bearer push-token" {
				t.Errorf("verifier saw %q, want the request's Authorization header once", e.verifier.seen)
			}
			if n := len(rc.requests()); n != tt.wantSent {
				t.Errorf("receiver got %d requests, want %d", n, tt.wantSent)
			}
			if tt.wantSent == 0 && (e.store.deliveryCount() != 0 || len(e.store.rejections()) != 0) {
				t.Error("an unauthenticated push left records behind")
			}
		})
	}
}
