package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// senderVerifier is what the Slack, GitHub and Stripe verifiers have in
// common.
type senderVerifier interface {
	VerifyAt(h http.Header, body []byte, now time.Time) error
}

// senderCase is one request to a sender's verifier, and the reason it
// fails (nil: it verifies).
type senderCase struct {
	name string
	v    senderVerifier
	h    http.Header
	body string
	now  time.Time
	want error
}

func runSenderCases(t *testing.T, cases []senderCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.VerifyAt(tt.h, []byte(tt.body), tt.now)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("VerifyAt = %v, want nil", err)
			case tt.want != nil && (!errors.Is(err, tt.want) || !errors.Is(err, verify.ErrUnverified)):
				t.Fatalf("VerifyAt = %v, want ErrUnverified and %v", err, tt.want)
			}
			if err != nil {
				checkQuiet(t, err)
			}
		})
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Slack's documented example request: its signing secret, timestamp, body
// (a slash command) and X-Slack-Signature, from "Verifying requests from
// Slack".
const (
	slackDocSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackDocTimestamp = "1531420618"
	slackDocBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestSlack(t *testing.T) {
	sent := time.Unix(must(strconv.ParseInt(slackDocTimestamp, 10, 64)), 0)
	v := must(verify.NewSlack(slackDocSecret))
	rotating := must(verify.NewSlack("old-signing-secret", slackDocSecret))
	other := must(verify.NewSlack("another-signing-secret"))
	doc := header(verify.HeaderSlackTimestamp, slackDocTimestamp, verify.HeaderSlackSignature, slackDocSignature)
	runSenderCases(t, []senderCase{
		{"Slack's example", v, doc, slackDocBody, sent, nil},
		{"header names in lower case", v, http.Header{"x-slack-request-timestamp": {slackDocTimestamp}, "x-slack-signature": {slackDocSignature}}, slackDocBody, sent, nil},
		{"received 5 minutes later", v, doc, slackDocBody, sent.Add(verify.SlackTolerance), nil},
		{"receiver holds two secrets", rotating, doc, slackDocBody, sent, nil},
		{"tampered body", v, doc, strings.Replace(slackDocBody, "roadrunner", "coyote", 1), sent, verify.ErrNoMatch},
		{"another secret", other, doc, slackDocBody, sent, verify.ErrNoMatch},
		{"stale", v, doc, slackDocBody, sent.Add(verify.SlackTolerance + time.Second), verify.ErrTimestampTooOld},
		{"future-dated", v, doc, slackDocBody, sent.Add(-verify.SlackTolerance - time.Second), verify.ErrTimestampTooNew},
		{"timestamp changed", v, header(verify.HeaderSlackTimestamp, "1531420619", verify.HeaderSlackSignature, slackDocSignature), slackDocBody, sent, verify.ErrNoMatch},
		{"timestamp not a number", v, header(verify.HeaderSlackTimestamp, "soon", verify.HeaderSlackSignature, slackDocSignature), slackDocBody, sent, verify.ErrInvalidTimestamp},
		{"other version", v, header(verify.HeaderSlackTimestamp, slackDocTimestamp, verify.HeaderSlackSignature, "v1="+slackDocSignature[3:]), slackDocBody, sent, verify.ErrNoMatch},
		{"no signature", v, header(verify.HeaderSlackTimestamp, slackDocTimestamp), slackDocBody, sent, verify.ErrMissingHeaders},
		{"no timestamp", v, header(verify.HeaderSlackSignature, slackDocSignature), slackDocBody, sent, verify.ErrMissingHeaders},
	})
}

// GitHub's documented test values, from "Validating webhook deliveries".
const (
	githubDocSecret    = "It's a Secret to Everybody"
	githubDocBody      = "Hello, World!"
	githubDocSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestGitHub(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v := must(verify.NewGitHub(githubDocSecret))
	doc := header(verify.HeaderGitHubSignature, githubDocSignature)
	runSenderCases(t, []senderCase{
		{"GitHub's test values", v, doc, githubDocBody, now, nil},
		{"any time: GitHub signs none", v, doc, githubDocBody, now.Add(100 * 24 * time.Hour), nil},
		{"hex in upper case: the same MAC", v, header(verify.HeaderGitHubSignature, "sha256="+strings.ToUpper(githubDocSignature[7:])), githubDocBody, now, nil},
		{"receiver holds two secrets", must(verify.NewGitHub("old secret", githubDocSecret)), doc, githubDocBody, now, nil},
		{"tampered body", v, doc, githubDocBody + "!", now, verify.ErrNoMatch},
		{"another secret", must(verify.NewGitHub("It's a Secret to Nobody")), doc, githubDocBody, now, verify.ErrNoMatch},
		{"no sha256= prefix", v, header(verify.HeaderGitHubSignature, githubDocSignature[7:]), githubDocBody, now, verify.ErrNoMatch},
		{"the SHA-1 header only", v, header("X-Hub-Signature", "sha1=01234567"), githubDocBody, now, verify.ErrMissingHeaders},
	})
}

// stripeSign is a Stripe-Signature header by Stripe's documented scheme:
// t, then a v1 per secret, the hex HMAC-SHA256 of "t.body" keyed with the
// secret as it is. Stripe's own library signing the same is checked in
// hookrun's internal/receivertest.
func stripeSign(t int64, body string, secrets ...string) string {
	h := "t=" + strconv.FormatInt(t, 10)
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte(strconv.FormatInt(t, 10) + "." + body))
		h += ",v1=" + hex.EncodeToString(m.Sum(nil))
	}
	return h
}

