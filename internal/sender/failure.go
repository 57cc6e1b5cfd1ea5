package sender

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// progress is how far a request got, as told by its httptrace hooks: the
// errors of a failed TLS handshake, or of a connection lost before the
// answer, come in too many (partly unexported) types to tell apart.
// The hooks may run on the transport's dialing goroutine.
type progress struct {
	tlsFailed atomic.Bool
	connected atomic.Bool
}

func (p *progress) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				p.tlsFailed.Store(true)
			}
		},
		GotConn: func(httptrace.GotConnInfo) { p.connected.Store(true) },
	}
}

// describe turns a failed request into what the tenant reads as the
// attempt's error (and the ownership challenge's verification_error): a
// category, never the raw error, whose addresses, ports and dial outcomes
// would let a tenant map the network behind a hostname.
func describe(err error, timeout time.Duration, p *progress) string {
	var (
		nerr   net.Error
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case errors.Is(err, errForbiddenAddress):
		return errForbiddenAddress.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "no response within " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "attempt cancelled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "DNS lookup failed: no such host"
		}
		return "DNS lookup failed"
	case p.tlsFailed.Load():
		return "TLS handshake failed"
	case p.connected.Load():
		return "the endpoint closed the connection without a valid answer"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "could not connect to the endpoint"
	}
	return "request failed"
}
