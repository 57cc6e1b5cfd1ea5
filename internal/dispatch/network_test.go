package dispatch_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/dispatch"
	"github.com/hookrun/hookrun/internal/hookrun"
)

func TestRedirectIsNotFollowed(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	target := newReceiver(t, nil)
	redirecting := httptestRedirect(t, target.url())
	ep, _ := e.addEndpoint(t, "acme", redirecting, []string{"*"})
	wantAck(t, e.push(t, apiMessage("3001", userCreated("evt_3"))))
	if n := len(target.requests()); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
	d, _, _ := e.store.delivery("acme", "evt_3", ep.ID)
	if d.State != hookrun.DeliveryRetrying || d.LastStatusCode != http.StatusFound || !strings.Contains(d.LastError, "redirect") {
		t.Errorf("delivery = %+v, want failed with 302 and an error about redirects", d)
	}
}

// httptestRedirect serves a 302 to target.
func httptestRedirect(t *testing.T, target string) string {
	srv := httptest.NewServer(http.RedirectHandler(target, http.StatusFound))
	t.Cleanup(srv.Close)
	return srv.URL + "/old"
}

func TestDeliveryRefusesNonPublicAddresses(t *testing.T) {
	// The production default: AllowPrivateNetworks off.
	cfg := dispatch.Config{InsecureSkipAuth: true}
	rc := newReceiver(t, nil)
	port := strconv.Itoa(rc.srv.Listener.Addr().(*net.TCPAddr).Port)
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"} {
		t.Run(host, func(t *testing.T) {
			e := newEnv(t, cfg)
			e.addTenant("acme", hookrun.TenantActive)
			ep, _ := e.addEndpoint(t, "acme", "http://"+host+":"+port+"/webhooks", []string{"*"})
			wantAck(t, e.push(t, apiMessage("9201", userCreated("evt_10"))))

			d, attempts, ok := e.store.delivery("acme", "evt_10", ep.ID)
			if !ok || d.State != hookrun.DeliveryRetrying {
				t.Fatalf("delivery = %+v (found %v), want failed", d, ok)
			}
			if len(attempts) != 1 || attempts[0].StatusCode != 0 || !strings.Contains(attempts[0].Error, "not publicly routable") {
				t.Errorf("attempts = %+v, want one without status whose error says not publicly routable", attempts)
			}
		})
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("loopback receiver got %d requests, want 0", n)
	}
}

func TestDeliveryTimeout(t *testing.T) {
	e := newEnv(t, localConfig)
	e.addTenant("acme", hookrun.TenantActive)
	release := make(chan struct{})
	hanging := newReceiver(t, nil)
	hanging.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the dispatcher gave up
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	const timeout = 300 * time.Millisecond
	ep, _ := e.addEndpoint(t, "acme", hanging.url(), []string{"*"}, func(ep *hookrun.Endpoint) { ep.Timeout = hookrun.Duration(timeout) })

	start := time.Now()
	wantAck(t, e.push(t, apiMessage("9301", userCreated("evt_11"))))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("push took %v, want about the endpoint's %v timeout", took, timeout)
	}
	d, attempts, _ := e.store.delivery("acme", "evt_11", ep.ID)
	if d.State != hookrun.DeliveryRetrying || len(attempts) != 1 {
		t.Fatalf("delivery = %+v with %d attempts, want failed after 1", d, len(attempts))
	}
	a := attempts[0]
	if a.StatusCode != 0 || a.Error != "no response within "+timeout.String() || a.Latency < timeout {
		t.Errorf("attempt = %+v, want no status, error %q, latency at least %v", a, "no response within "+timeout.String(), timeout)
	}
}