func TestStripe(t *testing.T) {
	const (
		secret = "whsec_test_secret_0123456789abcdef"
		body   = `{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_1"}}}`
	)
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	v := must(verify.NewStripe(secret))
	sig := func(h string) http.Header { return header(verify.HeaderStripeSignature, h) }
	tol := int64(verify.StripeTolerance / time.Second)
	runSenderCases(t, []senderCase{
		{"signed", v, sig(stripeSign(ts, body, secret)), body, now, nil},
		{"300 s old", v, sig(stripeSign(ts-tol, body, secret)), body, now, nil},
		{"stale", v, sig(stripeSign(ts-tol-1, body, secret)), body, now, verify.ErrTimestampTooOld},
		{"future-dated", v, sig(stripeSign(ts+tol+1, body, secret)), body, now, verify.ErrTimestampTooNew},
		{"rolling: two v1, receiver has the new secret", v, sig(stripeSign(ts, body, "whsec_old", secret)), body, now, nil},
		{"rolling: receiver holds both secrets", must(verify.NewStripe("whsec_old", secret)), sig(stripeSign(ts, body, secret)), body, now, nil},
		{"with a v0 signature, which is ignored", v, sig(stripeSign(ts, body, secret) + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"), body, now, nil},
		{"spaces after commas", v, sig(strings.ReplaceAll(stripeSign(ts, body, secret), ",", ", ")), body, now, nil},
		{"tampered body", v, sig(stripeSign(ts, body, secret)), strings.Replace(body, "cs_test_1", "cs_test_2", 1), now, verify.ErrNoMatch},
		{"timestamp changed", v, sig(strings.Replace(stripeSign(ts, body, secret), strconv.FormatInt(ts, 10), strconv.FormatInt(ts-1, 10), 1)), body, now, verify.ErrNoMatch},
		{"another secret", v, sig(stripeSign(ts, body, "whsec_other")), body, now, verify.ErrNoMatch},
		{"secret decoded, not as it is", v, sig(stripeSign(ts, body, secret[len("whsec_"):])), body, now, verify.ErrNoMatch},
		{"v0 only", v, sig("t=" + strconv.FormatInt(ts, 10) + ",v0=" + stripeSign(ts, body, secret)[len("t=1800000000,v1="):]), body, now, verify.ErrMissingHeaders},
		{"no t", v, sig(stripeSign(ts, body, secret)[len("t=1800000000,"):]), body, now, verify.ErrMissingHeaders},
		{"t not a number", v, sig("t=soon,v1=00"), body, now, verify.ErrInvalidTimestamp},
		{"no header", v, http.Header{}, body, now, verify.ErrMissingHeaders},
	})
}

func TestNewSenderVerifierNeedsASecret(t *testing.T) {
	for name, err := range map[string]error{
		"slack":  second(verify.NewSlack()),
		"github": second(verify.NewGitHub("")),
		"stripe": second(verify.NewStripe("", "")),
	} {
		if !errors.Is(err, verify.ErrNoSecret) {
			t.Errorf("%s with no secret: %v, want ErrNoSecret", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
