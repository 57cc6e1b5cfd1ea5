package sender

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errForbiddenAddress is returned when a delivery would connect to an
// address hookrun must not reach from inside Google Cloud.
var errForbiddenAddress = errors.New("destination address is not publicly routable")

// newHTTPClient returns the pooled client a Sender shares among all
// deliveries. It never
// follows redirects (a webhook answered 3xx is a misconfigured endpoint,
// not a success) and, unless allowPrivate, refuses to connect to any
// address that is not globally reachable (publicAddr: loopback, private,
// link-local with the metadata server, and the rest of IANA's special
// ranges); the check runs on the resolved IP, so DNS cannot smuggle one in.
// A request's context bounds it whole (connect, TLS, headers); the
// dialer's and handshake's own timeouts only cap each step.
func newHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return errForbiddenAddress
			}
			return nil
		}
	}
	return &http.Client{
		// Each request is a client span of the global tracer provider
		// (startRequest); its context goes to the endpoint only when the
		// request's context asks (WithTracePropagation), the endpoint's
		// choice. No HTTP client metrics: hookrun's attempt metrics
		// (internal/metrics) count every request, by outcome, without an
		// attribute per endpoint host, which OpenTelemetry's would add to
		// every time series.
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
