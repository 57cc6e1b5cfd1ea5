// Package sender makes the HTTP requests hookrun sends to endpoints:
// deliveries and ownership challenges alike. Each is signed by the Standard
// Webhooks scheme (with two signatures during a secret rotation), carries
// the endpoint's credentials and custom headers, is bounded by a timeout,
// and goes through one pooled client that refuses non-public addresses.
package sender

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
)

const (
	// MaxResponseSnippet is how much of a receiver's answer is kept with an
	// attempt, to help debug it.
	MaxResponseSnippet = 1 << 10
	// maxSnippetWait bounds the time spent reading the snippet after the
	// headers: the status already decided the attempt, so a body that
	// trickles in must not hold a worker until the attempt's timeout.
	// What arrived by then is kept, and the connection is closed.
	maxSnippetWait = 300 * time.Millisecond
)

// Credentials are what an endpoint's secret versions yield.
type Credentials struct {
	// Signers sign each request; during a rotation the old and the new
	// secret both sign, so receivers holding either verify.
	Signers []*signature.Signer
	// Header authenticates hookrun to the endpoint (auth and custom
	// headers).
	Header http.Header
}

// NewCredentials builds Credentials from the endpoint's current secret and,
// during a rotation's grace period, the previous one's signing secret.
func NewCredentials(cur hookrun.EndpointSecret, previousSigningSecret string) (Credentials, error) {
	var c Credentials
	for _, s := range []string{previousSigningSecret, cur.SigningSecret} {
		if s == "" {
			continue
		}
		key, err := signature.ParseSecret(s)
		if err != nil {
			return Credentials{}, err
		}
		c.Signers = append(c.Signers, signature.NewSigner(key))
	}
	if len(c.Signers) == 0 {
		return Credentials{}, errors.New("endpoint secret has no signing secret")
	}
	c.Header = http.Header{}
	for k, v := range cur.Headers {
		c.Header.Set(k, v)
	}
	cur.Auth.Apply(c.Header)
	return c, nil
}

// UserAgent is the User-Agent of every request hookrun sends to an
// endpoint: deliveries and ownership challenges alike, so that a receiver
// can recognise (and a firewall admit) both.
const UserAgent = "hookrun/1 (+https://www.standardwebhooks.com)"

// Sender sends signed requests. It is safe for concurrent use.
type Sender struct {
	client    *http.Client
	userAgent []string // the User-Agent header's value
	now       func() time.Time
}

// contentTypeJSON is the Content-Type header's value.
var contentTypeJSON = []string{"application/json"}

// The Standard Webhooks headers' keys, canonical as Header.Set makes them.
var (
	headerID        = http.CanonicalHeaderKey(signature.HeaderID)
	headerTimestamp = http.CanonicalHeaderKey(signature.HeaderTimestamp)
	headerSignature = http.CanonicalHeaderKey(signature.HeaderSignature)
)

// New returns a Sender that sends userAgent (UserAgent but in tests).
// allowPrivate lets it reach loopback and private
// addresses (local stack only).
func New(allowPrivate bool, userAgent string) *Sender {
	return &Sender{client: newHTTPClient(allowPrivate), userAgent: []string{userAgent}, now: time.Now}
}

// Send POSTs body to endpointURL once, signed for webhookID, within
// timeout, and returns the attempt's outcome (its Number is the caller's to
// set). The status decides the outcome; Latency is the wait for it, and
// Error, shown to the tenant, is a category from describe.
func (s *Sender) Send(ctx context.Context, endpointURL string, timeout time.Duration, creds Credentials, webhookID string, body []byte) hookrun.Attempt {
	start := s.now()
	a := hookrun.Attempt{StartedAt: start.UTC()}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, bytes.NewReader(body))
	if err != nil {
		a.Error = "invalid endpoint URL"
		return a
	}
	for k, v := range creds.Header {
		req.Header[k] = v
	}
	ts := start.Unix()
	// The keys are canonical already; the constant values are shared
	// (net/http only reads a request's headers).
	req.Header["Content-Type"] = contentTypeJSON
	req.Header["User-Agent"] = s.userAgent
	req.Header[headerID] = []string{webhookID}
	req.Header[headerTimestamp] = []string{strconv.FormatInt(ts, 10)}
	req.Header[headerSignature] = []string{sign(creds.Signers, webhookID, ts, body)}

	ctx, span := startRequest(ctx, req)
	var p progress
	req = req.WithContext(httptrace.WithClientTrace(ctx, p.trace()))

	resp, err := s.client.Do(req)
	a.Latency = time.Since(start)
	defer func() { endRequest(span, a.StatusCode, a.Error) }()
	if err != nil {
		a.Error = describe(err, timeout, &p)
		// The raw error names the address and port reached: for the
		// operator only. Unwrapped from its *url.Error, whose message
		// holds the URL and so maybe a token in its query.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		slog.InfoContext(ctx, "endpoint request failed", "host", req.URL.Host, "error_category", a.Error, "error", err.Error())
		return a
	}
	if resp.Body != http.NoBody { // an answer without a body (204, or Content-Length: 0) has nothing to read
		// Cancelling the request once maxSnippetWait is over ends a slow
		// read and closes the connection rather than return it to the
		// pool half-read.
		snippetTimer := time.AfterFunc(maxSnippetWait, cancel)
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSnippet))
		// Drain a little more so the connection can be reused, then give up.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		snippetTimer.Stop()
		if utf8.Valid(snippet) {
			a.ResponseBody = string(snippet)
		}
	}
	resp.Body.Close()
	a.StatusCode = resp.StatusCode
	a.RetryAfter = resp.Header.Get("Retry-After")
	if !a.Succeeded() {
		a.Error = "endpoint answered " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			a.Error += " (redirects are not followed)"
		}
	}
	return a
}

// sign returns the webhook-signature value: one "v1,…" per signer,
// space-separated.
func sign(signers []*signature.Signer, id string, ts int64, body []byte) string {
	if len(signers) == 1 {
		return signers[0].Sign(id, ts, body)
	}
	sigs := make([]string, len(signers))
	for i, s := range signers {
		sigs[i] = s.Sign(id, ts, body)
	}
	return strings.Join(sigs, " ")
}
