package devstack

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

// The push relay's memory of messages: a message is forgotten once its
// first push is relayForgetAfter old, or when relayMaxMessages newer ones
// are remembered (about 15 MB at most).
const (
	relayForgetAfter = 10 * time.Minute
	relayMaxMessages = 100_000
)

// pushRelay stands between the Pub/Sub emulator and the dispatcher's push
// routes and numbers the pushes of each message in the envelope's
// deliveryAttempt, as production Pub/Sub does on a subscription with a
// dead-letter policy: the emulator leaves the field out, and without it the
// dispatcher treats every message as a possible redelivery, so the local
// stack would never take the path production takes for a first message.
// An envelope that has the field is passed on unchanged. The dispatcher's
// answer is relayed back; while the dispatcher is down the relay answers
// 503 and the emulator pushes the message again.
//
// A message forgotten (see relayForgetAfter) and pushed again is counted
// from 2 when it was published before the newest forgotten message was
// first pushed: it may have been pushed before, and a first push it is
// not sure of is never called one.
type pushRelay struct {
	proxy   *httputil.ReverseProxy
	timeout time.Duration
	now     func() time.Time

	mu     sync.Mutex
	pushes map[string]*list.Element // of *relayed, by message ID
	order  list.List                // of *relayed, oldest first push first
	// forgottenBefore is the first push of the newest message forgotten.
	forgottenBefore time.Time
	// lastPush is when the newest push arrived, for Stack.WaitPushesQuiet.
	lastPush time.Time
}

// relayed is what the relay remembers of one message.
type relayed struct {
	id     string
	first  time.Time
	pushes int
}

// newPushRelay relays to the dispatcher at target (its base URL), giving
// each push timeout (at least the subscription's ack deadline) to be
// answered. log receives a line for each push the dispatcher did not
// answer.
func newPushRelay(target string, timeout time.Duration, log io.Writer) (*pushRelay, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("push relay target: %w", err)
	}
	r := &pushRelay{timeout: timeout, now: time.Now, pushes: map[string]*list.Element{}}
	r.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			fmt.Fprintf(log, "%s %s: dispatcher did not answer: %v\n", req.Method, req.URL.Path, err)
			httpapi.WriteError(w, req, hookrun.Errorf(hookrun.CodeUnavailable, "dispatcher did not answer"))
		},
	}
	return r, nil
}

// ServeHTTP relays one push.
func (r *pushRelay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, wire.MaxPushBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			httpapi.WriteError(w, req, hookrun.Errorf(hookrun.CodePayloadTooLarge, "push body over %d bytes", wire.MaxPushBody))
			return
		}
		httpapi.WriteError(w, req, hookrun.Errorf(hookrun.CodeInvalidArgument, "read push body: %v", err))
		return
	}
	// A body that is no envelope goes on as it is: the dispatcher says
	// what is wrong with it.
	if numbered, err := wire.WithDeliveryAttempt(body, r.count); err == nil {
		body = numbered
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	defer cancel()
	out := req.Clone(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	r.proxy.ServeHTTP(w, out)
}

// count records a push of m and returns its number.
func (r *pushRelay) count(m wire.Message) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastPush = r.now()
	if e, ok := r.pushes[m.MessageID]; ok {
		p := e.Value.(*relayed)
		p.pushes++
		return p.pushes
	}
	now := r.now()
	for e := r.order.Front(); e != nil && (r.order.Len() >= relayMaxMessages || now.Sub(e.Value.(*relayed).first) > relayForgetAfter); e = r.order.Front() {
		p := r.order.Remove(e).(*relayed)
		delete(r.pushes, p.id)
		if p.first.After(r.forgottenBefore) {
			r.forgottenBefore = p.first
		}
	}
	p := &relayed{id: m.MessageID, first: now, pushes: 1}
	if !r.forgottenBefore.IsZero() && !m.PublishTime.After(r.forgottenBefore) {
		p.pushes = 2
	}
	r.pushes[p.id] = r.order.PushBack(p)
	return p.pushes
}

// relayServer is a pushRelay listening on a loopback port of its own.
type relayServer struct {
	URL   string
	srv   *http.Server
	relay *pushRelay
}

// lastPush is when the relay last got a push of a message (zero: never).
func (s *relayServer) lastPush() time.Time {
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	return s.relay.lastPush
}

// startPushRelay serves a pushRelay to target on a free loopback port.
func startPushRelay(target string, timeout time.Duration, log io.Writer) (*relayServer, error) {
	r, err := newPushRelay(target, timeout, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("push relay: %w", err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &relayServer{URL: "http://" + ln.Addr().String(), srv: srv, relay: r}, nil
}

// Close stops the relay; pushes it was relaying are cut, and the emulator
// pushes them again to whatever serves the subscription next.
func (s *relayServer) Close() error { return s.srv.Close() }
